/**
 * Registry credentials, found the way the imager's keychain finds them (talos-imager.md §2.2):
 *  1. a docker `config.json` (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`), or when
 *     there is none podman's `auth.json` (`$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
 *     `~/.config/containers/auth.json`), reading `auths`;
 *  2. for `ghcr.io` only: `$GITHUB_TOKEN` with user `$GITHUB_ACTOR` (or `unset`).
 * `credsStore`/`credHelpers` name external programs; imagekit never runs programs, so a registry
 * that only has a helper is reported (a warning, and in the 401 message) and accessed anonymously.
 *
 * Credentials never appear in messages: only the file they came from is named.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalidInput } from '../core/errors.js';
import { dockerHub, dockerHubApiHost } from './reference.js';

export interface Credential {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (`identitytoken`), exchanged at the token realm. */
  identityToken?: string;
  /** A bearer token used as it is (`registrytoken`). */
  registryToken?: string;
}

export interface CredentialLookup {
  credential?: Credential;
  /** Where the credential came from, for messages (`~/.docker/config.json`, `GITHUB_TOKEN`). */
  source?: string;
  /** A credential helper that would have been used (never executed). */
  unsupportedHelper?: string;
}

export interface Keychain {
  /** Credentials for `registry` (as named in a reference) and a repository (podman allows per-repository keys). */
  lookup(registry: string, repository?: string): CredentialLookup;
}

export interface KeychainOptions {
  env?: NodeJS.ProcessEnv;
  /** Home directory (default `$HOME`). */
  home?: string;
}

interface AuthFile {
  path: string;
  auths: Map<string, Credential>;
  credsStore?: string;
  credHelpers: Map<string, string>;
}

const maxAuthFileBytes = 4 * 1024 * 1024;

/** Normalise an `auths` key: `https://index.docker.io/v1/` → `docker.io`; keep a podman repo path. */
export function normaliseAuthKey(key: string): string {
  let k = key.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  const slash = k.indexOf('/');
  let host = slash >= 0 ? k.slice(0, slash) : k;
  let path = slash >= 0 ? k.slice(slash + 1) : '';
  if (host === 'index.docker.io' || host === dockerHubApiHost) host = dockerHub;
  if (/^v[12]$/.test(path)) path = '';
  k = path ? `${host}/${path}` : host;
  return k.toLowerCase();
}

function decodeEntry(v: unknown, file: string, key: string): Credential | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const e = v as Record<string, unknown>;
  const c: Credential = {};
  if (typeof e.auth === 'string' && e.auth !== '') {
    const raw = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = raw.indexOf(':');
    if (colon < 0) throw invalidInput('E_AUTH_CONFIG', `${file}: auths[${JSON.stringify(key)}].auth is not base64 of "user:password"`);
    c.username = raw.slice(0, colon);
    c.password = raw.slice(colon + 1);
  }
  if (typeof e.username === 'string' && e.username !== '') c.username = e.username;
  if (typeof e.password === 'string' && e.password !== '') c.password = e.password;
  if (typeof e.identitytoken === 'string' && e.identitytoken !== '') c.identityToken = e.identitytoken;
  if (typeof e.registrytoken === 'string' && e.registrytoken !== '') c.registryToken = e.registrytoken;
  return Object.keys(c).length ? c : undefined;
}

/** Parse a docker config.json / podman auth.json. */
export function parseAuthFile(text: string, path: string): AuthFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalidInput('E_AUTH_CONFIG', `${path}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalidInput('E_AUTH_CONFIG', `${path}: not a JSON object`);
  const d = doc as Record<string, unknown>;
  const file: AuthFile = { path, auths: new Map(), credHelpers: new Map() };
  if (typeof d.auths === 'object' && d.auths !== null) {
    for (const [k, v] of Object.entries(d.auths as Record<string, unknown>)) {
      const c = decodeEntry(v, path, k);
      if (c) file.auths.set(normaliseAuthKey(k), c);
    }
  }
  if (typeof d.credsStore === 'string' && d.credsStore !== '') file.credsStore = d.credsStore;
  if (typeof d.credHelpers === 'object' && d.credHelpers !== null) {
    for (const [k, v] of Object.entries(d.credHelpers as Record<string, unknown>)) {
      if (typeof v === 'string' && v !== '') file.credHelpers.set(normaliseAuthKey(k), v);
    }
  }
  return file;
}

/** The auth file the keychain reads, in go-containerregistry's order; null when there is none. */
export function findAuthFile(opts: KeychainOptions = {}): string | null {
  const env = opts.env ?? process.env;
  const home = opts.home ?? env.HOME ?? '';
  const candidates: string[] = [];
  if (env.DOCKER_CONFIG) candidates.push(join(env.DOCKER_CONFIG, 'config.json'));
  if (home) candidates.push(join(home, '.docker', 'config.json'));
  if (env.REGISTRY_AUTH_FILE) candidates.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) candidates.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  if (home) candidates.push(join(home, '.config', 'containers', 'auth.json'));
  return candidates.find((p) => existsSync(p)) ?? null;
}

/** The default keychain: docker/podman auth file, then GITHUB_TOKEN for ghcr.io. */
export function defaultKeychain(opts: KeychainOptions = {}): Keychain {
  const env = opts.env ?? process.env;
  const path = findAuthFile(opts);
  let file: AuthFile | undefined;
  if (path) {
    const text = readFileSync(path);
    if (text.byteLength > maxAuthFileBytes) throw invalidInput('E_AUTH_CONFIG', `${path}: larger than ${maxAuthFileBytes} bytes`);
    file = parseAuthFile(text.toString('utf8'), path);
  }
  return {
    lookup(registry: string, repository?: string): CredentialLookup {
      const host = normaliseAuthKey(registry);
      const out: CredentialLookup = {};
      if (file) {
        // Most specific key wins: host/ns/repo, host/ns, host (podman semantics; docker only has host).
        const parts = repository ? repository.split('/') : [];
        for (let n = parts.length; n >= 0; n--) {
          const key = n ? `${host}/${parts.slice(0, n).join('/')}` : host;
          const c = file.auths.get(key);
          if (c) return { credential: c, source: file.path };
        }
        const helper = file.credHelpers.get(host) ?? file.credsStore;
        if (helper) out.unsupportedHelper = `docker-credential-${helper} (from ${file.path})`;
      }
      if (host === 'ghcr.io' && env.GITHUB_TOKEN) {
        return { credential: { username: env.GITHUB_ACTOR || 'unset', password: env.GITHUB_TOKEN }, source: 'GITHUB_TOKEN' };
      }
      return out;
    },
  };
}

/** A keychain holding fixed credentials (tests, API callers). */
export function staticKeychain(entries: Record<string, Credential>): Keychain {
  const m = new Map(Object.entries(entries).map(([k, v]) => [normaliseAuthKey(k), v]));
  return {
    lookup(registry: string): CredentialLookup {
      const c = m.get(normaliseAuthKey(registry));
      return c ? { credential: c, source: 'static credentials' } : {};
    },
  };
}

export const anonymousKeychain: Keychain = { lookup: () => ({}) };
