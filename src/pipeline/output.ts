/**
 * Writing the output of a build, post-processed by `outFormat` (talos-imager.md §0 step 10, §12.1),
 * in one pass: upstream writes the file and then runs `xz -0 -T0` / `pigz -6` / `zstd -18` / `tar |
 * pigz` over it; here the bytes go through the encoder as they are produced, so a disk image is
 * compressed while it is written and no multi-GiB temporary file exists. Names are upstream's:
 * `<name>.xz`, `.gz`, `.zst`, `<name>.tar.gz` (a tar holding `disk.raw`).
 *
 * Destinations: a file, written under a temporary name in the same directory and renamed into place
 * only when complete (nothing is left on failure or interruption), or a stream such as stdout.
 * A raw disk image going to a file is written sparse (holes are never written).
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { PassThrough, Readable, Transform, Writable, type Duplex, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncoder } from '../compress/encoder.js';
import { CompressingSink } from '../compress/compressing-sink.js';
import { ImagekitError, invalidInput, ioError, toImagekitError } from '../core/errors.js';
import type { ProgressSink } from '../core/progress.js';
import { writeStreamAt, type RandomAccessSink } from '../core/sink.js';
import type { OutFormat } from '../profile/schema.js';
import { AtomicFile } from './atomic-file.js';
import { TAR_MEMBER_NAME, tarMemberStream } from './tar-member.js';

/** What a build produces before post-processing. */
export type OutputPayload =
  /** A byte stream of a known size (kernel, initramfs, UKI, command line, installer tar). */
  | { type: 'bytes'; size: number; open: () => AsyncIterable<Uint8Array> }
  /** A disk image written by positioned writes in increasing offset order, holes for zeros. */
  | { type: 'disk'; size: number; write: (sink: RandomAccessSink) => Promise<void> };

export type OutputTarget =
  | { type: 'file'; path: string }
  /** A stream the caller owns (stdout, an HTTP response); it is not ended. */
  | { type: 'stream'; stream: NodeJS.WritableStream; name: string };

export interface WriteOutputOptions {
  outFormat: OutFormat;
  /** mtime of the `.tar.gz` member. */
  sourceDateEpoch: number;
  progress?: ProgressSink;
  signal?: AbortSignal;
}

export interface WrittenOutput {
  /** Bytes of the output as written (compressed size when compressed). */
  bytes: number;
  /** SHA-256 of the output bytes; absent for a sparse raw disk image written to a file (not read back). */
  sha256?: string;
}

/** Interrupted builds (Ctrl-C, a cancelled request) fail with this. */
export function interrupted(signal: AbortSignal): ImagekitError {
  const reason = signal.reason;
  if (reason instanceof ImagekitError) return reason;
  return new ImagekitError('E_INTERRUPTED', 'unknown', typeof reason === 'string' ? reason : 'interrupted');
}

function checkSignal(signal?: AbortSignal): void {
  if (signal?.aborted) throw interrupted(signal);
}

/** The encoder chain of an output format (talos-imager.md §12.1). */
export function postProcessStages(format: OutFormat, size: number, sourceDateEpoch: number): Duplex[] {
  switch (format) {
    case 'raw':
      return [];
    case '.xz':
      return [createEncoder({ format: 'xz', preset: 0, check: 'crc64' })]; // xz -0 -T0
    case '.gz':
      return [createEncoder({ format: 'gzip', level: 6 })]; // pigz -6 --no-time
    case '.zst':
      return [createEncoder({ format: 'zstd', level: 18 })]; // zstd -T0 -18
    case '.tar.gz':
      return [tarMemberStream(TAR_MEMBER_NAME, size, sourceDateEpoch), createEncoder({ format: 'gzip', level: 6 })];
    default:
      throw invalidInput('E_PROFILE_OUT_FORMAT', `unknown output format: ${format}`);
  }
}

const PROGRESS_EVERY = 8 << 20;

/** Counts the bytes of the uncompressed output for progress events; fails when interrupted. */
class ProgressCounter extends Transform {
  done = 0;
  private last = 0;
  constructor(private readonly total: number, private readonly progress?: ProgressSink, private readonly signal?: AbortSignal) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    if (this.signal?.aborted) return cb(interrupted(this.signal));
    this.done += chunk.byteLength;
    if (this.progress && (this.done - this.last >= PROGRESS_EVERY || this.done === this.total)) {
      this.last = this.done;
      this.progress({ type: 'bytes', step: 'output', done: this.done, total: this.total });
    }
    cb(null, chunk);
  }
}

/** Hashes and counts what passes. */
class Digester extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    cb(null, chunk);
  }
}

/** Sequential writes to a file handle, with backpressure (positional, so no shared file offset). */
class FileHandleWritable extends Writable {
  private position = 0;
  constructor(private readonly fh: FileHandle, private readonly name: string) {
    super({ highWaterMark: 4 << 20 });
  }
  override _write(chunk: Buffer, _e: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.writeAll(chunk).then(() => cb(), (err) => cb(ioError('E_OUTPUT_WRITE', `cannot write ${this.name}: ${(err as Error).message}`, err)));
  }
  private async writeAll(chunk: Buffer): Promise<void> {
    let done = 0;
    while (done < chunk.byteLength) {
      const { bytesWritten } = await this.fh.write(chunk, done, chunk.byteLength - done, this.position + done);
      done += bytesWritten;
    }
    this.position += chunk.byteLength;
  }
}

/** Forwards to a stream the caller owns without ending it. */
function forwardTo(stream: NodeJS.WritableStream, name: string): Writable {
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _e, cb) {
      let settled = false;
      const done = (err?: Error | null) => {
        if (settled) return;
        settled = true;
        stream.removeListener('error', onError);
        cb(err ? ioError('E_OUTPUT_WRITE', `cannot write ${name}: ${err.message}`, err) : null);
      };
      const onError = (err: Error) => done(err);
      stream.once('error', onError);
      if (stream.write(chunk)) done();
      else stream.once('drain', () => done());
    },
  });
}

/** A RandomAccessSink over a file handle: positioned writes, holes left unwritten (sparse). */
class SparseHandleSink implements RandomAccessSink {
  private _size = 0;
  private reported = 0;
  constructor(private readonly fh: FileHandle, private readonly name: string, private readonly total: number, private readonly progress?: ProgressSink, private readonly signal?: AbortSignal) {}
  get size(): number {
    return this._size;
  }
  private advance(end: number): void {
    checkSignal(this.signal);
    if (end > this._size) this._size = end;
    if (this.progress && (this._size - this.reported >= PROGRESS_EVERY || this._size === this.total)) {
      this.reported = this._size;
      this.progress({ type: 'bytes', step: 'output', done: Math.min(this._size, this.total), total: this.total });
    }
  }
  async write(offset: number, bytes: Uint8Array): Promise<void> {
    checkSignal(this.signal);
    let done = 0;
    try {
      while (done < bytes.byteLength) {
        const { bytesWritten } = await this.fh.write(bytes, done, bytes.byteLength - done, offset + done);
        done += bytesWritten;
      }
    } catch (err) {
      throw ioError('E_OUTPUT_WRITE', `cannot write ${this.name}: ${(err as Error).message}`, err);
    }
    this.advance(offset + bytes.byteLength);
  }
  writeFrom(offset: number, stream: Readable | AsyncIterable<Uint8Array>): Promise<number> {
    return writeStreamAt(this, offset, stream);
  }
  async hole(offset: number, length: number): Promise<void> {
    if (offset + length > this._size) await this.setSize(offset + length);
    this.advance(offset + length);
  }
  async setSize(size: number): Promise<void> {
    checkSignal(this.signal);
    try {
      await this.fh.truncate(size);
    } catch (err) {
      throw ioError('E_OUTPUT_WRITE', `cannot size ${this.name}: ${(err as Error).message}`, err);
    }
    this._size = size;
  }
  async close(): Promise<void> {}
}

/** Progress and interruption for a disk written through a CompressingSink. */
class ObservedSink implements RandomAccessSink {
  private reported = 0;
  constructor(private readonly inner: CompressingSink, private readonly total: number, private readonly progress?: ProgressSink, private readonly signal?: AbortSignal) {}
  get size(): number {
    return this.inner.size;
  }
  private after(): void {
    checkSignal(this.signal);
    const done = this.inner.offset;
    if (this.progress && (done - this.reported >= PROGRESS_EVERY || done === this.total)) {
      this.reported = done;
      this.progress({ type: 'bytes', step: 'output', done, total: this.total });
    }
  }
  async write(offset: number, bytes: Uint8Array): Promise<void> {
    checkSignal(this.signal);
    await this.inner.write(offset, bytes);
    this.after();
  }
  async writeFrom(offset: number, stream: Readable | AsyncIterable<Uint8Array>): Promise<number> {
    const self = this;
    async function* observed(): AsyncGenerator<Uint8Array> {
      for await (const chunk of stream as AsyncIterable<Uint8Array>) {
        checkSignal(self.signal);
        yield chunk;
        self.after();
      }
    }
    return this.inner.writeFrom(offset, observed());
  }
  async hole(offset: number, length: number): Promise<void> {
    checkSignal(this.signal);
    await this.inner.hole(offset, length);
    this.after();
  }
  async setSize(size: number): Promise<void> {
    await this.inner.setSize(size);
  }
  async close(): Promise<void> {
    await this.inner.close();
    this.after();
  }
}

/** Write a payload through the post-processing stages into a writable. */
async function emit(payload: OutputPayload, out: Writable, opts: WriteOutputOptions, name: string): Promise<WrittenOutput> {
  const digest = new Digester();
  const stages = postProcessStages(opts.outFormat, payload.size, opts.sourceDateEpoch);
  if (payload.type === 'bytes') {
    const counter = new ProgressCounter(payload.size, opts.progress, opts.signal);
    await pipeline(Readable.from(payload.open(), { objectMode: false }), counter, ...stages, digest, out);
    if (counter.done !== payload.size) throw ioError('E_OUTPUT_SIZE', `${name}: ${counter.done} bytes produced, ${payload.size} expected`);
    return { bytes: digest.bytes, sha256: digest.hash.digest('hex') };
  }
  // The sink feeds the head of the chain; the chain (encoders → digest → out) runs on its own.
  const chain: Array<Duplex | Writable> = [...stages, digest, out];
  const head = chain[0] as Writable;
  const chainDone = pipeline(chain as unknown as [Duplex, ...Duplex[]]);
  chainDone.catch(() => {});
  const compressing = new CompressingSink(new PassThrough({ highWaterMark: 1 << 20 }), head, { name });
  const sink = new ObservedSink(compressing, payload.size, opts.progress, opts.signal);
  try {
    await payload.write(sink);
    await sink.setSize(payload.size);
    await sink.close();
    await chainDone;
  } catch (err) {
    compressing.abort(toImagekitError(err));
    head.destroy(toImagekitError(err));
    await chainDone.catch(() => {});
    throw err;
  }
  if (compressing.offset !== payload.size) throw ioError('E_OUTPUT_SIZE', `${name}: ${compressing.offset} bytes written, the disk is ${payload.size}`);
  return { bytes: digest.bytes, sha256: digest.hash.digest('hex') };
}

/** Write the output to its target; a file appears whole (temp name + rename) or not at all. */
export async function writeOutput(payload: OutputPayload, target: OutputTarget, opts: WriteOutputOptions): Promise<WrittenOutput> {
  checkSignal(opts.signal);
  if (target.type === 'stream') return emit(payload, forwardTo(target.stream, target.name), opts, target.name);

  const file = await AtomicFile.create(target.path);
  try {
    let written: WrittenOutput;
    if (payload.type === 'disk' && opts.outFormat === 'raw') {
      const sink = new SparseHandleSink(file.handle, target.path, payload.size, opts.progress, opts.signal);
      await payload.write(sink);
      await sink.setSize(payload.size);
      written = { bytes: payload.size };
    } else {
      written = await emit(payload, new FileHandleWritable(file.handle, target.path), opts, target.path);
    }
    checkSignal(opts.signal);
    await file.commit();
    return written;
  } catch (err) {
    await file.abort();
    throw err;
  }
}
