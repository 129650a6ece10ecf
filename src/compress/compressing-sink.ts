/**
 * CompressingSink: the "sequential compressor" RandomAccessSink (design.md "Seams"). Positioned
 * writes must come in offset order; gaps between them and declared holes become zeros; everything
 * goes through an encoder Transform into a Writable. So a disk image can be compressed while it is
 * being written, without a temp file.
 *
 * Zeros are never materialised as one big buffer: a run of N zero bytes is handed to the encoder
 * as N / 1 MiB writes of one shared, read-only zero buffer (the encoders copy what they keep), so
 * memory stays bounded and the encoders' all-zero fast paths see whole zero segments.
 *
 * Not allowed (E_SINK_ORDER): a write, stream or hole that starts before the current position,
 * or a `setSize` below it. A zero-length write anywhere is a no-op.
 */
import type { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalidInput, ioError, toImagekitError } from '../core/errors.js';
import type { RandomAccessSink } from '../core/sink.js';

export interface CompressingSinkOptions {
  /** Size of the zero chunks handed to the encoder for gaps and holes; default 1 MiB. */
  zeroChunk?: number;
  /** Names the output in error messages. */
  name?: string;
}

const ZERO_CHUNKS = new Map<number, Buffer>();

function zeroChunk(size: number): Buffer {
  let z = ZERO_CHUNKS.get(size);
  if (!z) {
    z = Buffer.alloc(size);
    ZERO_CHUNKS.set(size, z);
  }
  return z;
}

function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0 || !Number.isSafeInteger(offset + length)) {
    throw invalidInput('E_SINK_RANGE', `invalid write range offset=${offset} length=${length}`);
  }
}

export class CompressingSink implements RandomAccessSink {
  /** Next byte offset the encoder expects. */
  private position = 0;
  private declared = 0;
  private failure: Error | null = null;
  private closed = false;
  private readonly done: Promise<void>;
  private readonly zero: Buffer;
  private readonly name: string;

  constructor(private readonly encoder: Transform, out: Writable, opts: CompressingSinkOptions = {}) {
    const z = opts.zeroChunk ?? 1 << 20;
    if (!Number.isInteger(z) || z < 512 || z > 64 << 20) throw invalidInput('E_SINK_ZERO_CHUNK', `zero chunk must be 512 B..64 MiB, got ${z}`);
    this.zero = zeroChunk(z);
    this.name = opts.name ?? 'compressed output';
    this.done = pipeline(encoder, out).catch((err) => {
      this.failure = toImagekitError(err);
      throw this.failure;
    });
    this.done.catch(() => {});
  }

  get size(): number {
    return Math.max(this.position, this.declared);
  }

  /** Bytes handed to the encoder so far (the current write position). */
  get offset(): number {
    return this.position;
  }

  async write(offset: number, bytes: Uint8Array): Promise<void> {
    checkRange(offset, bytes.byteLength);
    if (bytes.byteLength === 0) return;
    await this.seek(offset, 'write');
    await this.put(bytes);
  }

  async writeFrom(offset: number, stream: Readable | AsyncIterable<Uint8Array>): Promise<number> {
    checkRange(offset, 0);
    let first = true;
    let n = 0;
    for await (const chunk of stream as AsyncIterable<Uint8Array>) {
      if (chunk.byteLength === 0) continue;
      if (first) {
        await this.seek(offset, 'stream');
        first = false;
      }
      await this.put(chunk);
      n += chunk.byteLength;
    }
    return n;
  }

  async hole(offset: number, length: number): Promise<void> {
    checkRange(offset, length);
    if (length === 0) return;
    await this.seek(offset, 'hole');
    await this.zeros(length);
  }

  async setSize(size: number): Promise<void> {
    checkRange(size, 0);
    if (size < this.position) {
      throw invalidInput('E_SINK_ORDER', `${this.name}: cannot set size ${size} below the ${this.position} bytes already compressed`);
    }
    this.declared = size;
  }

  /** Pad to the declared size, end the encoder and wait until the output has everything. */
  async close(): Promise<void> {
    if (this.closed) return this.done;
    this.closed = true;
    try {
      if (this.declared > this.position) await this.zeros(this.declared - this.position);
      this.encoder.end();
    } catch (err) {
      this.encoder.destroy(err as Error);
    }
    await this.done;
  }

  /** Abort: destroy the pipeline (the output is incomplete). */
  abort(err: Error = ioError('E_SINK_ABORTED', `${this.name}: aborted`)): void {
    this.closed = true;
    this.encoder.destroy(err);
  }

  private async seek(offset: number, what: string): Promise<void> {
    if (this.closed) throw invalidInput('E_SINK_CLOSED', `${this.name}: ${what} after close`);
    if (offset < this.position) {
      throw invalidInput('E_SINK_ORDER', `${this.name}: ${what} at offset ${offset} goes back before ${this.position} (writes must come in offset order)`);
    }
    if (offset > this.position) await this.zeros(offset - this.position);
  }

  private async zeros(n: number): Promise<void> {
    while (n > 0) {
      const k = Math.min(n, this.zero.length);
      await this.put(k === this.zero.length ? this.zero : this.zero.subarray(0, k));
      n -= k;
    }
  }

  private async put(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    this.position += chunk.byteLength;
    if (!this.encoder.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          cleanup();
          resolve();
        };
        const onClose = () => {
          cleanup();
          // The pipeline's own error (if any) is the cause worth reporting.
          this.done.then(() => reject(ioError('E_SINK_CLOSED', `${this.name}: encoder closed`)), reject);
        };
        const cleanup = () => {
          this.encoder.off('drain', onDrain);
          this.encoder.off('close', onClose);
        };
        this.encoder.on('drain', onDrain);
        this.encoder.on('close', onClose);
      });
    }
    if (this.failure) throw this.failure;
  }
}
