/**
 * Block compressor for squashfs: each data/metadata block is compressed on its own, in parallel.
 *
 *   const bc = createBlockCompressor({ codec: 'zstd', level: 18 });
 *   const pending = blocks.map((b) => bc.compress(b));   // start many (bound the window yourself,
 *   for (const p of pending) write(await p);              //  e.g. with mapInOrder), await in order
 *   await bc.close();
 *
 * Output per codec (what mksquashfs writes for the same block, compressor options aside):
 * - 'zstd': one zstd frame, `ZSTD_compress(level)` (content size in the header, no checksum);
 * - 'gzip': a zlib stream (RFC 1950: 2-byte header, raw deflate, Adler-32), which is what
 *   squashfs calls "gzip" (compressor id 1); window 32 KiB, default strategy;
 * - 'xz': one complete single-block .xz stream with a CRC32 check, as liblzma's buffer encoder
 *   writes it (the pure-TypeScript encoder in ./xz/); `level` is the preset, `xzDictSize` the
 *   dictionary (squashfs `-Xdict-size`, default the preset's).
 * The caller decides whether to keep a block uncompressed when the result is not smaller.
 * Each `compress` settles independently; tasks start in call order. The input is copied, never
 * taken over.
 */
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { invalidInput } from '../core/errors.js';
import { workerUrl } from '../core/worker-url.js';
import { checkGzipLevel } from './gzip.js';
import { defaultPoolSize, WorkerPool } from './pool.js';
import { zstdPool } from './zstd.js';
import { checkZstdLevel } from './zstd-wasm.js';
import type { ZstdTask } from './zstd-worker.js';
import { xzPool } from './xz/xz.js';
import type { XzSingleBlockTask } from './xz/xz-worker.js';

export type BlockCodec = 'zstd' | 'gzip' | 'xz';

export interface BlockCompressorOptions {
  codec: BlockCodec;
  /** zstd 1..19, gzip 1..9, xz preset 0..9. */
  level: number;
  /** xz only: LZMA2 dictionary size in bytes (squashfs `-Xdict-size`). */
  xzDictSize?: number;
  /** Worker threads (zstd) or deflate jobs (gzip) at a time; default min(2, cores). */
  threads?: number;
}

export interface BlockCompressor {
  compress(block: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

const deflate = promisify(zlib.deflate) as (buf: Uint8Array, opts: zlib.ZlibOptions) => Promise<Buffer>;

/** Largest block squashfs allows (1 MiB); bigger inputs are refused. */
const MAX_BLOCK = 1 << 20;

function checkBlock(block: Uint8Array): void {
  if (!(block instanceof Uint8Array)) throw invalidInput('E_BLOCK_INPUT', 'block compressor input must be a Uint8Array');
  if (block.length > MAX_BLOCK) throw invalidInput('E_BLOCK_SIZE', `block of ${block.length} bytes exceeds the 1 MiB squashfs maximum`);
}

export function createBlockCompressor(opts: BlockCompressorOptions): BlockCompressor {
  const threads = opts.threads ?? defaultPoolSize();
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw invalidInput('E_BLOCK_THREADS', `block compressor threads must be an integer 1..64, got ${threads}`);
  }
  switch (opts.codec) {
    case 'zstd': {
      const level = checkZstdLevel(opts.level);
      const own = threads !== defaultPoolSize();
      const pool = own ? new WorkerPool(workerUrl(import.meta.url, './zstd-worker.js'), { size: threads }) : zstdPool();
      let closed = false;
      return {
        async compress(block) {
          checkBlock(block);
          if (closed) throw invalidInput('E_BLOCK_CLOSED', 'block compressor is closed');
          return pool.run<Uint8Array>({ op: 'frame', data: block, level } satisfies ZstdTask);
        },
        async close() {
          closed = true;
          if (own) await pool.close();
        },
      };
    }
    case 'gzip': {
      const level = checkGzipLevel(opts.level);
      // libuv's pool runs the deflates; a small gate keeps at most `threads` of ours at a time.
      const gate = new Gate(threads);
      let closed = false;
      return {
        async compress(block) {
          checkBlock(block);
          if (closed) throw invalidInput('E_BLOCK_CLOSED', 'block compressor is closed');
          const copy = Uint8Array.from(block);
          return gate.run(() => deflate(copy, { level, windowBits: 15, memLevel: 8, strategy: zlib.constants.Z_DEFAULT_STRATEGY }));
        },
        async close() {
          closed = true;
        },
      };
    }
    case 'xz': {
      const preset = opts.level;
      if (!Number.isInteger(preset) || preset < 0 || preset > 9) throw invalidInput('E_XZ_PRESET', `xz preset must be an integer 0..9, got ${preset}`);
      const dictSize = opts.xzDictSize;
      if (dictSize !== undefined && (!Number.isInteger(dictSize) || dictSize < 4096 || dictSize > 1536 << 20)) {
        throw invalidInput('E_XZ_DICT', `xz dictionary size must be an integer 4 KiB..1.5 GiB, got ${dictSize}`);
      }
      const own = threads !== defaultPoolSize();
      const pool = own ? new WorkerPool(workerUrl(import.meta.url, './xz/xz-worker.js'), { size: threads }) : xzPool();
      let closed = false;
      return {
        async compress(block) {
          checkBlock(block);
          if (closed) throw invalidInput('E_BLOCK_CLOSED', 'block compressor is closed');
          const task: XzSingleBlockTask = { op: 'single', data: block, opts: { preset, check: 'crc32', ...(dictSize ? { dictSize } : {}) } };
          const out = await pool.run<Uint8Array | null>(task);
          if (!out) throw invalidInput('E_XZ_BLOCK', 'xz block encoder returned no output');
          return out;
        },
        async close() {
          closed = true;
          if (own) await pool.close();
        },
      };
    }
    default:
      throw invalidInput('E_BLOCK_CODEC', `unknown block codec ${JSON.stringify((opts as { codec: unknown }).codec)} (zstd, gzip or xz)`);
  }
}

/** FIFO limiter: at most `n` tasks run at once, started in call order. */
class Gate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly n: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.n) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
