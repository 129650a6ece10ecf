/**
 * The plumbing shared by the parallel encoders: cut the input into fixed-size segments (so the
 * output never depends on how the input was chunked, nor on the number of threads), start an
 * asynchronous job per segment, and emit the jobs' outputs in segment order with a bounded number
 * in flight. The writer is held back (backpressure) while the window is full.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { toImagekitError } from '../core/errors.js';

export interface SegmentJobs<R> {
  /** Start the job for one segment. `segment` is owned by the job (never reused). */
  start(segment: Uint8Array, index: number): Promise<R>;
  /**
   * Start the job for a segment of `length` zero bytes (optional fast path: no buffer is filled
   * for it). Without it, `start` gets a fresh zeroed buffer.
   */
  startZero?(length: number, index: number): Promise<R>;
  /** Turn a finished job into output bytes (called in segment order). */
  emit(result: R, index: number): Uint8Array[];
  /** Output after the last segment (called once, after every `emit`). */
  finish?(segments: number): Uint8Array[];
  /** Release resources (called once, on success, error or destroy). */
  close?(): Promise<void> | void;
}

export interface SegmentStreamOptions {
  segmentSize: number;
  /** Jobs in flight before the writer is held back. */
  window: number;
}

export class SegmentStream<R> extends Transform {
  private buf: Uint8Array | null = null;
  private fill = 0;
  private index = 0;
  private emitted = 0;
  private readonly inflight: Promise<R>[] = [];
  private released = false;

  constructor(private readonly jobs: SegmentJobs<R>, private readonly opts: SegmentStreamOptions) {
    super({ readableHighWaterMark: 1 << 20, writableHighWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer | Uint8Array, _enc: BufferEncoding, callback: TransformCallback): void {
    this.absorb(chunk).then(() => callback(), (err) => callback(toImagekitError(err)));
  }

  override _flush(callback: TransformCallback): void {
    (async () => {
      if (this.fill > 0) this.submit();
      while (this.inflight.length) await this.drainOne();
      for (const b of this.jobs.finish?.(this.index) ?? []) if (b.length) this.push(b);
      await this.release();
    })().then(() => callback(), (err) => {
      void this.release();
      callback(toImagekitError(err));
    });
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.release().then(() => callback(err), () => callback(err));
  }

  private async absorb(chunk: Uint8Array): Promise<void> {
    const size = this.opts.segmentSize;
    let at = 0;
    while (at < chunk.length) {
      const n = Math.min(size - this.fill, chunk.length - at);
      const piece = chunk.subarray(at, at + n);
      // While a segment holds only zeros it has no buffer: a run of zero chunks costs a memcmp each.
      if (this.buf || !isAllZero(piece)) {
        this.buf ??= new Uint8Array(size); // zero-filled: covers the zeros counted so far
        this.buf.set(piece, this.fill);
      }
      this.fill += n;
      at += n;
      if (this.fill === size) {
        this.submit();
        while (this.inflight.length >= Math.max(1, this.opts.window)) await this.drainOne();
      }
    }
  }

  private submit(): void {
    const index = this.index++;
    let p: Promise<R>;
    if (!this.buf) {
      p = this.jobs.startZero ? this.jobs.startZero(this.fill, index) : this.jobs.start(new Uint8Array(this.fill), index);
    } else {
      const seg = this.fill === this.buf.length ? this.buf : this.buf.slice(0, this.fill);
      p = this.jobs.start(seg, index);
    }
    this.buf = null;
    this.fill = 0;
    p.catch(() => {}); // surfaced in order by drainOne
    this.inflight.push(p);
  }

  private async drainOne(): Promise<void> {
    const r = await this.inflight.shift()!;
    for (const b of this.jobs.emit(r, this.emitted++)) if (b.length) this.push(b);
  }

  private async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.inflight.length = 0;
    await this.jobs.close?.();
  }
}

/** True when every byte is zero (memcmp speed). */
export function isAllZero(b: Uint8Array): boolean {
  const step = ZERO.length;
  for (let at = 0; at < b.length; at += step) {
    const n = Math.min(step, b.length - at);
    if (Buffer.compare(ZERO.subarray(0, n), Buffer.from(b.buffer, b.byteOffset + at, n)) !== 0) return false;
  }
  return true;
}
const ZERO = Buffer.alloc(1 << 20);
