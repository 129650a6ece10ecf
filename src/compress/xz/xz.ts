/**
 * xz encode and decode as Node streams (backpressure honoured) plus one-shot helpers.
 *
 * Encoding is what `xz -T0` does: the input is cut into blocks of the preset's block size (3 × dict,
 * at least 1 MiB), every block is encoded on its own by worker threads, and the blocks are written
 * in order followed by the index and the footer. The bytes depend only on the input and the
 * options, never on the thread count or on how the input was chunked, and they are the bytes
 * xz 5.4 writes for `xz -<preset>[e] -T0 -C <check>` (talos-imager.md §4.6, §12.1).
 * All-zero blocks reuse one cached encoding, so mostly-empty disk images cost only their data.
 *
 * Decoding (xz-decoder.ts) handles multi-block files, concatenated streams and stream padding.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { invalidInput, toImagekitError } from '../../core/errors.js';
import { workerUrl } from '../../core/worker-url.js';
import { defaultPoolSize, WorkerPool } from '../pool.js';
import { collect } from '../stream-util.js';
import { XzBlockEncoder, type EncodedBlock } from './block-encoder.js';
import { encodeIndex, streamFooter, streamHeader, type IndexRecord } from './container.js';
import { resolveXzOptions, type ResolvedXzOptions, type XzEncodeOptions } from './options.js';
import { XzStreamDecoder, xzDecodeSync, type XzDecodeOptions } from './xz-decoder.js';
import type { XzBlockTask, XzSingleBlockTask } from './xz-worker.js';
import { xzEncodeSingleBlock, type XzSingleBlockOptions } from './single-block.js';
import { isAllZero, zeroBlock } from './zero-block.js';

export type { XzEncodeOptions } from './options.js';
export type { XzDecodeOptions } from './xz-decoder.js';

/** What the imager runs on an initramfs for Talos < 1.8: `xz -C crc32 -0 -e -T0` (talos-imager.md §4.6). */
export const XZ_INITRAMFS: Readonly<XzEncodeOptions> = Object.freeze({ preset: 0, extreme: true, check: 'crc32' as const });
/** What the imager runs on a disk image: `xz -0 -T0` (CRC64, talos-imager.md §12.1). */
export const XZ_DISK_IMAGE: Readonly<XzEncodeOptions> = Object.freeze({ preset: 0, check: 'crc64' as const });

let sharedPool: WorkerPool | null = null;

/** A copy that owns its memory (Buffer#slice would be a view of the caller's bytes). */
function copyOf(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  out.set(data);
  return out;
}

/** The process-wide xz pool (workers start lazily and never keep the process alive while idle). */
export function xzPool(): WorkerPool {
  sharedPool ??= new WorkerPool(workerUrl(import.meta.url, './xz-worker.js'));
  return sharedPool;
}

function resolveThreads(threads: number | undefined): number {
  const t = threads ?? defaultPoolSize();
  if (!Number.isInteger(t) || t < 0 || t > 64) throw invalidInput('E_XZ_THREADS', `xz threads must be an integer 0..64, got ${t}`);
  return t;
}

/** Encodes whole blocks on a pool (or on this thread when threads = 0). */
class BlockJobs {
  private readonly pool: WorkerPool | null;
  private readonly ownPool: boolean;
  private local: XzBlockEncoder | null = null;

  constructor(private readonly r: ResolvedXzOptions, threads: number) {
    if (threads === 0) {
      this.pool = null;
      this.ownPool = false;
    } else if (threads === defaultPoolSize()) {
      this.pool = xzPool();
      this.ownPool = false;
    } else {
      this.pool = new WorkerPool(workerUrl(import.meta.url, './xz-worker.js'), { size: threads });
      this.ownPool = true;
    }
  }

  get threads(): number {
    return this.pool?.size ?? 1;
  }

  /**
   * Encode one block. Unless `borrowed`, `data` is owned by the job (its buffer may be transferred);
   * borrowed data is copied before it leaves this call.
   */
  block(data: Uint8Array, borrowed = false): Promise<EncodedBlock> {
    const r = this.r;
    if (isAllZero(data)) return Promise.resolve(zeroBlock(r, data.length));
    const style = { kind: 'mt', blockSize: r.blockSize } as const;
    if (!this.pool) {
      this.local ??= new XzBlockEncoder(r.lzma, r.check);
      try {
        return Promise.resolve(this.local.encode(data, style));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const whole = !borrowed && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    const own = whole ? data : copyOf(data);
    const task: XzBlockTask = { op: 'block', data: own, lzma: r.lzma, check: r.check, style };
    return this.pool.run<EncodedBlock>(task, [own.buffer as ArrayBuffer]);
  }

  async close(): Promise<void> {
    if (this.ownPool) await this.pool!.close();
  }
}

/** Index + footer, and the stream header for a stream without blocks. */
class StreamAssembler {
  private readonly records: IndexRecord[] = [];
  constructor(private readonly r: ResolvedXzOptions) {}

  get count(): number {
    return this.records.length;
  }

  block(b: EncodedBlock, index: number): Uint8Array[] {
    this.records.push({ unpaddedSize: b.unpaddedSize, uncompressedSize: b.uncompressedSize });
    return index === 0 ? [streamHeader(this.r.check), b.bytes] : [b.bytes];
  }

  finish(blocks: number): Uint8Array[] {
    const index = encodeIndex(this.records);
    const tail = [index, streamFooter(this.r.check, index.length)];
    return blocks === 0 ? [streamHeader(this.r.check), ...tail] : tail;
  }
}

/**
 * An xz encoder stream: multi-block, parallel, byte-identical to `xz -<preset>[e] -T0 -C <check>`.
 * Defaults: preset 6, CRC64 (as xz). For the kernel use CRC32 (`XZ_INITRAMFS`).
 */
export function createXzEncoder(opts: XzEncodeOptions = {}): Transform {
  const r = resolveXzOptions(opts);
  return new XzEncoderStream(r, new BlockJobs(r, resolveThreads(opts.threads)));
}

/**
 * Cuts the input into blocks at fixed offsets (so the bytes never depend on the chunking), keeps
 * at most `2 × threads` blocks in flight, and emits them in order. A whole all-zero block seen in
 * an input chunk is never copied: it is recognised in place and its cached encoding is emitted.
 */
class XzEncoderStream extends Transform {
  private buf: Uint8Array | null = null;
  private fill = 0;
  private index = 0;
  private readonly inflight: Promise<EncodedBlock>[] = [];
  private readonly asm: StreamAssembler;
  private readonly window: number;
  private released = false;

  constructor(
    private readonly r: ResolvedXzOptions,
    private readonly jobs: BlockJobs,
  ) {
    super({ readableHighWaterMark: 1 << 20, writableHighWaterMark: 1 << 20 });
    this.asm = new StreamAssembler(r);
    this.window = jobs.threads * 2;
  }

  override _transform(chunk: Uint8Array, _enc: BufferEncoding, callback: TransformCallback): void {
    this.absorb(chunk).then(
      () => callback(),
      (err) => callback(toImagekitError(err)),
    );
  }

  override _flush(callback: TransformCallback): void {
    (async () => {
      if (this.fill > 0) this.submit(this.buf!.subarray(0, this.fill));
      while (this.inflight.length) await this.drainOne();
      for (const b of this.asm.finish(this.index)) this.push(b);
      await this.release();
    })().then(
      () => callback(),
      (err) => {
        void this.release();
        callback(toImagekitError(err));
      },
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.release().then(
      () => callback(err),
      () => callback(err),
    );
  }

  private async absorb(chunk: Uint8Array): Promise<void> {
    const size = this.r.blockSize;
    let at = 0;
    while (at < chunk.length) {
      if (this.fill === 0 && chunk.length - at >= size) {
        // A whole block inside this chunk: no staging copy unless it has to go to a worker.
        const view = chunk.subarray(at, at + size);
        at += size;
        this.submit(view, true);
      } else {
        this.buf ??= new Uint8Array(size);
        const n = Math.min(size - this.fill, chunk.length - at);
        this.buf.set(chunk.subarray(at, at + n), this.fill);
        this.fill += n;
        at += n;
        if (this.fill < size) continue;
        this.submit(this.buf);
      }
      while (this.inflight.length >= this.window) await this.drainOne();
    }
  }

  /** Start the job for one block; `borrowed` data belongs to the caller and is copied if kept. */
  private submit(data: Uint8Array, borrowed = false): void {
    if (!borrowed) {
      this.buf = null;
      this.fill = 0;
    }
    const p = this.jobs.block(data, borrowed);
    p.catch(() => {}); // surfaced in order by drainOne
    this.inflight.push(p);
    this.index++;
  }

  private async drainOne(): Promise<void> {
    const block = await this.inflight.shift()!;
    for (const b of this.asm.block(block, this.asm.count)) this.push(b);
  }

  private async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.inflight.length = 0;
    await this.jobs.close();
  }
}

/** One-shot encode: the same bytes as `createXzEncoder` with the same options. */
export function xzEncode(data: Uint8Array, opts: XzEncodeOptions = {}): Promise<Uint8Array> {
  return collect(createXzEncoder(opts), data);
}

/**
 * One complete single-block .xz stream (a squashfs block: preset 6, dict = block size, CRC32),
 * encoded on the shared pool; null when it would exceed `opts.outLimit` (then squashfs stores the
 * block uncompressed). `threads: 0` style callers can use `xzEncodeSingleBlock` directly.
 */
export function xzEncodeSingleBlockAsync(data: Uint8Array, opts: XzSingleBlockOptions = {}): Promise<Uint8Array | null> {
  const copy = copyOf(data);
  const task: XzSingleBlockTask = { op: 'single', data: copy, opts: { ...opts } };
  return xzPool().run<Uint8Array | null>(task, [copy.buffer as ArrayBuffer]);
}

export { xzEncodeSingleBlock, type XzSingleBlockOptions };

// ---------------------------------------------------------------------------------------------

/**
 * An xz decoder stream (multi-block, concatenated streams, stream padding). Output is produced a
 * piece (≤ one LZMA2 chunk) at a time and decoding pauses while the reader is behind, so a small
 * input that expands hugely never fills memory.
 */
export function createXzDecoder(opts: XzDecodeOptions = {}): Transform {
  return new XzDecoderStream(opts);
}

class XzDecoderStream extends Transform {
  private readonly decoder: XzStreamDecoder;
  private onReadable: (() => void) | null = null;

  constructor(opts: XzDecodeOptions) {
    super({ readableHighWaterMark: 1 << 20 });
    this.decoder = new XzStreamDecoder(opts);
  }

  override _read(size: number): void {
    const r = this.onReadable;
    this.onReadable = null;
    r?.();
    super._read(size);
  }

  override _transform(chunk: Uint8Array, _enc: BufferEncoding, callback: TransformCallback): void {
    this.decoder.write(chunk);
    this.pump().then(
      () => callback(),
      (err) => callback(toImagekitError(err)),
    );
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.decoder.end();
      callback();
    } catch (err) {
      callback(toImagekitError(err));
    }
  }

  private async pump(): Promise<void> {
    for (let p = this.decoder.read(); p; p = this.decoder.read()) {
      if (!this.push(p)) await new Promise<void>((r) => (this.onReadable = r));
    }
  }
}

/** One-shot decode of a whole .xz file (synchronous work on this thread). */
export async function xzDecode(data: Uint8Array, opts: XzDecodeOptions = {}): Promise<Uint8Array> {
  return xzDecodeSync(data, opts);
}
