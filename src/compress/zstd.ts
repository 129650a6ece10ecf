/**
 * zstd encode and decode as Node streams (backpressure honoured) plus one-shot helpers.
 *
 * Encoding: the input is cut into fixed segments (default 8 MiB); each is compressed on its own by
 * libzstd (WASM, zstd-wasm.ts) in worker threads, and the results are written in order either as
 * ONE frame (`frames: 'single'`, default: segments joined by zstd-splice.ts; what the kernel's
 * initramfs unpacker needs) or as one frame per segment (`frames: 'multi'`). The bytes depend only
 * on the input, the level, the segment size and the frame mode, never on the thread count or on
 * how the input was chunked. An all-zero segment reuses one cached encoding (sparse disk images).
 * Frames carry no checksum (the WASM build exposes no checksum flag) and no content size.
 *
 * Decoding: `fzstd` (pure JS), streaming, any number of frames and skippable frames. Frame headers
 * are checked here first so a hostile window size cannot force a huge allocation.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { Decompress } from 'fzstd';
import { invalidInput, toImagekitError } from '../core/errors.js';
import { workerUrl } from '../core/worker-url.js';
import { defaultPoolSize, WorkerPool } from './pool.js';
import { isAllZero, SegmentStream } from './segment-stream.js';
import { collect } from './stream-util.js';
import { analyzeSegmentFrame, ZstdFrameJoiner, type SegmentFrame } from './zstd-splice.js';
import { checkZstdLevel, zstdCompressFrame } from './zstd-wasm.js';
import type { ZstdTask } from './zstd-worker.js';

export interface ZstdEncodeOptions {
  /** 1..19; default 3 (the zstd CLI's default). Talos uses 18. */
  level?: number;
  /** 'single' (default): one frame for the whole stream. 'multi': one independent frame per segment. */
  frames?: 'single' | 'multi';
  /** Bytes per independently compressed segment; default 8 MiB. Part of the output's identity. */
  segmentSize?: number;
  /** Worker threads; default min(2, cores); 0 compresses on the calling thread. Never changes the bytes. */
  threads?: number;
}

export const ZSTD_DEFAULT_SEGMENT = 8 << 20;
const MAX_SEGMENT = 256 << 20;

let sharedPool: WorkerPool | null = null;

/** The process-wide zstd pool (unref'd: it never keeps the process alive). */
export function zstdPool(): WorkerPool {
  sharedPool ??= new WorkerPool(workerUrl(import.meta.url, './zstd-worker.js'));
  return sharedPool;
}

function resolveEncode(opts: ZstdEncodeOptions) {
  const level = checkZstdLevel(opts.level ?? 3);
  const segmentSize = opts.segmentSize ?? ZSTD_DEFAULT_SEGMENT;
  if (!Number.isInteger(segmentSize) || segmentSize < 1024 || segmentSize > MAX_SEGMENT) {
    throw invalidInput('E_ZSTD_SEGMENT', `zstd segment size must be an integer in 1 KiB..256 MiB, got ${segmentSize}`);
  }
  const frames = opts.frames ?? 'single';
  if (frames !== 'single' && frames !== 'multi') throw invalidInput('E_ZSTD_FRAMES', `zstd frames must be 'single' or 'multi', got ${String(frames)}`);
  const threads = opts.threads ?? defaultPoolSize();
  if (!Number.isInteger(threads) || threads < 0 || threads > 64) throw invalidInput('E_ZSTD_THREADS', `zstd threads must be an integer 0..64, got ${threads}`);
  return { level, segmentSize, frames, threads };
}

/** Compresses segments on a pool (or this thread) with a cache for all-zero segments. */
class SegmentCompressor {
  private readonly pool: WorkerPool | null;
  private readonly ownPool: boolean;
  private static zeroCache = new Map<string, Promise<SegmentFrame>>();

  constructor(private readonly level: number, threads: number) {
    if (threads === 0) {
      this.pool = null;
      this.ownPool = false;
    } else if (threads === defaultPoolSize()) {
      this.pool = zstdPool();
      this.ownPool = false;
    } else {
      this.pool = new WorkerPool(workerUrl(import.meta.url, './zstd-worker.js'), { size: threads });
      this.ownPool = true;
    }
  }

  segment(data: Uint8Array): Promise<SegmentFrame> {
    return isAllZero(data) ? this.zeros(data.length, data) : this.compute(data);
  }

  /** A segment of `length` zeros: one cached encoding per level and length. */
  zeros(length: number, data?: Uint8Array): Promise<SegmentFrame> {
    const key = `${this.level}:${length}`;
    const cache = SegmentCompressor.zeroCache;
    let p = cache.get(key);
    if (!p) {
      p = this.compute(data ?? new Uint8Array(length));
      cache.set(key, p);
      p.catch(() => cache.delete(key));
      if (cache.size > 16) cache.delete(cache.keys().next().value!);
    }
    return p;
  }

  private async compute(data: Uint8Array): Promise<SegmentFrame> {
    if (!this.pool) return analyzeSegmentFrame(await zstdCompressFrame(data, this.level), data.length);
    return this.pool.run<SegmentFrame>({ op: 'segment', data, level: this.level } satisfies ZstdTask, [data.buffer as ArrayBuffer]);
  }

  get threads(): number {
    return this.pool?.size ?? 1;
  }

  async close(): Promise<void> {
    if (this.ownPool) await this.pool!.close();
  }
}

/** A zstd encoder stream. */
export function createZstdEncoder(opts: ZstdEncodeOptions = {}): Transform {
  const { level, segmentSize, frames, threads } = resolveEncode(opts);
  const compressor = new SegmentCompressor(level, threads);
  const joiner = frames === 'single' ? new ZstdFrameJoiner() : null;
  return new SegmentStream<SegmentFrame>(
    {
      start: (seg) => compressor.segment(seg),
      startZero: (length) => compressor.zeros(length),
      emit: (r) => (joiner ? joiner.push(r) : [r.frame]),
      finish: (n) => (joiner ? joiner.finish() : n === 0 ? [EMPTY_FRAME] : []),
      close: () => compressor.close(),
    },
    { segmentSize, window: compressor.threads + 1 },
  );
}

/** An empty stream as one frame: header (1 KiB window) + an empty last raw block. */
const EMPTY_FRAME = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x01, 0x00, 0x00);

/** One-shot encode; the same bytes as the stream with the same options. */
export function zstdCompress(data: Uint8Array, opts: ZstdEncodeOptions = {}): Promise<Uint8Array> {
  return collect(createZstdEncoder(opts), data);
}

// ---------------------------------------------------------------------------------------------

export interface ZstdDecodeOptions {
  /** Largest window a frame may ask for; default 128 MiB (the zstd CLI's default limit). */
  maxWindow?: number;
  /** Fail when the output would exceed this many bytes (default: no limit). */
  maxOutput?: number;
  /** Names the input in error messages. */
  source?: string;
}

/** Walks frame and block headers ahead of the decoder, to bound memory and catch truncation. */
class FrameWalker {
  private state: 'frame' | 'block' | 'skip' = 'frame';
  private need = 0; // bytes still to skip
  private afterSkip: 'frame' | 'block' = 'frame';
  private pending = new Uint8Array(0);
  private lastBlock = false;
  private checksum = false;
  private blockMax = 0;
  frames = 0;

  constructor(private readonly maxWindow: number, private readonly source: string) {}

  get atFrameBoundary(): boolean {
    return this.state === 'frame' && this.need === 0 && this.pending.length === 0;
  }

  feed(chunk: Uint8Array): void {
    let data = chunk;
    if (this.pending.length) {
      const merged = new Uint8Array(this.pending.length + chunk.length);
      merged.set(this.pending);
      merged.set(chunk, this.pending.length);
      data = merged;
      this.pending = new Uint8Array(0);
    }
    let p = 0;
    while (p < data.length) {
      if (this.need > 0) {
        const n = Math.min(this.need, data.length - p);
        this.need -= n;
        p += n;
        if (this.need === 0) this.state = this.afterSkip;
        continue;
      }
      if (this.state === 'frame') {
        if (data.length - p < 8) break;
        const magic = (data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16) | (data[p + 3]! << 24)) >>> 0;
        if ((magic & 0xfffffff0) === 0x184d2a50) {
          this.need = 8 + ((data[p + 4]! | (data[p + 5]! << 8) | (data[p + 6]! << 16) | (data[p + 7]! << 24)) >>> 0);
          this.afterSkip = 'frame';
          this.state = 'skip';
          continue;
        }
        if (magic !== 0xfd2fb528) throw this.corrupt('not a zstd frame (bad magic)');
        const fhd = data[p + 4]!;
        const single = (fhd >>> 5) & 1;
        const fcsBytes = [single ? 1 : 0, 2, 4, 8][fhd >>> 6]!;
        const dictBytes = [0, 1, 2, 4][fhd & 3]!;
        const size = 5 + (single ? 0 : 1) + dictBytes + fcsBytes;
        if (data.length - p < size) break;
        if (fhd & 0x08) throw this.corrupt('reserved frame header bit set');
        if (dictBytes) throw invalidInput('E_ZSTD_DICTIONARY', `${this.source}: zstd frames with a dictionary are not supported`);
        let window: number;
        if (single) {
          let v = 0;
          const at = p + 5 + dictBytes;
          for (let i = fcsBytes - 1; i >= 0; i--) v = v * 256 + data[at + i]!;
          window = fcsBytes === 2 ? v + 256 : v;
        } else {
          const wd = data[p + 5]!;
          const base = 2 ** (10 + (wd >>> 3));
          window = base + (base / 8) * (wd & 7);
        }
        if (window > this.maxWindow) {
          throw invalidInput('E_ZSTD_WINDOW', `${this.source}: zstd frame needs a ${window}-byte window, above the ${this.maxWindow}-byte limit`);
        }
        this.blockMax = Math.max(1, Math.min(128 << 10, window));
        this.checksum = ((fhd >>> 2) & 1) === 1;
        this.frames++;
        this.lastBlock = false;
        p += size;
        this.state = 'block';
        continue;
      }
      // block header
      if (data.length - p < 3) break;
      const h = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16);
      const type = (h >>> 1) & 3;
      const bsize = h >>> 3;
      if (type === 3) throw this.corrupt('reserved block type');
      if (bsize > this.blockMax) throw this.corrupt('block larger than the frame allows');
      this.lastBlock = (h & 1) === 1;
      p += 3;
      this.need = (type === 1 ? 1 : bsize) + (this.lastBlock && this.checksum ? 4 : 0);
      this.afterSkip = this.lastBlock ? 'frame' : 'block';
      this.state = 'skip';
      if (this.need === 0) this.state = this.afterSkip;
    }
    if (p < data.length) this.pending = data.slice(p);
  }

  corrupt(why: string) {
    return invalidInput('E_ZSTD_CORRUPT', `${this.source}: corrupt zstd data: ${why}`);
  }
}

/** A zstd decoder stream (all frames, in order). Corrupt or truncated input ends it with an error. */
export function createZstdDecoder(opts: ZstdDecodeOptions = {}): Transform {
  const source = opts.source ?? 'zstd input';
  const walker = new FrameWalker(opts.maxWindow ?? 128 << 20, source);
  const maxOutput = opts.maxOutput ?? Infinity;
  let produced = 0;
  let sawInput = false;
  let stream: Transform;
  const dec = new Decompress((chunk) => {
    produced += chunk.length;
    if (produced > maxOutput) throw invalidInput('E_ZSTD_TOO_LARGE', `${source}: decompressed data exceeds ${maxOutput} bytes`);
    if (chunk.length) stream.push(chunk);
  });
  const fail = (err: unknown) => {
    if (err && typeof err === 'object' && 'exitCode' in err) return toImagekitError(err);
    const code = (err as { code?: number })?.code;
    if (code === 5) return invalidInput('E_ZSTD_TRUNCATED', `${source}: zstd data is truncated`);
    return invalidInput('E_ZSTD_CORRUPT', `${source}: corrupt zstd data: ${(err as Error)?.message ?? err}`);
  };
  stream = new Transform({
    transform(chunk: Uint8Array, _enc, cb: TransformCallback) {
      try {
        if (chunk.length) sawInput = true;
        walker.feed(chunk);
        dec.push(chunk);
        cb();
      } catch (err) {
        cb(fail(err));
      }
    },
    flush(cb: TransformCallback) {
      try {
        if (!sawInput) throw invalidInput('E_ZSTD_TRUNCATED', `${source}: empty input is not zstd data`);
        if (!walker.atFrameBoundary) throw invalidInput('E_ZSTD_TRUNCATED', `${source}: zstd data is truncated`);
        dec.push(new Uint8Array(0), true);
        cb();
      } catch (err) {
        cb(fail(err));
      }
    },
  });
  return stream;
}

/** One-shot decode. */
export function zstdDecompress(data: Uint8Array, opts: ZstdDecodeOptions = {}): Promise<Uint8Array> {
  return collect(createZstdDecoder(opts), data);
}
