/**
 * The factory's non-asset routes (image-factory.md §2.2–§2.4, §2.9, §4.1): schematics, the version
 * and catalog lists, health, and the OCI registry front — which is routed as upstream routes it but
 * answers, for now, with upstream's "not found" / "unavailable" errors (installer images and the
 * `siderolabs/*` proxy come with a later issue).
 */
import type { IncomingMessage } from 'node:http';
import { ImagekitError } from '../core/errors.js';
import { quirksFor } from '../profile/quirks.js';
import { decodeSchematic, upstreamMessage } from '../schematic/index.js';
import { goQuote } from '../schematic/go-scalar.js';
import { parseVersionSegment, type AssetService } from './assets.js';
import { versionTag, type RegistryCatalogs } from './catalog.js';
import { writeBody, writeJson, type RequestContext } from './http-context.js';
import { badRequest, HttpError, internalError, notFound } from './http-error.js';
import type { SchematicStore } from './schematic-store.js';

export interface ApiOptions {
  store: SchematicStore;
  assets: AssetService;
  catalogs: RegistryCatalogs;
  maxSchematicBytes: number;
  /** False once shutdown began (`/readyz` then answers 503). */
  ready: () => boolean;
}

/** Read a request body up to `limit` bytes; 413 beyond (the connection is then closed). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `request body too large (limit ${limit} bytes)`);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export class FactoryApi {
  constructor(private readonly o: ApiOptions) {}

  health = async ({ res }: RequestContext): Promise<void> => {
    res.statusCode = 200;
    res.setHeader('Content-Length', 0);
    res.end();
  };

  ready = async (ctx: RequestContext): Promise<void> => {
    if (!this.o.ready()) throw new HttpError(503, 'not ready');
    await this.health(ctx);
  };

  /** `POST /schematics` (§2.3): decode → validate → store → 201 `{id, schematic}`. */
  createSchematic = async ({ req, res }: RequestContext): Promise<void> => {
    const body = await readBody(req, this.o.maxSchematicBytes);
    let schematic;
    try {
      schematic = decodeSchematic(body);
    } catch (err) {
      const text = upstreamMessage(err);
      if (text !== undefined) throw badRequest(text);
      if (err instanceof ImagekitError && (err.exitCode === 2 || err.exitCode === 3)) throw badRequest(err.message);
      throw err;
    }
    const stored = await this.o.store.put(schematic);
    writeJson(res, 201, { id: stored.id, schematic: stored.canonical }, 'application/json');
  };

  /** `GET /schematics/:schematic` (§2.4). */
  getSchematic = async ({ params, res }: RequestContext): Promise<void> => {
    const stored = await this.o.store.get(params.schematic!);
    if (!stored) throw notFound('schematic not found');
    writeBody(res, 200, 'application/yaml', stored.canonical);
  };

  /** `GET /versions` (§2.9, §5.1); `?broken=true` lists the configured broken versions. */
  versions = async ({ query, res }: RequestContext): Promise<void> => {
    const list = query.get('broken') === 'true' ? this.o.catalogs.brokenVersions() : await this.o.catalogs.versions();
    writeJson(res, 200, list.map(versionTag));
  };

  /** `GET /version/:version/extensions/official` (§5.2). */
  extensions = async ({ params, res }: RequestContext): Promise<void> => {
    const { tag } = parseVersionSegment(params.version!);
    await this.o.assets.requireVersion(tag);
    const list = await this.o.catalogs.extensions(tag);
    writeJson(res, 200, list.map((e) => ({ name: e.name, ref: e.ref, digest: e.digest, author: e.author, description: e.description })));
  };

  /** `GET /version/:version/overlays/official` (§5.3): Talos < 1.7 → `[]` without consulting the list. */
  overlays = async ({ params, res }: RequestContext): Promise<void> => {
    const { tag } = parseVersionSegment(params.version!);
    if (!quirksFor(tag).supportsOverlay) {
      writeJson(res, 200, []);
      return;
    }
    await this.o.assets.requireVersion(tag);
    const list = await this.o.catalogs.overlays(tag);
    writeJson(res, 200, list.map((o) => ({ name: o.name, image: o.image, ref: o.ref, digest: o.digest })));
  };

  /** `GET /secureboot/signing-cert.pem`: SecureBoot is not configured (upstream answers 500). */
  secureBootCert = async (): Promise<void> => {
    throw internalError('SecureBoot is not enabled');
  };

  /** `GET|HEAD /v2/*path` (§4.1), routed as upstream `RouteV2`. */
  registry = async ({ params, res }: RequestContext): Promise<void> => {
    const path = params.path ?? '/';
    const route = routeRegistryPath(path);
    switch (route.target) {
      case 'ping':
        return this.health({ res } as RequestContext);
      case 'proxy':
        throw new HttpError(503, 'proxying to the backing registry is not available in imagekit serve yet');
      case 'schematic': {
        if (!(await this.o.store.get(route.schematic))) throw notFound(`schematic ID ${goQuote(route.schematic)} not found`);
        checkInstallerImageName(route.image);
        throw notFound(`installer image ${route.image}/${route.schematic} (${route.resource}/${route.reference}) is not available: imagekit serve does not serve installer images yet`);
      }
      case 'unknown':
        throw notFound(`unknown registry path: ${goQuote(path)}`);
    }
  };
}

export type RegistryRoute =
  | { target: 'ping' }
  | { target: 'proxy'; image: string; resource: string; reference: string }
  | { target: 'schematic'; image: string; schematic: string; resource: string; reference: string }
  | { target: 'unknown' };

/** Upstream `RouteV2`: `<repo…>/<resource>/<reference>`, `siderolabs/*` proxied, else `<image>/<schematic>`. */
export function routeRegistryPath(path: string): RegistryRoute {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return { target: 'ping' };
  const segments = trimmed.split('/');
  if (segments.length < 3) return { target: 'unknown' };
  const reference = segments[segments.length - 1]!;
  const resource = segments[segments.length - 2]!;
  const repo = segments.slice(0, -2);
  if (reference === '') return { target: 'unknown' };
  if (repo[0] === 'siderolabs') {
    const ok = resource === 'manifests' || resource === 'blobs' || resource === 'referrers' || (resource === 'tags' && reference === 'list');
    const image = repo.slice(1).join('/');
    if (!ok || image === '') return { target: 'unknown' };
    return { target: 'proxy', image, resource, reference };
  }
  if (resource !== 'manifests' && resource !== 'blobs' && resource !== 'referrers') return { target: 'unknown' };
  if (repo.length !== 2) return { target: 'unknown' };
  return { target: 'schematic', image: repo[0]!, schematic: repo[1]!, resource, reference };
}

/** Upstream `getRequestedImage`: `installer[-secureboot]` or `<platform>-installer[-secureboot]`. */
export function checkInstallerImageName(image: string): void {
  if (image === 'installer' || image === 'installer-secureboot') return;
  if (image.endsWith('-installer-secureboot') || image.endsWith('-installer')) return;
  throw badRequest(`invalid image: ${image}`);
}
