/**
 * Where a registry really is: mirrors (`--registry-mirror ghcr.io=127.0.0.1:5000`, repeatable, or a
 * `registries.yaml` file) rewrite every reference to a registry, like containerd/podman mirrors, and
 * the scheme is plain HTTP only for loopback registries and registries named insecure.
 *
 * Mirrors are a pure rewrite (no fall-back to the original registry): an air-gapped build must not
 * reach out, and a failed mirror is reported as such.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { environment, invalidInput } from '../core/errors.js';
import { dockerHub, dockerHubApiHost, isLoopbackRegistry } from './reference.js';

export interface RegistryMirror {
  /** `host[:port]` that serves the mirror. */
  host: string;
  /** Optional repository prefix on the mirror (`docker.io=mirror:5000/hub` → `hub/library/alpine`). */
  prefix?: string;
}

export interface RegistryConfig {
  /** Registry (as in a reference: `docker.io`, `ghcr.io`) → mirror. */
  mirrors: Map<string, RegistryMirror>;
  /** Registries (host[:port]) spoken to over plain HTTP. */
  insecure: Set<string>;
}

/** Where requests for one reference's registry go. */
export interface RegistryEndpoint {
  /** The registry named in the reference (cache keys and credentials of the original use this). */
  registry: string;
  /** The host actually contacted (after mirroring and the Docker Hub API host rewrite). */
  host: string;
  scheme: 'http' | 'https';
  /** Repository prefix added on the mirror. */
  prefix: string;
  /** True when the endpoint is a mirror. */
  mirrored: boolean;
}

export function emptyRegistryConfig(): RegistryConfig {
  return { mirrors: new Map(), insecure: new Set() };
}

const hostRe = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/;
const prefixRe = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

function normaliseRegistry(name: string, what: string): string {
  let r = name.trim().replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (r === 'index.docker.io' || r === dockerHubApiHost) r = dockerHub;
  if (!hostRe.test(r)) throw invalidInput('E_REGISTRY_CONFIG', `${what}: ${JSON.stringify(name)} is not a registry host[:port]`);
  return r;
}

/** Parse one `registry=mirror[/prefix]` flag value. */
export function parseMirrorSpec(spec: string, what = '--registry-mirror'): [string, RegistryMirror] {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) {
    throw invalidInput('E_REGISTRY_CONFIG', `${what}: expected REGISTRY=MIRROR (e.g. ghcr.io=127.0.0.1:5000), got ${JSON.stringify(spec)}`);
  }
  return [normaliseRegistry(spec.slice(0, eq), what), parseMirrorTarget(spec.slice(eq + 1), what)];
}

function parseMirrorTarget(target: string, what: string): RegistryMirror {
  const t = target.trim().replace(/^https?:\/\//, '').replace(/\/+$/, '');
  const slash = t.indexOf('/');
  const host = slash >= 0 ? t.slice(0, slash) : t;
  const prefix = slash >= 0 ? t.slice(slash + 1) : '';
  if (!hostRe.test(host)) throw invalidInput('E_REGISTRY_CONFIG', `${what}: mirror ${JSON.stringify(target)} is not host[:port][/prefix]`);
  if (prefix && !prefixRe.test(prefix)) throw invalidInput('E_REGISTRY_CONFIG', `${what}: mirror prefix ${JSON.stringify(prefix)} is not a repository path`);
  return prefix ? { host, prefix } : { host };
}

/** Build a config from CLI flags (repeatable `--registry-mirror`, `--insecure-registry`). */
export function registryConfigFromFlags(mirrors: string[] = [], insecure: string[] = [], base = emptyRegistryConfig()): RegistryConfig {
  const cfg: RegistryConfig = { mirrors: new Map(base.mirrors), insecure: new Set(base.insecure) };
  for (const m of mirrors) {
    const [reg, mirror] = parseMirrorSpec(m);
    cfg.mirrors.set(reg, mirror);
  }
  for (const i of insecure) cfg.insecure.add(normaliseRegistry(i, '--insecure-registry'));
  return cfg;
}

/**
 * Read a `registries.yaml`:
 * ```yaml
 * mirrors:
 *   ghcr.io: 127.0.0.1:5000
 *   docker.io: mirror.internal:5000/hub
 * insecure:
 *   - mirror.internal:5000
 * ```
 */
export function parseRegistryConfig(text: string, what: string): RegistryConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 10 });
  } catch (err) {
    throw invalidInput('E_REGISTRY_CONFIG', `${what}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const cfg = emptyRegistryConfig();
  if (doc === null || doc === undefined) return cfg;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw invalidInput('E_REGISTRY_CONFIG', `${what}: expected a mapping with "mirrors" and "insecure"`);
  const d = doc as Record<string, unknown>;
  for (const key of Object.keys(d)) {
    if (key !== 'mirrors' && key !== 'insecure') throw invalidInput('E_REGISTRY_CONFIG', `${what}: unknown key ${JSON.stringify(key)} (expected mirrors, insecure)`);
  }
  if (d.mirrors !== undefined && d.mirrors !== null) {
    if (typeof d.mirrors !== 'object' || Array.isArray(d.mirrors)) throw invalidInput('E_REGISTRY_CONFIG', `${what}: mirrors must map a registry to a mirror`);
    for (const [reg, target] of Object.entries(d.mirrors as Record<string, unknown>)) {
      if (typeof target !== 'string') throw invalidInput('E_REGISTRY_CONFIG', `${what}: mirror for ${reg} must be a string`);
      cfg.mirrors.set(normaliseRegistry(reg, what), parseMirrorTarget(target, `${what} mirrors.${reg}`));
    }
  }
  if (d.insecure !== undefined && d.insecure !== null) {
    if (!Array.isArray(d.insecure)) throw invalidInput('E_REGISTRY_CONFIG', `${what}: insecure must be a list of registries`);
    for (const i of d.insecure) {
      if (typeof i !== 'string') throw invalidInput('E_REGISTRY_CONFIG', `${what}: insecure entries must be strings`);
      cfg.insecure.add(normaliseRegistry(i, what));
    }
  }
  return cfg;
}

export async function loadRegistryConfig(path: string): Promise<RegistryConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw environment('E_REGISTRY_CONFIG', `cannot read registry config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
  return parseRegistryConfig(text, path);
}

/** Resolve the endpoint for a registry named in a reference. */
export function resolveEndpoint(registry: string, cfg: RegistryConfig = emptyRegistryConfig()): RegistryEndpoint {
  const mirror = cfg.mirrors.get(registry);
  const host = mirror ? mirror.host : registry === dockerHub ? dockerHubApiHost : registry;
  const plain = isLoopbackRegistry(host) || cfg.insecure.has(host) || (!mirror && cfg.insecure.has(registry));
  return { registry, host, scheme: plain ? 'http' : 'https', prefix: mirror?.prefix ?? '', mirrored: mirror !== undefined };
}

/** The repository path on the endpoint (mirror prefix applied). */
export function endpointRepository(ep: RegistryEndpoint, repository: string): string {
  return ep.prefix ? `${ep.prefix}/${repository}` : repository;
}
