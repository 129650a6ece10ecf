/**
 * The uncompressed tar of a layer, as a local file range that flattening can index and that
 * FileTree entries read from lazily.
 *
 * Why a decompressed copy and not re-reading the compressed blob: a writer (squashfs, FAT) opens
 * files in its own order, and a gzip/zstd stream cannot seek, so opening one file would mean
 * decompressing the layer up to it (quadratic). Decompressing each layer once into
 * `<cache>/layers/<diffID>.tar` costs one sequential write, gives O(1) random access for every
 * entry (a file range), verifies the config's diff ID, and is reused by every later build. An
 * uncompressed layer blob that already lies verified in a file is used in place (no copy).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalidInput, toImagekitError } from '../core/errors.js';
import { silentProgress, type ProgressSink } from '../core/progress.js';
import { PendingFile, type BlobCache } from './blob-cache.js';
import { decompressor, sniffCompression, type Compression } from './decompress.js';
import { DigestingStream, digestMismatch, parseDigest } from './digest.js';
import { VerifyingStream, type BlobSource, type Layer } from './image.js';

/** Default bound on one uncompressed layer (a decompression bomb must not fill the disk). */
export const defaultMaxLayerBytes = 64 * 1024 ** 3;

export interface LayerTar {
  path: string;
  /** Byte range of the tar in `path`. */
  start: number;
  end: number;
  diffId: string;
  /** Names the layer in messages. */
  what: string;
}

/** Peek the first bytes of a stream, then hand back a stream with them put back. */
async function peek(stream: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first: Buffer[] = [];
  let have = 0;
  let done = false;
  while (have < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    first.push(r.value);
    have += r.value.byteLength;
  }
  const head = Buffer.concat(first);
  async function* rest() {
    if (head.byteLength) yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { head, stream: Readable.from(rest(), { objectMode: false }) };
}

async function readHead(path: string, start: number, end: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(Math.min(8, end - start));
    await fh.read(b, 0, b.byteLength, start);
    return b;
  } finally {
    await fh.close();
  }
}

/** Materialise (or find) the uncompressed tar of `layer`. */
export async function layerTar(blobs: BlobSource, layer: Layer, cache: BlobCache, what: string, progress: ProgressSink = silentProgress, maxBytes = defaultMaxLayerBytes): Promise<LayerTar> {
  const desc = layer.descriptor;
  if (layer.diffId && (await cache.hasLayer(layer.diffId))) {
    const path = cache.layerPath(layer.diffId);
    const fh = await open(path, 'r');
    const size = (await fh.stat()).size;
    await fh.close();
    return { path, start: 0, end: size, diffId: layer.diffId, what };
  }

  const local = await blobs.local(desc);
  if (local) {
    const kind = sniffCompression(await readHead(local.path, local.start, local.end));
    if (kind === 'none') {
      if (!local.verified) {
        // Hash the range once; it is then used in place.
        const raw = local.end > local.start ? createReadStream(local.path, { start: local.start, end: local.end - 1 }) : Readable.from([]);
        await pipeline(raw, new VerifyingStream(desc, what), async (s: AsyncIterable<Buffer>) => {
          for await (const _ of s);
        });
      }
      if (layer.diffId && layer.diffId !== desc.digest) throw digestMismatch(`${what} (diff ID of an uncompressed layer)`, layer.diffId, desc.digest);
      return { path: local.path, start: local.start, end: local.end, diffId: desc.digest, what };
    }
  }

  // Decompress once into the cache, verifying the blob digest and the diff ID on the way.
  const opened = await blobs.open(desc);
  const { head, stream } = await peek(opened, 8);
  const kind: Compression = sniffCompression(head);
  const alg = layer.diffId ? parseDigest(layer.diffId, what).algorithm : 'sha256';
  const diff = new DigestingStream(alg);
  const pending = await PendingFile.create(cache.tmpDir, 'layer');
  const step = `unpack ${desc.digest.slice(7, 19)}`;
  progress({ type: 'step-start', step, detail: `${what} (${kind})` });
  let sinkError: unknown;
  try {
    await pipeline(stream, decompressor(kind), diff, async (s: AsyncIterable<Buffer>) => {
      for await (const c of s) {
        if (pending.written + c.byteLength > maxBytes) {
          sinkError = invalidInput('E_LAYER_TOO_LARGE', `${what}: uncompressed size exceeds ${maxBytes} bytes`);
          throw sinkError;
        }
        await pending.write(c);
      }
    });
    const diffId = diff.digest();
    if (layer.diffId && diffId !== layer.diffId) throw digestMismatch(`${what} (uncompressed content vs config diff_ids)`, layer.diffId, diffId);
    const dest = cache.layerPath(diffId);
    await pending.commit(dest);
    progress({ type: 'step-done', step });
    return { path: dest, start: 0, end: pending.written, diffId, what };
  } catch (err) {
    await pending.discard();
    const e = toImagekitError(sinkError ?? err);
    if (e.code === 'E_UNKNOWN') throw invalidInput('E_LAYER_CORRUPT', `${what}: cannot decompress (${kind}): ${e.message}`, err);
    throw e;
  }
}
