/**
 * The zstd encoder: libzstd 1.5.7 compiled to WASM (`@hpcc-js/wasm-zstd`, pinned). One module
 * instance per thread; it holds a single streaming context, so a thread runs at most one streaming
 * session at a time (the workers in zstd-worker.ts own theirs). One-shot calls (`ZSTD_compress`)
 * use a fresh context each and may run at any time.
 *
 * Byte output depends only on the libzstd version inside the package and, for streams, on the
 * chunk boundaries (this version's `compressChunk` flushes at each chunk end), which is why
 * callers feed fixed-size chunks (zstd.ts `ZSTD_STREAM_CHUNK`).
 */
import { Zstd } from '@hpcc-js/wasm-zstd';
import { dependency, invalidInput } from '../core/errors.js';

let loading: Promise<Zstd> | undefined;

export function loadZstd(): Promise<Zstd> {
  loading ??= Zstd.load().catch((err: unknown) => {
    loading = undefined;
    throw dependency('E_ZSTD_WASM', `cannot load the zstd WASM module: ${(err as Error)?.message ?? err}`, err);
  });
  return loading;
}

/** zstd levels accepted by imagekit (the CLI's normal range). */
export function checkZstdLevel(level: number): number {
  if (!Number.isInteger(level) || level < 1 || level > 19) {
    throw invalidInput('E_ZSTD_LEVEL', `zstd level must be an integer 1..19, got ${level}`);
  }
  return level;
}

const ZSTD_MAGIC = 0xfd2fb528;

function checkFrame(out: Uint8Array, inputLength: number): Uint8Array {
  // The package logs instead of throwing on a libzstd error; a real frame starts with the magic
  // and is never larger than compressBound.
  const bound = inputLength + (inputLength >>> 8) + 64 + (inputLength < 128 << 10 ? ((128 << 10) - inputLength) >>> 11 : 0);
  if (out.length < 6 || out.length > bound || new DataView(out.buffer, out.byteOffset, 4).getUint32(0, true) !== ZSTD_MAGIC) {
    throw dependency('E_ZSTD_ENCODE', `zstd encoder failed on a ${inputLength}-byte input`);
  }
  return out;
}

/** One complete zstd frame (content size in the header, no checksum), as `ZSTD_compress`. */
export async function zstdCompressFrame(data: Uint8Array, level: number): Promise<Uint8Array> {
  const z = await loadZstd();
  return checkFrame(z.compress(data, checkZstdLevel(level)), data.length);
}

/** A streaming session on this thread's context. Call `begin` before the first chunk. */
export class ZstdStreamSession {
  private constructor(private readonly z: Zstd) {}
  static async open(): Promise<ZstdStreamSession> {
    return new ZstdStreamSession(await loadZstd());
  }
  begin(level: number): void {
    this.z.reset();
    this.z.setCompressionLevel(checkZstdLevel(level));
  }
  chunk(data: Uint8Array): Uint8Array {
    return data.length === 0 ? new Uint8Array(0) : this.z.compressChunk(data);
  }
  end(): Uint8Array {
    return this.z.compressEnd();
  }
}
