/**
 * `GET|HEAD /image/:schematic/:version/:path` and `GET /pxe/:schematic/:version/:path`
 * (image-factory.md §2.5, §3). Processing order is upstream's: checksum/signature suffix, schematic,
 * version, path, version availability, enhancement, build or cache, respond.
 *
 * Free checksums: `<asset>.sha256` / `<asset>.sha512` answer `<hex>  <filename>\n` (the Enterprise
 * format; the community edition answers 402). `.sigstore.json` stays 402.
 *
 * A disk image requested with GET while its build runs is streamed as it is written (chunked, no
 * `Content-Length`); everything else — HEAD, checksums, and the small kinds — is answered once the
 * build is complete, with `Content-Length`, exactly as upstream. A build failing after the first
 * byte was sent cuts the connection, so a client never takes a truncated body for a whole one.
 */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { goQuote } from '../schematic/go-scalar.js';
import type { AssetCache, CachedAsset } from './asset-cache.js';
import { parseVersionSegment, SHUTTING_DOWN, type AssetPlan, type AssetService, type Obtained } from './assets.js';
import { assetContentType, contentDisposition } from './content-type.js';
import { writeBody, type RequestContext } from './http-context.js';
import { enterpriseOnly, HttpError, internalError, notFound, toHttpError, unavailable } from './http-error.js';
import { joinUrlPath, secureBootIpxe, standardIpxe } from './ipxe.js';
import type { SchematicStore, StoredSchematic } from './schematic-store.js';

/** A build that failed: 503 when shutdown cancelled it, else 500 (upstream: internal server error). */
function buildFailure(err: unknown): HttpError {
  if (err === SHUTTING_DOWN) return unavailable('build cancelled: shutting down');
  return internalError(`build failed: ${(err as Error | null)?.message}`);
}

const CHECKSUM_SUFFIXES = ['.sha512', '.sha256'] as const;
const MAX_CMDLINE_BYTES = 64 * 1024;

export interface ImageApiOptions {
  store: SchematicStore;
  assets: AssetService;
  cache: AssetCache;
  /** Base of asset URLs in PXE scripts. */
  pxeBaseUrl: string;
  idleTimeoutMs: number;
}

export class ImageApi {
  constructor(private readonly o: ImageApiOptions) {}

  private async schematic(id: string): Promise<StoredSchematic> {
    const stored = await this.o.store.get(id);
    if (!stored) throw notFound(`schematic ID ${goQuote(id)} not found`);
    return stored;
  }

  private async planFor(stored: StoredSchematic, versionTag: string, path: string): Promise<AssetPlan> {
    try {
      return await this.o.assets.plan(stored, versionTag, path);
    } catch (err) {
      throw toHttpError(err);
    }
  }

  /** The complete entry (waits for a running build). */
  private async complete(obtained: Obtained): Promise<CachedAsset> {
    if (obtained.type === 'cached') return obtained.entry;
    try {
      return await obtained.live.finished();
    } catch (err) {
      throw buildFailure(err);
    }
  }

  image = async (ctx: RequestContext): Promise<void> => {
    const { params, query, res, req } = ctx;
    let path = params.path!;
    if (path.endsWith('.sigstore.json')) throw enterpriseOnly('enterprise signing is not enabled: signature endpoint is not available');
    let checksum: (typeof CHECKSUM_SUFFIXES)[number] | null = null;
    for (const suffix of CHECKSUM_SUFFIXES) {
      if (path.endsWith(suffix)) {
        checksum = suffix;
        path = path.slice(0, -suffix.length);
        break;
      }
    }
    const stored = await this.schematic(params.schematic!);
    const { tag } = parseVersionSegment(params.version!);
    const plan = await this.planFor(stored, tag, path);
    const filename = query.get('filename') || path;
    const obtained = await this.o.assets.obtain(plan);

    if (checksum) {
      const entry = await this.complete(obtained);
      const hex = checksum === '.sha256' ? entry.meta.sha256 : entry.meta.sha512;
      res.setHeader('Content-Disposition', contentDisposition(filename + checksum));
      writeBody(res, 200, 'text/plain; charset=utf-8', `${hex}  ${filename}\n`);
      return;
    }

    const headers = (length: number | null) => {
      res.statusCode = 200;
      if (length !== null) res.setHeader('Content-Length', length);
      res.setHeader('Content-Type', assetContentType(path));
      res.setHeader('Content-Disposition', contentDisposition(filename));
    };

    if (req.method === 'HEAD' || obtained.type === 'cached' || plan.kind !== 'image') {
      const entry = await this.complete(obtained);
      headers(entry.meta.size);
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      await this.send(res, this.o.cache.open(entry));
      return;
    }

    // A disk image being built: stream it as it is written.
    const live = obtained.live;
    await live.started();
    if (live.status === 'failed') throw buildFailure(live.failure);
    if (live.status === 'done') {
      const entry = await live.finished();
      headers(entry.meta.size);
      await this.send(res, this.o.cache.open(entry));
      return;
    }
    headers(null);
    await this.send(res, Readable.from(live.follow(), { objectMode: false }));
  };

  /** Copy a body to the response; a stalled client is cut after the idle timeout. */
  private async send(res: ServerResponse, body: Readable): Promise<void> {
    res.setTimeout(this.o.idleTimeoutMs, () => res.destroy(new Error('client stopped reading')));
    try {
      await pipeline(body, res);
    } catch (err) {
      // Headers are out: the only honest signal left is a cut connection (no chunked terminator).
      res.destroy(err as Error);
      throw new HttpError(499, 'response aborted', (err as Error).message);
    }
  }

  pxe = async (ctx: RequestContext): Promise<void> => {
    const { params, res } = ctx;
    const id = params.schematic!;
    const stored = await this.schematic(id);
    const { tag } = parseVersionSegment(params.version!);
    // The PXE path is <platform>-<arch>[-secureboot]: as a cmdline asset path it parses (upstream does the same).
    const plan = await this.planFor(stored, tag, `cmdline-${params.path!}`);
    const entry = await this.complete(await this.o.assets.obtain(plan));
    if (entry.meta.size > MAX_CMDLINE_BYTES) throw internalError(`command line of ${plan.name} is ${entry.meta.size} bytes`);
    const cmdline = (await readFile(entry.path)).toString('utf8');
    const base = this.o.pxeBaseUrl;
    const p = plan.profile;
    const script =
      p.secureboot === true
        ? secureBootIpxe({ ukiUrl: joinUrlPath(base, 'image', id, tag, `${p.platform}-${p.arch}-secureboot-uki.efi`), cmdline })
        : standardIpxe({
            kernelUrl: joinUrlPath(base, 'image', id, tag, `kernel-${p.arch}`),
            initramfsUrl: joinUrlPath(base, 'image', id, tag, `initramfs-${p.arch}.xz`),
            cmdline,
          });
    writeBody(res, 200, 'text/plain; charset=utf-8', script);
  };
}

