/**
 * RandomAccessSink: positioned writes with holes (design.md "Seams"). GPT/FAT/META/ISO writers
 * target it so a disk can be written sparse to a file, into memory (tests), or through an adapter
 * that accepts writes in offset order and streams them into a compressor.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ioError, invalidInput } from './errors.js';

export interface RandomAccessSink {
  /** Write bytes at an absolute offset. */
  write(offset: number, bytes: Uint8Array): Promise<void>;
  /** Copy a stream to an absolute offset; resolves with the number of bytes written. */
  writeFrom(offset: number, stream: Readable | AsyncIterable<Uint8Array>): Promise<number>;
  /** Declare [offset, offset+length) as zeros (a hole where the backing store allows). */
  hole(offset: number, length: number): Promise<void>;
  /** Final size of the image; set before or after writing. */
  setSize(size: number): Promise<void>;
  readonly size: number;
  close(): Promise<void>;
}

/** `writeFrom` for any sink: positioned writes of each chunk, in order. Resolves with the byte count. */
export async function writeStreamAt(
  sink: Pick<RandomAccessSink, 'write'>,
  offset: number,
  stream: Readable | AsyncIterable<Uint8Array>,
): Promise<number> {
  let pos = offset;
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    await sink.write(pos, chunk);
    pos += chunk.byteLength;
  }
  return pos - offset;
}

function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw invalidInput('E_SINK_RANGE', `invalid write range offset=${offset} length=${length}`);
  }
}

/** In-memory sink (tests, small images). Grows as needed up to `limit`. */
export class MemorySink implements RandomAccessSink {
  private buf: Buffer;
  private _size = 0;
  constructor(initialSize = 0, private readonly limit = 2 ** 31) {
    this.buf = Buffer.alloc(initialSize);
    this._size = initialSize;
  }
  get size(): number {
    return this._size;
  }
  private ensure(end: number): void {
    if (end > this.limit) throw invalidInput('E_SINK_RANGE', `memory sink limit ${this.limit} exceeded (${end})`);
    if (end > this.buf.length) {
      const next = Buffer.alloc(Math.max(end, Math.min(this.limit, this.buf.length * 2)));
      this.buf.copy(next);
      this.buf = next;
    }
    if (end > this._size) this._size = end;
  }
  async write(offset: number, bytes: Uint8Array): Promise<void> {
    checkRange(offset, bytes.byteLength);
    this.ensure(offset + bytes.byteLength);
    this.buf.set(bytes, offset);
  }
  writeFrom(offset: number, stream: Readable | AsyncIterable<Uint8Array>): Promise<number> {
    return writeStreamAt(this, offset, stream);
  }
  async hole(offset: number, length: number): Promise<void> {
    checkRange(offset, length);
    this.ensure(offset + length);
    this.buf.fill(0, offset, offset + length);
  }
  async setSize(size: number): Promise<void> {
    checkRange(size, 0);
    this.ensure(size);
    this._size = size;
  }
  /** The image bytes (a view, not a copy). */
  bytes(): Buffer {
    return this.buf.subarray(0, this._size);
  }
  async close(): Promise<void> {}
}

/**
 * Sparse file sink: holes are never written, so the file stays sparse on file systems that support
 * it (ftruncate extends with a hole).
 */
export class SparseFileSink implements RandomAccessSink {
  private _size = 0;
  private constructor(private readonly fh: FileHandle, readonly path: string) {}

  static async create(path: string): Promise<SparseFileSink> {
    try {
      return new SparseFileSink(await open(path, 'w+', 0o644), path);
    } catch (err) {
      throw ioError('E_OUTPUT_OPEN', `cannot create ${path}: ${(err as Error).message}`, err);
    }
  }
  get size(): number {
    return this._size;
  }
  async write(offset: number, bytes: Uint8Array): Promise<void> {
    checkRange(offset, bytes.byteLength);
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await this.fh.write(bytes, done, bytes.byteLength - done, offset + done);
      done += bytesWritten;
    }
    this._size = Math.max(this._size, offset + bytes.byteLength);
  }
  writeFrom(offset: number, stream: Readable | AsyncIterable<Uint8Array>): Promise<number> {
    return writeStreamAt(this, offset, stream);
  }
  async hole(offset: number, length: number): Promise<void> {
    checkRange(offset, length);
    // Holes inside the file already read as zeros only if never written; writers declare holes
    // over untouched ranges, so only the size needs extending.
    if (offset + length > this._size) await this.setSize(offset + length);
  }
  async setSize(size: number): Promise<void> {
    checkRange(size, 0);
    await this.fh.truncate(size);
    this._size = size;
  }
  async close(): Promise<void> {
    await this.fh.close();
  }
}
