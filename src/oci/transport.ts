/**
 * HTTP to one registry on the built-in `fetch`: authentication (Bearer-token challenge flow with
 * realm/service/scope, Basic), manual redirects that never carry credentials to another origin,
 * retries with backoff on 429/5xx/connection failures (honouring `Retry-After`), a timeout until
 * the response headers and an idle timeout while a body streams.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { dependency, ImagekitError } from '../core/errors.js';
import { silentProgress, type ProgressSink } from '../core/progress.js';
import { anonymousKeychain, type CredentialLookup, type Keychain } from './credentials.js';
import { isLoopbackRegistry } from './reference.js';
import { emptyRegistryConfig, resolveEndpoint, type RegistryConfig, type RegistryEndpoint } from './registry-config.js';
import { maxErrorBodyBytes, redactUrl, registryError } from './registry-error.js';
import { parseWwwAuthenticate, type AuthChallenge } from './www-authenticate.js';

export interface TransportOptions {
  keychain?: Keychain;
  registryConfig?: RegistryConfig;
  /** Injected `fetch` (default: the global one). */
  fetch?: typeof fetch;
  /** Retries after the first attempt (default 4). */
  retries?: number;
  /** First backoff delay in ms, doubled each retry (default 250). */
  backoffMs?: number;
  /** Longest backoff, also the cap on `Retry-After` (default 10 000 ms). */
  maxBackoffMs?: number;
  /** Time allowed until the response headers arrive (default 60 000 ms). */
  requestTimeoutMs?: number;
  /** Time a body may stall without data (default 60 000 ms). */
  idleTimeoutMs?: number;
  userAgent?: string;
  progress?: ProgressSink;
}

export type RegistryActions = 'pull' | 'pull,push';

export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** A path below the endpoint (`/v2/…`) or an absolute URL (an upload location). */
  url: string;
  headers?: Record<string, string>;
  /** Body factory: called once per attempt so a retry can send it again. */
  body?: () => Uint8Array | ReadableStream<Uint8Array> | undefined;
  /** Repository (on the endpoint) the token scope is for. */
  repository: string;
  actions: RegistryActions;
  /** Statuses that count as success. */
  ok: number[];
  /** Names the thing being fetched in messages: `manifest ghcr.io/a/b:v1`. */
  what: string;
  /** Retry 429/5xx/network failures (default: true for GET/HEAD or when a body factory is given). */
  retry?: boolean;
}

export interface RegistryResponse {
  response: Response;
  /** The final URL (after redirects). */
  url: URL;
  /** Read the whole body up to `limit` bytes (throws when larger). */
  bytes(limit: number): Promise<Uint8Array>;
  /** Iterate the body; the idle timeout applies between chunks. */
  chunks(): AsyncGenerator<Uint8Array>;
  /** Release the connection without reading. */
  discard(): Promise<void>;
}

const retryStatuses = new Set([408, 429, 500, 502, 503, 504]);
const maxRedirects = 5;
const maxTokenBytes = 1024 * 1024;

/** A network-level failure (no HTTP status): retryable. */
export class TransientError extends Error {}

function isTransient(err: unknown): boolean {
  if (err instanceof ImagekitError) return false;
  return true; // fetch rejects with TypeError('fetch failed' | 'terminated') or an AbortError
}

function describeNetworkError(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${e?.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}

function basicHeader(username: string, password: string): string {
  return 'Basic ' + Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

/** Talks to one registry endpoint; caches bearer tokens per scope. */
export class RegistryTransport {
  readonly endpoint: RegistryEndpoint;
  private readonly fetchImpl: typeof fetch;
  private readonly creds: CredentialLookup;
  private readonly tokens = new Map<string, string>();
  private basic = false;
  private warnedHelper = false;
  private readonly opts: Required<Omit<TransportOptions, 'keychain' | 'registryConfig' | 'fetch'>>;

  constructor(registry: string, options: TransportOptions = {}) {
    this.endpoint = resolveEndpoint(registry, options.registryConfig ?? emptyRegistryConfig());
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    const keychain = options.keychain ?? anonymousKeychain;
    // A mirror is another server: the original registry's credentials stay with the original.
    this.creds = this.endpoint.mirrored ? keychain.lookup(this.endpoint.host) : keychain.lookup(registry);
    this.opts = {
      retries: options.retries ?? 4,
      backoffMs: options.backoffMs ?? 250,
      maxBackoffMs: options.maxBackoffMs ?? 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
      userAgent: options.userAgent ?? 'imagekit',
      progress: options.progress ?? silentProgress,
    };
  }

  get baseUrl(): string {
    return `${this.endpoint.scheme}://${this.endpoint.host}`;
  }

  get retries(): number {
    return this.opts.retries;
  }

  get progress(): ProgressSink {
    return this.opts.progress;
  }

  /** Backoff before retry `attempt` (1-based), honouring Retry-After seconds when given. */
  backoff(attempt: number, retryAfter?: string | null): number {
    let ms = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** (attempt - 1));
    if (retryAfter && /^\d{1,6}$/.test(retryAfter.trim())) ms = Math.min(this.opts.maxBackoffMs, Number(retryAfter.trim()) * 1000);
    return ms;
  }

  async wait(ms: number): Promise<void> {
    if (ms > 0) await sleep(ms);
  }

  /** Send a request with auth, redirects and retries; resolves when the status is in `req.ok`. */
  async request(req: RegistryRequest): Promise<RegistryResponse> {
    const retry = req.retry ?? (req.method === 'GET' || req.method === 'HEAD' || req.body !== undefined);
    const attempts = retry ? this.opts.retries + 1 : 1;
    let authRetried = false;
    for (let attempt = 1; ; attempt++) {
      let res: RegistryResponse;
      try {
        res = await this.send(req);
      } catch (err) {
        if (!isTransient(err)) throw err;
        if (attempt >= attempts) {
          throw dependency('E_REGISTRY_UNREACHABLE', `${req.what}: ${req.method} ${redactUrl(this.resolve(req.url))} failed after ${attempt} attempt(s): ${describeNetworkError(err)}`, err);
        }
        const ms = this.backoff(attempt);
        this.opts.progress({ type: 'warning', message: `${req.what}: ${describeNetworkError(err)}; retrying in ${(ms / 1000).toFixed(1)} s (attempt ${attempt + 1}/${attempts})` });
        await this.wait(ms);
        continue;
      }
      const status = res.response.status;
      if (req.ok.includes(status)) return res;
      if (status === 401 && !authRetried) {
        const challenges = parseWwwAuthenticate(res.response.headers.get('www-authenticate'));
        await res.discard();
        if (await this.authenticate(challenges, req)) {
          authRetried = true;
          attempt--; // an auth round trip is not a failed attempt
          continue;
        }
        throw this.unauthorized(req, res.url);
      }
      if (retryStatuses.has(status) && attempt < attempts) {
        const ms = this.backoff(attempt, res.response.headers.get('retry-after'));
        await res.discard();
        this.opts.progress({ type: 'warning', message: `${req.what}: ${status} ${res.response.statusText}; retrying in ${(ms / 1000).toFixed(1)} s (attempt ${attempt + 1}/${attempts})` });
        await this.wait(ms);
        continue;
      }
      const body = req.method === 'HEAD' ? '' : await this.errorBody(res);
      if (status === 401) throw this.unauthorized(req, res.url, body);
      throw registryError({ what: req.what, method: req.method, url: res.url, status, statusText: res.response.statusText, body });
    }
  }

  private unauthorized(req: RegistryRequest, url: URL, body?: string): ImagekitError {
    let hint: string;
    if (this.creds.credential) hint = `credentials from ${this.creds.source} were rejected`;
    else if (this.creds.unsupportedHelper) hint = `${this.creds.unsupportedHelper} is a credential helper, which imagekit never runs; put the credentials under "auths" or use GITHUB_TOKEN for ghcr.io`;
    else hint = 'no credentials found (docker config.json, podman auth.json, GITHUB_TOKEN for ghcr.io)';
    return registryError({ what: req.what, method: req.method, url, status: 401, statusText: 'Unauthorized', ...(body ? { body } : {}), hint });
  }

  private async errorBody(res: RegistryResponse): Promise<string> {
    try {
      const b = await res.bytes(maxErrorBodyBytes);
      return Buffer.from(b).toString('utf8');
    } catch {
      await res.discard();
      return '';
    }
  }

  private scope(req: RegistryRequest): string {
    return `repository:${req.repository}:${req.actions}`;
  }

  private authHeader(req: RegistryRequest): string | undefined {
    const token = this.tokens.get(this.scope(req));
    if (token) return `Bearer ${token}`;
    const c = this.creds.credential;
    if (this.basic && c?.username !== undefined && c.password !== undefined) return basicHeader(c.username, c.password);
    return undefined;
  }

  /** React to a 401 challenge; true when a retry with new credentials makes sense. */
  private async authenticate(challenges: AuthChallenge[], req: RegistryRequest): Promise<boolean> {
    if (this.creds.unsupportedHelper && !this.creds.credential && !this.warnedHelper) {
      this.warnedHelper = true;
      this.opts.progress({ type: 'warning', message: `${this.endpoint.registry}: ${this.creds.unsupportedHelper} is not supported (imagekit never runs external programs); trying anonymous access` });
    }
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      const token = await this.fetchToken(bearer, req);
      this.tokens.set(this.scope(req), token);
      return true;
    }
    const basic = challenges.find((c) => c.scheme === 'basic');
    const c = this.creds.credential;
    if (basic && c?.username !== undefined && c.password !== undefined && !this.basic) {
      if (this.endpoint.scheme === 'http' && !isLoopbackRegistry(this.endpoint.host)) {
        throw dependency('E_REGISTRY_INSECURE_AUTH', `${req.what}: refusing to send Basic credentials over plain HTTP to ${this.endpoint.host}`);
      }
      this.basic = true;
      return true;
    }
    return false;
  }

  /** The distribution token flow: GET realm?service=…&scope=… (Basic auth when we have credentials). */
  private async fetchToken(ch: AuthChallenge, req: RegistryRequest): Promise<string> {
    const realm = ch.params.realm;
    if (!realm) throw dependency('E_REGISTRY_AUTH', `${req.what}: Bearer challenge from ${this.endpoint.host} has no realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw dependency('E_REGISTRY_AUTH', `${req.what}: Bearer realm ${JSON.stringify(realm.slice(0, 200))} is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw dependency('E_REGISTRY_AUTH', `${req.what}: Bearer realm must be http(s)`);
    const c = this.creds.credential;
    const sendsSecret = Boolean(c && (c.password !== undefined || c.identityToken));
    if (url.protocol === 'http:' && sendsSecret && !isLoopbackRegistry(url.host) && this.endpoint.scheme === 'https') {
      throw dependency('E_REGISTRY_INSECURE_AUTH', `${req.what}: refusing to send credentials to the plain-HTTP token realm ${redactUrl(url)}`);
    }
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    const scopes = new Set([this.scope(req)]);
    url.searchParams.delete('scope');
    for (const s of scopes) url.searchParams.append('scope', s);
    if (c?.registryToken) return c.registryToken;

    const headers: Record<string, string> = { 'user-agent': this.opts.userAgent, accept: 'application/json' };
    let init: RequestInit;
    if (c?.identityToken) {
      // OAuth2 refresh-token grant (docker `identitytoken`).
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.identityToken, service: ch.params.service ?? '', scope: [...scopes].join(' '), client_id: 'imagekit' });
      init = { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() };
    } else {
      if (c?.username !== undefined && c.password !== undefined) headers.authorization = basicHeader(c.username, c.password);
      init = { method: 'GET', headers };
    }
    const what = `token for ${this.endpoint.registry} (${[...scopes].join(' ')})`;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), this.opts.requestTimeoutMs);
      try {
        // Never follow a redirect with credentials: the realm is the only host that gets them.
        res = await this.fetchImpl(url, { ...init, redirect: 'manual', signal: ctl.signal });
      } catch (err) {
        clearTimeout(timer);
        if (attempt > this.opts.retries) throw dependency('E_REGISTRY_UNREACHABLE', `${what}: ${redactUrl(url)}: ${describeNetworkError(err)}`, err);
        await this.wait(this.backoff(attempt));
        continue;
      }
      clearTimeout(timer);
      if (retryStatuses.has(res.status) && attempt <= this.opts.retries) {
        await res.body?.cancel().catch(() => {});
        await this.wait(this.backoff(attempt, res.headers.get('retry-after')));
        continue;
      }
      const body = await readLimited(res, maxTokenBytes, what);
      if (res.status !== 200) {
        const text = Buffer.from(body).toString('utf8').slice(0, maxErrorBodyBytes);
        throw registryError({ what, method: init.method ?? 'GET', url, status: res.status, statusText: res.statusText, body: text, ...(res.status === 401 ? { hint: this.creds.credential ? `credentials from ${this.creds.source} were rejected` : 'anonymous access was refused' } : {}) });
      }
      let doc: { token?: unknown; access_token?: unknown };
      try {
        doc = JSON.parse(Buffer.from(body).toString('utf8'));
      } catch {
        throw dependency('E_REGISTRY_AUTH', `${what}: the token endpoint did not return JSON`);
      }
      const token = typeof doc.token === 'string' && doc.token ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : '';
      if (!token || /[\r\n]/.test(token)) throw dependency('E_REGISTRY_AUTH', `${what}: the token endpoint returned no usable token`);
      return token;
    }
  }

  resolve(url: string): URL {
    return /^https?:\/\//.test(url) ? new URL(url) : new URL(url, this.baseUrl);
  }

  /** One attempt: follow redirects by hand, sending credentials only to the registry's own origin. */
  private async send(req: RegistryRequest): Promise<RegistryResponse> {
    const origin = new URL(this.baseUrl).origin;
    let url = this.resolve(req.url);
    let method: string = req.method;
    let body = req.body?.();
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'user-agent': this.opts.userAgent, ...req.headers };
      if (url.origin === origin) {
        const auth = this.authHeader(req);
        if (auth) headers.authorization = auth;
      } else if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw dependency('E_REGISTRY_REDIRECT', `${req.what}: redirect to unsupported URL scheme ${url.protocol}`);
      }
      const ctl = new AbortController();
      let timer: NodeJS.Timeout | undefined = setTimeout(() => ctl.abort(), this.opts.requestTimeoutMs);
      let response: Response;
      try {
        const init: RequestInit & { duplex?: 'half' } = { method, headers, redirect: 'manual', signal: ctl.signal };
        if (body !== undefined) {
          init.body = body as NonNullable<RequestInit['body']>;
          if (!(body instanceof Uint8Array)) init.duplex = 'half';
        }
        response = await this.fetchImpl(url, init);
      } finally {
        clearTimeout(timer);
        timer = undefined;
      }
      const location = response.headers.get('location');
      if ([301, 302, 303, 307, 308].includes(response.status) && location && req.method !== 'POST' && req.method !== 'PATCH' && req.method !== 'PUT') {
        await response.body?.cancel().catch(() => {});
        if (hop >= maxRedirects) throw dependency('E_REGISTRY_REDIRECT', `${req.what}: more than ${maxRedirects} redirects`);
        const next = new URL(location, url);
        if (url.protocol === 'https:' && next.protocol === 'http:' && !isLoopbackRegistry(next.host)) {
          throw dependency('E_REGISTRY_REDIRECT', `${req.what}: refusing a redirect from HTTPS to plain HTTP (${redactUrl(next)})`);
        }
        url = next;
        if (response.status === 303) {
          method = 'GET';
          body = undefined;
        }
        continue;
      }
      return this.wrap(response, url, ctl);
    }
  }

  private wrap(response: Response, url: URL, ctl: AbortController): RegistryResponse {
    const idle = this.opts.idleTimeoutMs;
    const chunks = async function* (): AsyncGenerator<Uint8Array> {
      if (!response.body) return;
      const reader = response.body.getReader();
      try {
        for (;;) {
          let timer: NodeJS.Timeout | undefined;
          const stalled = new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              reject(new TransientError(`no data for ${idle / 1000} s`));
              ctl.abort(); // frees the connection; the race above already settled with the stall
            }, idle);
          });
          let r: { done: true; value?: undefined } | { done: false; value: Uint8Array };
          try {
            r = await Promise.race([reader.read(), stalled]);
          } finally {
            clearTimeout(timer);
          }
          if (r.done) return;
          yield r.value;
        }
      } finally {
        reader.releaseLock();
        await response.body?.cancel().catch(() => {});
      }
    };
    return {
      response,
      url,
      chunks,
      bytes: async (limit: number) => {
        const declared = Number(response.headers.get('content-length') ?? NaN);
        if (Number.isFinite(declared) && declared > limit) {
          await response.body?.cancel().catch(() => {});
          throw dependency('E_REGISTRY_RESPONSE_TOO_LARGE', `${redactUrl(url)}: response of ${declared} bytes exceeds the ${limit}-byte limit`);
        }
        const parts: Uint8Array[] = [];
        let n = 0;
        for await (const c of chunks()) {
          n += c.byteLength;
          if (n > limit) throw dependency('E_REGISTRY_RESPONSE_TOO_LARGE', `${redactUrl(url)}: response exceeds the ${limit}-byte limit`);
          parts.push(c);
        }
        return Buffer.concat(parts);
      },
      discard: async () => {
        await response.body?.cancel().catch(() => {});
      },
    };
  }
}

async function readLimited(res: Response, limit: number, what: string): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
    n += c.byteLength;
    if (n > limit) {
      await res.body.cancel().catch(() => {});
      throw dependency('E_REGISTRY_RESPONSE_TOO_LARGE', `${what}: response exceeds the ${limit}-byte limit`);
    }
    parts.push(c);
  }
  return Buffer.concat(parts);
}
