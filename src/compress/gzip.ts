/**
 * gzip (RFC 1952) encode and decode as Node streams plus one-shot helpers, on `node:zlib`.
 *
 * Encoding runs the way pigz does: the input is cut into fixed 1 MiB segments, each deflated on
 * libuv's thread pool as raw deflate primed with the previous 32 KiB (so matches cross segment
 * boundaries) and ended with a sync flush (byte-aligned empty stored block), in parallel; outputs
 * are written in order, then one empty final block, CRC-32 and ISIZE. The header is written here,
 * not by zlib, so it never depends on the host: MTIME 0, no FNAME unless asked, XFL as zlib sets it
 * for the level, OS byte 3 (Unix), as `pigz --no-time` and `gzip -n` write on Linux.
 *
 * Reproducibility: the bytes depend on the input, the level and the zlib inside Node (Chromium's
 * zlib since Node 20, whose deflate output differs from Debian's gzip/pigz). They do not depend on
 * threads or input chunking. A different Node release could deflate differently; see bench/README.
 * An all-zero segment whose 32 KiB history is also zero reuses one cached encoding.
 */
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { invalidInput, toImagekitError } from '../core/errors.js';
import { defaultPoolSize } from './pool.js';
import { isAllZero, SegmentStream } from './segment-stream.js';
import { collect } from './stream-util.js';

const deflateRaw = promisify(zlib.deflateRaw) as (buf: Uint8Array, opts: zlib.ZlibOptions) => Promise<Buffer>;

export interface GzipEncodeOptions {
  /** 1..9; default 6 (gzip's and pigz's default). */
  level?: number;
  /** FNAME field (ISO-8859-1, no NUL). Default: none. */
  name?: string;
  /** Deflate jobs in flight on libuv's pool; default min(2, cores) + 1. Never changes the bytes. */
  threads?: number;
}

export const GZIP_SEGMENT = 1 << 20;
const DICT = 32 << 10;
/** Deflate's final empty fixed-Huffman block: BFINAL=1, BTYPE=01, end-of-block code. */
const FINAL_BLOCK = Uint8Array.of(0x03, 0x00);

export function checkGzipLevel(level: number): number {
  if (!Number.isInteger(level) || level < 1 || level > 9) throw invalidInput('E_GZIP_LEVEL', `gzip level must be an integer 1..9, got ${level}`);
  return level;
}

/** The 10-byte member header (plus FNAME). */
export function gzipHeader(level: number, name?: string): Uint8Array {
  // XFL: 2 = maximum compression (level 9), 4 = fastest (level 1), else 0 (RFC 1952 §2.3.1, zlib deflate.c).
  const xfl = level === 9 ? 2 : level === 1 ? 4 : 0;
  const fname = name === undefined ? null : Buffer.from(name, 'latin1');
  if (fname && (fname.includes(0) || Buffer.from(fname.toString('latin1'), 'latin1').toString('latin1') !== name)) {
    throw invalidInput('E_GZIP_NAME', `gzip name must be ISO-8859-1 without NUL: ${JSON.stringify(name)}`);
  }
  const h = Buffer.alloc(10 + (fname ? fname.length + 1 : 0));
  h.set([0x1f, 0x8b, 0x08, fname ? 0x08 : 0x00, 0, 0, 0, 0, xfl, 0x03]);
  if (fname) h.set(fname, 10);
  return h;
}

const zeroCache = new Map<string, Promise<Buffer>>();
const ZEROS = new Uint8Array(GZIP_SEGMENT);

/** A gzip encoder stream. */
export function createGzipEncoder(opts: GzipEncodeOptions = {}): Transform {
  const level = checkGzipLevel(opts.level ?? 6);
  const header = gzipHeader(level, opts.name);
  const window = opts.threads ?? defaultPoolSize() + 1;
  if (!Number.isInteger(window) || window < 1 || window > 64) throw invalidInput('E_GZIP_THREADS', `gzip threads must be an integer 1..64, got ${window}`);
  let crc = 0;
  let size = 0;
  let prevTail: Uint8Array | null = null; // last 32 KiB of the input so far
  let prevTailZero = false;
  /** `seg` null: a segment of `length` zeros that was never materialised. */
  const start = (seg: Uint8Array | null, length: number): Promise<Buffer> => {
    const zero = seg === null || isAllZero(seg);
    if (seg === null) for (let at = 0; at < length; at += ZEROS.length) crc = zlib.crc32(ZEROS.subarray(0, Math.min(ZEROS.length, length - at)), crc);
    else crc = zlib.crc32(seg, crc);
    size = (size + length) % 2 ** 32;
    const dict = prevTail;
    const dictZero = prevTailZero;
    const wholeDict = length >= DICT;
    prevTail = wholeDict ? (seg ? seg.subarray(length - DICT) : ZEROS.subarray(0, DICT)) : joinTail(dict, seg ?? ZEROS.subarray(0, length));
    prevTailZero = zero && (wholeDict || dict === null || dictZero);
    const job = () => deflateRaw(seg ?? new Uint8Array(length), { level, finishFlush: zlib.constants.Z_SYNC_FLUSH, ...(dict ? { dictionary: dict } : {}) });
    if (zero && (dict === null || dictZero)) {
      const key = `${level}:${length}:${dict ? dict.length : 0}`;
      let p = zeroCache.get(key);
      if (!p) {
        p = job();
        zeroCache.set(key, p);
        p.catch(() => zeroCache.delete(key));
        if (zeroCache.size > 16) zeroCache.delete(zeroCache.keys().next().value!);
      }
      return p;
    }
    return job();
  };
  return new SegmentStream<Buffer>(
    {
      start: (seg) => start(seg, seg.length),
      startZero: (length) => start(null, length),
      emit: (out, index) => (index === 0 ? [header, out] : [out]),
      finish(segments) {
        const trailer = Buffer.alloc(8);
        trailer.writeUInt32LE(crc >>> 0, 0);
        trailer.writeUInt32LE(size >>> 0, 4);
        return segments === 0 ? [header, FINAL_BLOCK, trailer] : [FINAL_BLOCK, trailer];
      },
    },
    { segmentSize: GZIP_SEGMENT, window },
  );
}

function joinTail(prev: Uint8Array | null, seg: Uint8Array): Uint8Array {
  if (!prev) return seg;
  const keep = Math.min(prev.length, DICT - seg.length);
  const out = new Uint8Array(keep + seg.length);
  out.set(prev.subarray(prev.length - keep));
  out.set(seg, keep);
  return out;
}

/** One-shot gzip; the same bytes as the stream with the same options. */
export function gzipCompress(data: Uint8Array, opts: GzipEncodeOptions = {}): Promise<Uint8Array> {
  return collect(createGzipEncoder(opts), data);
}

export interface GzipDecodeOptions {
  /** Fail when the output would exceed this many bytes (default: no limit). */
  maxOutput?: number;
  source?: string;
}

/** A gzip decoder stream (concatenated members are decoded in order; trailing garbage is an error). */
export function createGzipDecoder(opts: GzipDecodeOptions = {}): Transform {
  const source = opts.source ?? 'gzip input';
  const maxOutput = opts.maxOutput ?? Infinity;
  const gunzip = zlib.createGunzip();
  let produced = 0;
  let sawInput = false;
  const mapError = (err: unknown) => {
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e === 'object' && 'exitCode' in e) return toImagekitError(e);
    if (e?.code === 'Z_BUF_ERROR' || /unexpected end/i.test(e?.message ?? '')) {
      return invalidInput('E_GZIP_TRUNCATED', `${source}: gzip data is truncated`);
    }
    return invalidInput('E_GZIP_CORRUPT', `${source}: corrupt gzip data: ${e?.message ?? e}`);
  };
  // Wrap zlib's stream to map its errors and enforce the limits. A chunk is acknowledged once zlib
  // has consumed it; zlib is paused while our reader is full, which holds the writer back in turn.
  const t = new Transform({
    transform(chunk: Uint8Array, _enc, cb: TransformCallback) {
      if (chunk.length) sawInput = true;
      gunzip.write(chunk, (err) => {
        if (!err) cb();
      });
    },
    flush(cb: TransformCallback) {
      if (!sawInput) return cb(invalidInput('E_GZIP_TRUNCATED', `${source}: empty input is not gzip data`));
      gunzip.once('end', () => cb());
      gunzip.end();
    },
    destroy(err, cb) {
      gunzip.destroy();
      cb(err);
    },
  });
  const read = t._read.bind(t);
  t._read = (n: number) => {
    gunzip.resume();
    read(n);
  };
  gunzip.on('data', (b: Buffer) => {
    produced += b.length;
    if (produced > maxOutput) {
      t.destroy(invalidInput('E_GZIP_TOO_LARGE', `${source}: decompressed data exceeds ${maxOutput} bytes`));
      return;
    }
    if (!t.push(b)) gunzip.pause();
  });
  gunzip.on('error', (err) => t.destroy(mapError(err)));
  return t;
}

/** One-shot gunzip. */
export function gzipDecompress(data: Uint8Array, opts: GzipDecodeOptions = {}): Promise<Uint8Array> {
  return collect(createGzipDecoder(opts), data);
}
