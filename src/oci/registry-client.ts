/**
 * The distribution API v2 (OCI distribution spec) over `RegistryTransport`: manifests by tag or
 * digest with the full Accept list, blobs streamed with sha256 verification and `Range` resume,
 * and pushes (blobs monolithic or chunked, manifests, indexes).
 */
import { dependency, invalidInput, toImagekitError } from '../core/errors.js';
import { digestMismatch, digestOf, IncrementalDigest, parseDigest } from './digest.js';
import { maxManifestBytes, type Descriptor } from './manifest.js';
import { bareMediaType, manifestAccept } from './media-types.js';
import { formatReference, referenceIdentifier, referenceName, type ImageReference } from './reference.js';
import { endpointRepository } from './registry-config.js';
import { redactUrl, registryErrorStatus } from './registry-error.js';
import { RegistryTransport, TransientError, type TransportOptions } from './transport.js';

/** A repository in a registry (a reference without tag or digest). */
export interface RepositoryRef {
  registry: string;
  repository: string;
}

export interface FetchedManifest {
  bytes: Uint8Array;
  /** Media type from `Content-Type` (without parameters); may be empty. */
  mediaType: string;
  digest: string;
}

export interface ManifestHead {
  digest: string;
  mediaType: string;
  size: number;
}

/** Where a blob download goes; `reset` starts over (a server that ignored `Range`). */
export interface BlobSink {
  write(chunk: Uint8Array): Promise<void>;
  reset(): Promise<void>;
}

/** Content for an upload: called per attempt; `start` is where a chunked upload resumes. */
export type BlobOpener = (start: number, end: number) => ReadableStream<Uint8Array> | Uint8Array | Promise<ReadableStream<Uint8Array> | Uint8Array>;

export interface PushBlobOptions {
  /** Upload in PATCH chunks of this size (default: monolithic PUT). */
  chunkSize?: number;
}

export class RegistryClient {
  private readonly transports = new Map<string, RegistryTransport>();
  constructor(readonly options: TransportOptions = {}) {}

  transport(registry: string): RegistryTransport {
    let t = this.transports.get(registry);
    if (!t) {
      t = new RegistryTransport(registry, this.options);
      this.transports.set(registry, t);
    }
    return t;
  }

  private repo(ref: RepositoryRef): { t: RegistryTransport; path: string; name: string } {
    const t = this.transport(ref.registry);
    const name = endpointRepository(t.endpoint, ref.repository);
    return { t, name, path: `/v2/${name}` };
  }

  /** GET a manifest (index or image manifest); verifies the digest when the reference has one. */
  async getManifest(ref: ImageReference): Promise<FetchedManifest> {
    const { t, path, name } = this.repo(ref);
    const id = referenceIdentifier(ref);
    const what = `manifest ${formatReference(ref)}`;
    const res = await t.request({
      method: 'GET', url: `${path}/manifests/${id}`, headers: { accept: manifestAccept.join(', ') },
      repository: name, actions: 'pull', ok: [200], what,
    });
    const bytes = await res.bytes(maxManifestBytes);
    const mediaType = bareMediaType(res.response.headers.get('content-type'));
    let digest: string;
    if (ref.digest) {
      const got = digestOf(bytes, parseDigest(ref.digest).algorithm);
      if (got !== ref.digest) throw digestMismatch(what, ref.digest, got);
      digest = ref.digest;
    } else {
      digest = digestOf(bytes);
      const header = res.response.headers.get('docker-content-digest');
      if (header && header.startsWith('sha256:') && header !== digest) throw digestMismatch(`${what} (Docker-Content-Digest)`, header, digest);
    }
    return { bytes, mediaType, digest };
  }

  /** HEAD a manifest: its digest without downloading it; null when the registry does not say. */
  async headManifest(ref: ImageReference): Promise<ManifestHead | null> {
    const { t, path, name } = this.repo(ref);
    const res = await t.request({
      method: 'HEAD', url: `${path}/manifests/${referenceIdentifier(ref)}`, headers: { accept: manifestAccept.join(', ') },
      repository: name, actions: 'pull', ok: [200], what: `manifest ${formatReference(ref)}`,
    });
    await res.discard();
    const digest = res.response.headers.get('docker-content-digest');
    const size = Number(res.response.headers.get('content-length') ?? NaN);
    if (!digest) return null;
    try {
      parseDigest(digest);
    } catch {
      return null;
    }
    return { digest, mediaType: bareMediaType(res.response.headers.get('content-type')), size: Number.isSafeInteger(size) ? size : -1 };
  }

  async blobExists(ref: RepositoryRef, digest: string): Promise<boolean> {
    const { t, path, name } = this.repo(ref);
    try {
      const res = await t.request({ method: 'HEAD', url: `${path}/blobs/${digest}`, repository: name, actions: 'pull', ok: [200], what: `blob ${digest}` });
      await res.discard();
      return true;
    } catch (err) {
      if (registryErrorStatus(err) === 404) return false;
      throw err;
    }
  }

  /**
   * Stream a blob into `sink`, resuming with `Range` after a cut connection, and verify its size
   * and digest. Throws E_DIGEST_MISMATCH (the sink then holds bytes that must not be used).
   */
  async readBlob(ref: RepositoryRef, desc: Pick<Descriptor, 'digest' | 'size'>, sink: BlobSink, onBytes?: (n: number) => void): Promise<void> {
    const { t, path, name } = this.repo(ref);
    const { algorithm } = parseDigest(desc.digest, `blob in ${referenceName(ref)}`);
    const what = `blob ${desc.digest} of ${referenceName(ref)}`;
    const hash = new IncrementalDigest(algorithm);
    let received = 0;
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = {};
      if (received > 0) headers.range = `bytes=${received}-`;
      const res = await t.request({ method: 'GET', url: `${path}/blobs/${desc.digest}`, headers, repository: name, actions: 'pull', ok: [200, 206], what });
      if (received > 0) {
        const cr = res.response.headers.get('content-range');
        const m = cr ? /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(cr) : null;
        if (res.response.status !== 206 || !m || Number(m[1]) !== received) {
          // The server ignored or mangled the range: start over.
          await sink.reset();
          hash.reset();
          received = 0;
          if (res.response.status === 206) {
            await res.discard();
            continue;
          }
        }
      }
      try {
        for await (const chunk of res.chunks()) {
          if (received + chunk.byteLength > desc.size) {
            await res.discard();
            throw dependency('E_BLOB_SIZE', `${what}: more than the ${desc.size} bytes its descriptor declares`);
          }
          try {
            await sink.write(chunk);
          } catch (e) {
            throw toImagekitError(e);
          }
          hash.update(chunk);
          received += chunk.byteLength;
          onBytes?.(received);
        }
        if (received === desc.size) break;
        throw new TransientError(`connection closed after ${received} of ${desc.size} bytes`);
      } catch (err) {
        if (err instanceof Error && 'exitCode' in err) throw err;
        if (attempt > t.retries) {
          throw dependency('E_REGISTRY_UNREACHABLE', `${what}: download failed after ${attempt} attempt(s) at byte ${received} of ${desc.size}: ${(err as Error).message}`, err);
        }
        const ms = t.backoff(attempt);
        t.progress({ type: 'warning', message: `${what}: ${(err as Error).message}; resuming at byte ${received} in ${(ms / 1000).toFixed(1)} s` });
        await t.wait(ms);
      }
    }
    const got = hash.digest();
    if (got !== desc.digest) throw digestMismatch(what, desc.digest, got);
  }

  /** A small blob (a config) in memory, verified. */
  async fetchBlobBytes(ref: RepositoryRef, desc: Pick<Descriptor, 'digest' | 'size'>, limit: number): Promise<Uint8Array> {
    if (desc.size > limit) throw invalidInput('E_BLOB_TOO_LARGE', `blob ${desc.digest} of ${referenceName(ref)}: ${desc.size} bytes exceeds the ${limit}-byte limit`);
    const parts: Uint8Array[] = [];
    await this.readBlob(ref, desc, {
      write: async (c) => void parts.push(c),
      reset: async () => void (parts.length = 0),
    });
    return Buffer.concat(parts);
  }

  // ---- push -------------------------------------------------------------------------------------

  /** Upload a blob unless the registry has it. Returns true when bytes were sent. */
  async pushBlob(ref: RepositoryRef, desc: Pick<Descriptor, 'digest' | 'size'>, open: BlobOpener, opts: PushBlobOptions = {}): Promise<boolean> {
    if (await this.blobExists(ref, desc.digest)) return false;
    const { t } = this.repo(ref);
    for (let attempt = 1; ; attempt++) {
      try {
        if (opts.chunkSize && desc.size > opts.chunkSize) await this.uploadChunked(ref, desc, open, opts.chunkSize);
        else await this.uploadMonolithic(ref, desc, open);
        return true;
      } catch (err) {
        const status = registryErrorStatus(err);
        const transient = status !== undefined ? status >= 500 || status === 429 : (err as { code?: string }).code === 'E_REGISTRY_UNREACHABLE';
        if (!transient || attempt > t.retries) throw err;
        const ms = t.backoff(attempt);
        t.progress({ type: 'warning', message: `upload of ${desc.digest} to ${referenceName(ref)}: ${(err as Error).message}; retrying in ${(ms / 1000).toFixed(1)} s` });
        await t.wait(ms);
      }
    }
  }

  private async startUpload(ref: RepositoryRef): Promise<URL> {
    const { t, path, name } = this.repo(ref);
    const res = await t.request({ method: 'POST', url: `${path}/blobs/uploads/`, repository: name, actions: 'pull,push', ok: [202], what: `upload to ${referenceName(ref)}`, retry: true, body: () => undefined });
    await res.discard();
    return this.location(ref, res.response.headers.get('location'), res.url);
  }

  private location(ref: RepositoryRef, loc: string | null, base: URL): URL {
    if (!loc) throw dependency('E_REGISTRY_UPLOAD', `upload to ${referenceName(ref)}: the registry sent no Location`);
    const u = new URL(loc, base);
    const t = this.transport(ref.registry);
    if (u.origin !== new URL(t.baseUrl).origin) {
      throw dependency('E_REGISTRY_UPLOAD', `upload to ${referenceName(ref)}: Location ${redactUrl(u)} points to another host; imagekit only uploads to the registry itself`);
    }
    return u;
  }

  private async uploadMonolithic(ref: RepositoryRef, desc: Pick<Descriptor, 'digest' | 'size'>, open: BlobOpener): Promise<void> {
    const { t, name } = this.repo(ref);
    const loc = await this.startUpload(ref);
    loc.searchParams.set('digest', desc.digest);
    const body = await open(0, desc.size);
    const res = await t.request({
      method: 'PUT', url: loc.toString(), headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
      body: () => body, retry: false, repository: name, actions: 'pull,push', ok: [201, 204], what: `upload of ${desc.digest} to ${referenceName(ref)}`,
    });
    await res.discard();
  }

  private async uploadChunked(ref: RepositoryRef, desc: Pick<Descriptor, 'digest' | 'size'>, open: BlobOpener, chunkSize: number): Promise<void> {
    const { t, name } = this.repo(ref);
    let loc = await this.startUpload(ref);
    for (let start = 0; start < desc.size; start += chunkSize) {
      const end = Math.min(desc.size, start + chunkSize);
      const body = await open(start, end);
      const res = await t.request({
        method: 'PATCH', url: loc.toString(),
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end - 1}`, 'content-length': String(end - start) },
        body: () => body, retry: false, repository: name, actions: 'pull,push', ok: [202], what: `chunk ${start}-${end - 1} of ${desc.digest} to ${referenceName(ref)}`,
      });
      await res.discard();
      loc = this.location(ref, res.response.headers.get('location'), res.url);
    }
    loc.searchParams.set('digest', desc.digest);
    const res = await t.request({ method: 'PUT', url: loc.toString(), headers: { 'content-length': '0' }, body: () => new Uint8Array(0), retry: false, repository: name, actions: 'pull,push', ok: [201, 204], what: `completing upload of ${desc.digest}` });
    await res.discard();
  }

  /** PUT a manifest or index under a tag or its digest. Returns its digest. */
  async putManifest(ref: RepositoryRef & { tag?: string; digest?: string }, bytes: Uint8Array, mediaType: string): Promise<string> {
    const { t, path, name } = this.repo(ref);
    const digest = digestOf(bytes);
    if (ref.digest && ref.digest !== digest) throw digestMismatch(`manifest for ${referenceName(ref)}`, ref.digest, digest);
    const id = ref.tag ?? digest;
    const res = await t.request({
      method: 'PUT', url: `${path}/manifests/${id}`, headers: { 'content-type': mediaType }, body: () => bytes,
      repository: name, actions: 'pull,push', ok: [201, 204], what: `manifest ${referenceName(ref)}:${id}`,
    });
    await res.discard();
    const header = res.response.headers.get('docker-content-digest');
    if (header && header !== digest) throw digestMismatch(`pushed manifest ${referenceName(ref)}:${id}`, digest, header);
    return digest;
  }
}
