/**
 * Configuration of `imagekit serve` (image-factory.md §7). The file is YAML (or JSON) using the
 * Image Factory's own key names where a setting exists upstream (`http.httpListenAddr`,
 * `artifacts.core.registry`, `build.maxConcurrency`, …), so an air-gapped factory config carries
 * over; imagekit's additions live beside them (`cache.dir`, `build.queueLimit`, `build.timeout`, …).
 *
 * Upstream keys for features imagekit does not have (S3/CDN caches, cosign signing, metrics,
 * enterprise) are accepted and reported as ignored; TLS, SecureBoot signing and authentication are
 * refused, because silently serving without them would be a different service. Any other key is an
 * error naming it (typos must not pass).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { environment, invalidInput } from '../core/errors.js';
import { defaultCacheDir } from '../oci/blob-cache.js';
import { parseStrictVersion, parseTalosVersion } from '../profile/version.js';

/** Names of the Talos artifact images below `<registry>/<namespace>/` (upstream `artifacts.core.components`). */
export interface ArtifactComponents {
  imager: string;
  installerBase: string;
  installer: string;
  extensionManifest: string;
  overlayManifest: string;
  talosctl: string;
}

export interface FactoryConfig {
  http: {
    /** `host:port`; an empty host (`:8080`) listens on every interface. Port 0 picks a free one. */
    listenAddr: string;
    /** Public base URL (links, PXE scripts, the schematic extension); '' → `http://<listen address>/`. */
    externalURL: string;
    /** Base URL of asset links in PXE scripts; '' → `externalURL`. */
    externalPXEURL: string;
    /** CORS origins (`*` = any). */
    allowedOrigins: string[];
    /** Largest `POST /schematics` body (imagekit; upstream has no limit). */
    maxSchematicBytes: number;
    /** Time allowed to receive a whole request (headers and body). */
    requestTimeoutMs: number;
    /** A response that cannot write for this long (client not reading) is cut. */
    idleTimeoutMs: number;
    /** On shutdown, how long responses in progress may finish before their connections are closed. */
    shutdownTimeoutMs: number;
  };
  artifacts: {
    /** The only registry the service ever contacts (`ghcr.io`, or a local mirror such as `127.0.0.1:5000`). */
    registry: string;
    /** Repository prefix on that registry (a pull-through cache project), '' for none. */
    namespace: string;
    /** Plain HTTP to the registry (loopback registries always are). */
    insecure: boolean;
    components: ArtifactComponents;
    /** How long the version list is reused before the imager tags are listed again. */
    talosVersionRecheckIntervalMs: number;
    /** Hosts the registry may redirect to or send for tokens (blob CDNs); empty = the registry only. */
    allowedRedirectHosts: string[];
  };
  build: {
    /** Lowest Talos version listed (strict semver without `v`). */
    minTalosVersion: string;
    brokenTalosVersions: string[];
    /** Builds running at once. */
    maxConcurrency: number;
    /** Builds waiting for a slot beyond which requests get 503. */
    queueLimit: number;
    /** A build running longer is cancelled. */
    timeoutMs: number;
    /**
     * Bootloader of disk images and ISOs whose schematic names none: `sd-boot` (imagekit cannot
     * build GRUB yet, so the imager's dual-boot/grub default would fail), or `auto` (the imager's
     * default, which then fails as unsupported on amd64).
     */
    diskBootloader: 'sd-boot' | 'auto';
  };
  cache: {
    /** Built assets, pulled images, extracted imager files. */
    dir: string;
    /** Stored schematics (content-addressed); default `<dir>/schematics`. */
    schematicsDir: string;
    /** Schematics kept decoded in memory. */
    schematicCapacity: number;
  };
}

export const DEFAULT_COMPONENTS: Readonly<ArtifactComponents> = {
  imager: 'siderolabs/imager',
  installerBase: 'siderolabs/installer-base',
  installer: 'siderolabs/installer',
  extensionManifest: 'siderolabs/extensions',
  overlayManifest: 'siderolabs/overlays',
  talosctl: 'siderolabs/talosctl-all',
};

export function defaultFactoryConfig(env: NodeJS.ProcessEnv = process.env): FactoryConfig {
  const dir = join(defaultCacheDir(env), 'serve');
  return {
    http: {
      listenAddr: '127.0.0.1:8080',
      externalURL: '',
      externalPXEURL: '',
      allowedOrigins: ['*'],
      maxSchematicBytes: 1024 * 1024,
      requestTimeoutMs: 30_000,
      idleTimeoutMs: 600_000,
      shutdownTimeoutMs: 10_000,
    },
    artifacts: {
      registry: 'ghcr.io',
      namespace: '',
      insecure: false,
      components: { ...DEFAULT_COMPONENTS },
      talosVersionRecheckIntervalMs: 15 * 60_000,
      allowedRedirectHosts: [],
    },
    build: {
      minTalosVersion: '1.2.0',
      brokenTalosVersions: [],
      maxConcurrency: 2,
      queueLimit: 64,
      timeoutMs: 20 * 60_000,
      diskBootloader: 'sd-boot',
    },
    cache: { dir, schematicsDir: '', schematicCapacity: 10_000 },
  };
}

function bad(where: string, message: string): never {
  throw invalidInput('E_SERVE_CONFIG', `${where}: ${message}`);
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`30s`, `1m30s`, `500ms`, `20m`) in milliseconds. */
export function parseGoDuration(text: string, where: string): number {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  if (text === '0') return 0;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) bad(where, `${JSON.stringify(text)} is not a duration (e.g. 30s, 15m, 1h30m)`);
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (text === '' || !Number.isFinite(total) || total > 2 ** 31 - 1) bad(where, `${JSON.stringify(text)} is not a duration between 0 and 24 days`);
  return Math.round(total);
}

const hostPortRe = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/;
const repoPathRe = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** `host:port`, `:port` or `[v6]:port` → what `server.listen` takes. */
export function parseListenAddr(addr: string, where = 'http.httpListenAddr'): { host: string | undefined; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(addr);
  if (!m) bad(where, `${JSON.stringify(addr)} is not host:port (e.g. 127.0.0.1:8080, :8080)`);
  const port = Number(m[2]);
  if (port > 65535) bad(where, `port ${port} is out of range`);
  let host = m[1]!;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host !== '' && !hostPortRe.test(host)) bad(where, `${JSON.stringify(m[1])} is not a host name or address`);
  return { host: host === '' ? undefined : host, port };
}

/** An absolute http(s) URL with a trailing slash on its path. */
export function normaliseBaseUrl(text: string, where: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    bad(where, `${JSON.stringify(text)} is not an absolute URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') bad(where, `${JSON.stringify(text)} must be an http:// or https:// URL`);
  if (u.search || u.hash) bad(where, `${JSON.stringify(text)} must not have a query or fragment`);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u.toString();
}

export function checkRegistryHost(text: string, where: string): string {
  const r = text.trim().replace(/\/+$/, '');
  if (!hostPortRe.test(r)) bad(where, `${JSON.stringify(text)} is not a registry host[:port] (no scheme, no path)`);
  return r;
}

function checkRepoPath(text: string, where: string, allowEmpty = false): string {
  if (allowEmpty && text === '') return text;
  if (!repoPathRe.test(text)) bad(where, `${JSON.stringify(text)} is not a repository path (e.g. siderolabs/imager)`);
  return text;
}

// ------------------------------------------------------------------------------------------------
// The file: a nested mapping walked key by key.

type Setter = (cfg: FactoryConfig, value: unknown, where: string) => void;

const str = (value: unknown, where: string): string => {
  if (typeof value !== 'string') bad(where, 'expected a string');
  return value;
};
const bool = (value: unknown, where: string): boolean => {
  if (typeof value !== 'boolean') bad(where, 'expected true or false');
  return value;
};
const int = (value: unknown, where: string, min: number, max: number): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) bad(where, `expected an integer from ${min} to ${max}`);
  return value;
};
const strList = (value: unknown, where: string): string[] => {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) bad(where, 'expected a list of strings');
  return value as string[];
};
const duration = (value: unknown, where: string): number => parseGoDuration(str(value, where), where);

function version(value: unknown, where: string): string {
  const v = parseTalosVersion(str(value, where));
  if (!v) bad(where, `${JSON.stringify(value)} is not a version`);
  return `${v.major}.${v.minor}.${v.patch}${v.prerelease.length ? `-${v.prerelease.join('.')}` : ''}`;
}

const SETTERS: Record<string, Setter> = {
  'http.httpListenAddr': (c, v, w) => {
    c.http.listenAddr = str(v, w);
    parseListenAddr(c.http.listenAddr, w);
  },
  'http.externalURL': (c, v, w) => void (c.http.externalURL = str(v, w) === '' ? '' : normaliseBaseUrl(str(v, w), w)),
  'http.externalPXEURL': (c, v, w) => void (c.http.externalPXEURL = str(v, w) === '' ? '' : normaliseBaseUrl(str(v, w), w)),
  'http.allowedOrigins': (c, v, w) => void (c.http.allowedOrigins = strList(v, w)),
  'http.maxSchematicBytes': (c, v, w) => void (c.http.maxSchematicBytes = int(v, w, 1, 64 * 1024 * 1024)),
  'http.requestTimeout': (c, v, w) => void (c.http.requestTimeoutMs = duration(v, w)),
  'http.idleTimeout': (c, v, w) => void (c.http.idleTimeoutMs = duration(v, w)),
  'http.shutdownTimeout': (c, v, w) => void (c.http.shutdownTimeoutMs = duration(v, w)),
  'artifacts.core.registry': (c, v, w) => void (c.artifacts.registry = checkRegistryHost(str(v, w), w)),
  'artifacts.core.namespace': (c, v, w) => void (c.artifacts.namespace = checkRepoPath(str(v, w).replace(/^\/+|\/+$/g, ''), w, true)),
  'artifacts.core.insecure': (c, v, w) => void (c.artifacts.insecure = bool(v, w)),
  'artifacts.core.allowedRedirectHosts': (c, v, w) => void (c.artifacts.allowedRedirectHosts = strList(v, w).map((h) => checkRegistryHost(h, w))),
  'artifacts.talosVersionRecheckInterval': (c, v, w) => void (c.artifacts.talosVersionRecheckIntervalMs = duration(v, w)),
  'build.minTalosVersion': (c, v, w) => void (c.build.minTalosVersion = version(v, w)),
  'build.brokenTalosVersions': (c, v, w) => void (c.build.brokenTalosVersions = strList(v, w).map((x, i) => version(x, `${w}[${i}]`))),
  'build.maxConcurrency': (c, v, w) => void (c.build.maxConcurrency = int(v, w, 1, 256)),
  'build.queueLimit': (c, v, w) => void (c.build.queueLimit = int(v, w, 0, 100_000)),
  'build.timeout': (c, v, w) => void (c.build.timeoutMs = duration(v, w)),
  'build.diskBootloader': (c, v, w) => {
    const b = str(v, w);
    if (b !== 'sd-boot' && b !== 'auto') bad(w, 'expected sd-boot or auto');
    c.build.diskBootloader = b;
  },
  'cache.dir': (c, v, w) => void (c.cache.dir = str(v, w) || bad(w, 'must not be empty')),
  'cache.schematicsDir': (c, v, w) => void (c.cache.schematicsDir = str(v, w)),
  'cache.schematic.capacity': (c, v, w) => void (c.cache.schematicCapacity = int(v, w, 0, 10_000_000)),
};
for (const k of Object.keys(DEFAULT_COMPONENTS) as Array<keyof ArtifactComponents>) {
  SETTERS[`artifacts.core.components.${k}`] = (c, v, w) => void (c.artifacts.components[k] = checkRepoPath(str(v, w), w));
}

/** Upstream keys for features imagekit does not have: accepted, reported as ignored. */
const IGNORED_PREFIXES = [
  'containerSignature', 'cache.oci', 'cache.signingKeyPath', 'cache.gsa', 'cache.cdn', 'cache.s3',
  'cache.schematic.negativeTTL', 'metrics', 'artifacts.schematic', 'artifacts.installer', 'artifacts.refreshInterval',
  'enterprise', 'registry', 'audit',
];

/** Upstream keys whose absence of support would change what the service is: refused when set. */
const REFUSED: Record<string, string> = {
  'http.certFile': 'TLS is not supported by imagekit serve; put a TLS-terminating proxy in front',
  'http.keyFile': 'TLS is not supported by imagekit serve; put a TLS-terminating proxy in front',
  'secureBoot.enabled': 'SecureBoot assets are not supported by imagekit serve yet',
  'authentication.enabled': 'authentication is not supported by imagekit serve',
};

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Apply a parsed config document to `base`. Returns the ignored keys (for a warning).
 */
export function applyConfigDocument(base: FactoryConfig, doc: unknown, source: string): { config: FactoryConfig; ignored: string[] } {
  const cfg: FactoryConfig = structuredClone(base);
  const ignored: string[] = [];
  if (doc === null || doc === undefined) return { config: cfg, ignored };
  if (!isMapping(doc)) bad(source, 'expected a mapping at the top level');
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [key, value] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${key}` : key;
      const where = `${source}: ${path}`;
      const setter = Object.hasOwn(SETTERS, path) ? SETTERS[path] : undefined;
      if (setter) {
        setter(cfg, value, where);
      } else if (Object.hasOwn(REFUSED, path)) {
        const off = value === false || value === '' || value === null;
        if (!off) bad(where, REFUSED[path]!);
      } else if (path === 'secureBoot' || path === 'authentication' || path.startsWith('secureBoot.') || path.startsWith('authentication.')) {
        if (isMapping(value)) walk(value, path);
        else ignored.push(path);
      } else if (IGNORED_PREFIXES.some((p) => path === p || path.startsWith(`${p}.`))) {
        ignored.push(path);
      } else if (isMapping(value) && Object.keys(SETTERS).concat(Object.keys(REFUSED), IGNORED_PREFIXES).some((k) => k.startsWith(`${path}.`))) {
        walk(value, path);
      } else {
        bad(where, 'unknown configuration key');
      }
    }
  };
  walk(doc, '');
  return { config: cfg, ignored };
}

/** Parse a config file's text (YAML; JSON is a YAML subset). */
export function parseConfigText(text: string, source: string, base: FactoryConfig = defaultFactoryConfig()): { config: FactoryConfig; ignored: string[] } {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (err) {
    bad(source, `not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  return applyConfigDocument(base, doc, source);
}

export async function loadConfigFile(path: string, base: FactoryConfig = defaultFactoryConfig()): Promise<{ config: FactoryConfig; ignored: string[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw environment('E_SERVE_CONFIG', `cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
  if (text.length > 1024 * 1024) bad(path, 'config file larger than 1 MiB');
  return parseConfigText(text, path, base);
}

/** Cross-field checks, run once everything (file + flags) is applied. */
export function validateFactoryConfig(cfg: FactoryConfig): FactoryConfig {
  parseListenAddr(cfg.http.listenAddr);
  if (parseStrictVersion(cfg.build.minTalosVersion) === null) bad('build.minTalosVersion', `${JSON.stringify(cfg.build.minTalosVersion)} is not a version`);
  checkRegistryHost(cfg.artifacts.registry, 'artifacts.core.registry');
  if (cfg.cache.dir === '') bad('cache.dir', 'must not be empty');
  return cfg;
}
