/**
 * The service's only way out to the network: one registry (`artifacts.core.registry`). References
 * are built by the service itself from configured names and catalog digests — never from text a
 * schematic supplies — and the `fetch` under the registry client refuses any other host (plus the
 * configured redirect hosts), so neither a schematic, a catalog file nor a registry redirect can make
 * the service contact anything else (no SSRF).
 */
import { dependency } from '../core/errors.js';
import { readEntry } from '../core/file-tree.js';
import type { ProgressSink } from '../core/progress.js';
import type { BlobCache } from '../oci/blob-cache.js';
import { defaultKeychain, type Keychain } from '../oci/credentials.js';
import { linuxPlatform } from '../oci/platform.js';
import { RegistryClient } from '../oci/registry-client.js';
import { emptyRegistryConfig } from '../oci/registry-config.js';
import { extractImage } from '../oci/source.js';
import type { FactoryConfig } from './config.js';

/** `host[:port]` as the URL API reports it (lower case, default ports dropped). */
function urlHost(host: string, scheme: 'http' | 'https'): string {
  return new URL(`${scheme}://${host}/`).host;
}

/** A `fetch` that only reaches the allowed hosts. */
export function guardedFetch(allowedHosts: readonly string[], inner: typeof fetch = globalThis.fetch): typeof fetch {
  const allowed = new Set<string>();
  for (const h of allowedHosts) {
    allowed.add(urlHost(h, 'http'));
    allowed.add(urlHost(h, 'https'));
  }
  return ((input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (!allowed.has(url.host)) {
      // An ImagekitError is not retried by the transport.
      return Promise.reject(dependency('E_SERVE_HOST_REFUSED', `refusing to contact ${url.host}: imagekit serve only talks to the configured registry (${[...allowedHosts].join(', ')})`));
    }
    return inner(input, init);
  }) as typeof fetch;
}

export interface RegistryAccessOptions {
  keychain?: Keychain;
  /** Underlying fetch (tests); wrapped by the host guard. */
  fetch?: typeof fetch;
  progress?: ProgressSink;
}

/** The configured registry: reference building, a guarded client, tag listing, small-file reads. */
export class RegistryAccess {
  readonly client: RegistryClient;
  readonly registry: string;
  private readonly namespace: string;

  constructor(
    private readonly cfg: FactoryConfig['artifacts'],
    readonly cache: BlobCache,
    opts: RegistryAccessOptions = {},
  ) {
    this.registry = cfg.registry;
    this.namespace = cfg.namespace;
    const registryConfig = emptyRegistryConfig();
    if (cfg.insecure) registryConfig.insecure.add(cfg.registry);
    this.client = new RegistryClient({
      keychain: opts.keychain ?? defaultKeychain(),
      registryConfig,
      fetch: guardedFetch([cfg.registry, ...cfg.allowedRedirectHosts], opts.fetch),
      retries: 2,
      backoffMs: 200,
      ...(opts.progress ? { progress: opts.progress } : {}),
    });
  }

  /** The repository path on the registry for a component/extension path (namespace applied). */
  repository(path: string): string {
    return this.namespace ? `${this.namespace}/${path}` : path;
  }

  /** `<registry>/<namespace>/<path>:<tag>`. */
  tagged(path: string, tag: string): string {
    return `${this.registry}/${this.repository(path)}:${tag}`;
  }

  /** `<registry>/<namespace>/<path>@<digest>`. */
  pinned(path: string, digest: string): string {
    return `${this.registry}/${this.repository(path)}@${digest}`;
  }

  /** Every tag of a repository (distribution `tags/list`, following `Link` pagination, bounded). */
  async listTags(path: string): Promise<string[]> {
    const repository = this.repository(path);
    const t = this.client.transport(this.registry);
    const tags: string[] = [];
    let url: string | null = `/v2/${repository}/tags/list?n=1000`;
    for (let page = 0; url !== null; page++) {
      if (page >= 100) throw dependency('E_SERVE_TAGS', `tags of ${this.registry}/${repository}: more than 100 pages`);
      const res = await t.request({ method: 'GET', url, repository, actions: 'pull', ok: [200], what: `tags of ${this.registry}/${repository}` });
      const next = nextLink(res.response.headers.get('link'));
      const body = Buffer.from(await res.bytes(8 * 1024 * 1024)).toString('utf8');
      let doc: unknown;
      try {
        doc = JSON.parse(body);
      } catch {
        throw dependency('E_SERVE_TAGS', `tags of ${this.registry}/${repository}: the registry answered with invalid JSON`);
      }
      const list = (doc as { tags?: unknown } | null)?.tags;
      if (list !== null && list !== undefined) {
        if (!Array.isArray(list)) throw dependency('E_SERVE_TAGS', `tags of ${this.registry}/${repository}: "tags" is not a list`);
        for (const tag of list) if (typeof tag === 'string') tags.push(tag);
      }
      url = next;
    }
    return tags;
  }

  /**
   * Small files from an image's filesystem (catalog files): `paths` → content, absent when the
   * image lacks the file; each at most `limit` bytes.
   */
  async readFiles(ref: string, paths: readonly string[], limit = 16 * 1024 * 1024): Promise<Map<string, Buffer>> {
    const wanted = new Set(paths);
    const tree = await extractImage({ imageRef: ref }, { platform: linuxPlatform('amd64'), cache: this.cache, client: this.client, include: (p) => wanted.has(p) });
    const out = new Map<string, Buffer>();
    for (const e of tree) {
      if (!wanted.has(e.path) || e.type !== 'file') continue;
      if (e.size > limit) throw dependency('E_SERVE_CATALOG', `${ref}: ${e.path} is larger than ${limit} bytes`);
      out.set(e.path, await readEntry(e));
    }
    return out;
  }
}

/** The target of a `Link: <…>; rel="next"` header, or null. */
export function nextLink(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(',')) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(?:^|;)\s*rel="?next"?\s*(?:;|$)/.test(m[2]!)) return m[1]!;
  }
  return null;
}
