/**
 * `imagekit serve`: an Image-Factory-compatible HTTP service on `node:http` (image-factory.md
 * §2–§8). No framework: the route table is nine patterns and upstream's router semantics (404/405,
 * trailing-slash redirects, CORS) are a page of code, so a dependency would add surface, not value.
 *
 *   const server = await startFactoryServer({ config });   // config: defaultFactoryConfig() + changes
 *   console.log(server.url);                                // http://127.0.0.1:PORT/
 *   await server.close();                                   // graceful: no partial cache entry remains
 *
 * Robustness: request bodies bounded (`http.maxSchematicBytes`) and timed (`http.requestTimeout`),
 * every path and version validated before any work, builds bounded (`build.maxConcurrency`,
 * `build.queueLimit`, `build.timeout`) and detached from the request, only the configured registry
 * contacted (see `registry-access.ts`), shutdown that cancels builds and removes their partial entries.
 */
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { reproFromEnv, type ReproContext } from '../core/repro.js';
import { BlobCache } from '../oci/blob-cache.js';
import type { Keychain } from '../oci/credentials.js';
import { FactoryApi } from './api.js';
import { AssetCache } from './asset-cache.js';
import { AssetService, type AssetStats } from './assets.js';
import { BuildQueue } from './build-queue.js';
import { RegistryCatalogs } from './catalog.js';
import { normaliseBaseUrl, parseListenAddr, validateFactoryConfig, type FactoryConfig } from './config.js';
import { writeError, type Handler, type RequestContext } from './http-context.js';
import { HttpError, toHttpError } from './http-error.js';
import { ImageApi } from './image-api.js';
import { ImagerAssets } from './imager-assets.js';
import { RegistryAccess } from './registry-access.js';
import { Router } from './router.js';
import { SchematicStore } from './schematic-store.js';

export type LogLevel = 'info' | 'warn' | 'error';
export type FactoryLogger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export const silentLogger: FactoryLogger = () => {};

/** What `Server:` says (upstream: its build string). */
export const SERVER_HEADER = 'imagekit-serve';

export interface StartOptions {
  config: FactoryConfig;
  log?: FactoryLogger;
  /** Registry credentials (default: docker/podman config and GITHUB_TOKEN). */
  keychain?: Keychain;
  /** Underlying fetch for registry requests (tests); always behind the host guard. */
  fetch?: typeof fetch;
  /** SOURCE_DATE_EPOCH of every build (default: from the environment, 0 when unset). */
  repro?: ReproContext;
}

export interface FactoryServer {
  /** `http://host:port/` actually listened on. */
  readonly url: string;
  /** The external URL used in links and the schematic extension. */
  readonly externalUrl: string;
  readonly server: Server;
  stats(): AssetStats & { running: number; queued: number };
  /** Stop: refuse new work, cancel builds (removing their partial entries), let responses finish, close. */
  close(): Promise<void>;
}

const CORS_METHODS = ['GET', 'HEAD', 'OPTIONS'];
const CORS_HEADERS = ['cache-control', 'origin'];
const CORS_EXPOSE = 'Content-Disposition, Content-Length, Content-Type';

function originAllowed(origins: readonly string[], origin: string): string | null {
  if (origins.includes('*')) return '*';
  return origins.some((o) => o.toLowerCase() === origin.toLowerCase()) ? origin : null;
}

/** rs/cors as upstream configures it (§2.1). Returns true when the request was a preflight (answered). */
function applyCors(req: IncomingMessage, res: ServerResponse, origins: readonly string[]): boolean {
  const origin = req.headers.origin;
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  if (preflight) {
    res.setHeader('Vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
    const allow = origin ? originAllowed(origins, origin) : null;
    const method = String(req.headers['access-control-request-method']).toUpperCase();
    const requested = String(req.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== '');
    if (allow && CORS_METHODS.includes(method) && requested.every((h) => CORS_HEADERS.includes(h))) {
      res.setHeader('Access-Control-Allow-Origin', allow);
      res.setHeader('Access-Control-Allow-Methods', method);
      if (requested.length > 0) res.setHeader('Access-Control-Allow-Headers', requested.join(', '));
    }
    res.statusCode = 204;
    res.end();
    return true;
  }
  if (origin) {
    res.setHeader('Vary', 'Origin');
    const allow = originAllowed(origins, origin);
    if (allow && CORS_METHODS.includes(req.method ?? '')) {
      res.setHeader('Access-Control-Allow-Origin', allow);
      res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSE);
    }
  }
  return false;
}

/** The URL clients reach a listening address at (for the default external URL). */
function listenUrl(addr: AddressInfo): string {
  let host = addr.address;
  if (host === '0.0.0.0' || host === '') host = '127.0.0.1';
  else if (host === '::') host = '[::1]';
  else if (host.includes(':')) host = `[${host}]`;
  return `http://${host}:${addr.port}/`;
}

export async function startFactoryServer(opts: StartOptions): Promise<FactoryServer> {
  const cfg = validateFactoryConfig(structuredClone(opts.config));
  const log = opts.log ?? silentLogger;
  const repro = opts.repro ?? reproFromEnv();
  const cacheDir = cfg.cache.dir;
  const schematicsDir = cfg.cache.schematicsDir || join(cacheDir, 'schematics');
  for (const d of [cacheDir, schematicsDir, join(cacheDir, 'assets'), join(cacheDir, 'oci'), join(cacheDir, 'artifacts')]) await mkdir(d, { recursive: true });

  const assetCache = new AssetCache(join(cacheDir, 'assets'));
  const stale = await assetCache.removeStalePartials();
  if (stale > 0) log('warn', 'removed partial cache entries left by an interrupted run', { count: stale });

  const { host, port } = parseListenAddr(cfg.http.listenAddr);
  const requestTimeout = cfg.http.requestTimeoutMs;
  const server = createServer({
    // A request (headers and body) must arrive within `http.requestTimeout` (slow clients get 408);
    // the check runs often enough for short timeouts to bite on time.
    requestTimeout,
    headersTimeout: requestTimeout > 0 ? Math.min(requestTimeout, 60_000) : 60_000,
    connectionsCheckingInterval: requestTimeout > 0 ? Math.max(100, Math.min(30_000, Math.floor(requestTimeout / 4))) : 30_000,
    keepAliveTimeout: 5_000,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = listenUrl(server.address() as AddressInfo);
  const externalUrl = cfg.http.externalURL ? normaliseBaseUrl(cfg.http.externalURL, 'http.externalURL') : url;
  const pxeBaseUrl = cfg.http.externalPXEURL ? normaliseBaseUrl(cfg.http.externalPXEURL, 'http.externalPXEURL') : externalUrl;
  if (!cfg.http.externalURL && (host === undefined || host === '0.0.0.0' || host === '::')) {
    log('warn', 'listening on every interface without http.externalURL: links and the schematic extension name ' + externalUrl);
  }

  const access = new RegistryAccess(cfg.artifacts, new BlobCache(join(cacheDir, 'oci')), {
    ...(opts.keychain ? { keychain: opts.keychain } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    progress: (e) => {
      if (e.type === 'warning') log('warn', e.message);
    },
  });
  const catalogs = new RegistryCatalogs(access, cfg);
  const imager = new ImagerAssets(access, cfg.artifacts.components.imager, join(cacheDir, 'artifacts', 'imager'));
  const queue = new BuildQueue(cfg.build.maxConcurrency, cfg.build.queueLimit);
  const assets = new AssetService(cfg, externalUrl, access, catalogs, imager, assetCache, queue, repro, log);
  const store = new SchematicStore(schematicsDir, cfg.cache.schematicCapacity);
  let closing = false;
  const api = new FactoryApi({ store, assets, catalogs, maxSchematicBytes: cfg.http.maxSchematicBytes, ready: () => !closing });
  const images = new ImageApi({ store, assets, cache: assetCache, pxeBaseUrl, idleTimeoutMs: cfg.http.idleTimeoutMs });

  const router = new Router<Handler>()
    .add(['GET', 'HEAD'], '/healthz', api.health)
    .add(['GET', 'HEAD'], '/readyz', api.ready)
    .add('POST', '/schematics', api.createSchematic)
    .add('GET', '/schematics/:schematic', api.getSchematic)
    .add(['GET', 'HEAD'], '/image/:schematic/:version/:path', images.image)
    .add('GET', '/pxe/:schematic/:version/:path', images.pxe)
    .add('GET', '/versions', api.versions)
    .add('GET', '/version/:version/extensions/official', api.extensions)
    .add('GET', '/version/:version/overlays/official', api.overlays)
    .add('GET', '/secureboot/signing-cert.pem', api.secureBootCert)
    .add(['GET', 'HEAD'], '/v2', api.registry)
    .add(['GET', 'HEAD'], '/v2/*path', api.registry);

  let requestCount = 0;
  const open = new Set<ServerResponse>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && /^[\x21-\x7e]{1,128}$/.test(incoming) ? incoming : `imagekit-${(++requestCount).toString(16).padStart(8, '0')}`;
    res.setHeader('Server', SERVER_HEADER);
    res.setHeader('X-Request-ID', requestId);
    const method = req.method ?? 'GET';
    let pathname: string;
    let search: string;
    try {
      const u = new URL(req.url ?? '/', 'http://factory.invalid');
      search = u.search;
      pathname = decodeURIComponent(u.pathname);
    } catch {
      writeError(res, new HttpError(400, '400 Bad Request'));
      return;
    }
    if (applyCors(req, res, cfg.http.allowedOrigins)) return;
    const match = router.match(method, pathname, search);
    try {
      switch (match.type) {
        case 'not-found':
          throw new HttpError(404, '404 page not found');
        case 'redirect':
          res.statusCode = match.status;
          res.setHeader('Location', match.location);
          res.setHeader('Content-Length', 0);
          res.end();
          return;
        case 'method-not-allowed':
          res.setHeader('Allow', match.allow.join(', '));
          if (method === 'OPTIONS') {
            res.statusCode = 200;
            res.setHeader('Content-Length', 0);
            res.end();
            return;
          }
          throw new HttpError(405, 'Method Not Allowed');
        case 'found': {
          if (closing && match.pattern !== '/healthz' && match.pattern !== '/readyz') throw new HttpError(503, 'service temporarily unavailable', 'shutting down');
          const ctx: RequestContext = { req, res, params: match.params, query: new URLSearchParams(search), requestId };
          await match.handler(ctx);
          return;
        }
      }
    } catch (err) {
      const e = toHttpError(err);
      if (e.status >= 500 || e.status === 499) log(e.status === 499 ? 'warn' : 'error', 'request failed', { id: requestId, method, path: pathname, status: e.status, error: e.detail ?? e.body });
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      // An unread request body would be taken for the next request on a kept-alive connection.
      if (!req.readableEnded) res.setHeader('Connection', 'close');
      writeError(res, e);
    }
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    open.add(res);
    res.on('close', () => {
      open.delete(res);
      // Access log: one line per request (a cut stream is reported as such).
      log('info', 'request', { method: req.method, path: req.url, status: res.statusCode, ...(res.writableFinished ? {} : { aborted: true }), id: res.getHeader('x-request-id') });
    });
    handle(req, res).catch((err) => {
      log('error', 'unhandled request error', { error: (err as Error).message });
      res.destroy();
    });
  });
  log('info', 'listening', { url, externalUrl, registry: cfg.artifacts.registry, cache: cacheDir });

  let closed: Promise<void> | null = null;
  return {
    url,
    externalUrl,
    server,
    stats: () => ({ ...assets.stats, running: queue.active, queued: queue.queued }),
    close: () => {
      closed ??= (async () => {
        closing = true;
        // Builds unwinding on worker threads hold no ref'd handle: keep the process alive until done.
        const keepAlive = setInterval(() => {}, 1000);
        try {
          const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
          // Builds are cancelled first: their followers fail, so streaming responses end now.
          await assets.close();
          catalogs.close();
          // Responses still sending (cached downloads) get `http.shutdownTimeout` to finish.
          await new Promise<void>((resolve) => {
            const done = () => {
              clearInterval(poll);
              clearTimeout(timer);
              resolve();
            };
            const timer = setTimeout(done, cfg.http.shutdownTimeoutMs);
            const poll = setInterval(() => open.size === 0 && done(), 20);
          });
          server.closeAllConnections();
          await stopped;
        } finally {
          clearInterval(keepAlive);
        }
        log('info', 'stopped');
      })();
      return closed;
    },
  };
}
