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

/**
 * The package's own one-shot `compress` copies its result through a JS array (8 bytes of garbage
 * per output byte) and only logs libzstd errors. When the pinned version's module handle is there,
 * call `ZSTD_compress` through it directly: one copy out of the WASM heap, errors thrown.
 */
interface HeapBlock {
  ptr: number;
  size: number;
}
interface ModuleHandle {
  malloc(n: number): HeapBlock;
  free(b: HeapBlock): void;
  dataToHeap(d: Uint8Array): HeapBlock;
  heapView(b: HeapBlock): Uint8Array;
}
interface ZstdStatics {
  compress(dst: number, cap: number, src: number, n: number, level: number): number;
  compressBound(n: number): number;
  isError(code: number): number;
  getErrorName(code: number): string;
}

function internals(z: Zstd): { mm: ModuleHandle; cls: ZstdStatics } | null {
  const any = z as unknown as { _mainModule?: ModuleHandle; _zstdClass?: ZstdStatics };
  const mm = any._mainModule;
  const cls = any._zstdClass;
  if (mm && cls && typeof mm.dataToHeap === 'function' && typeof mm.heapView === 'function' && typeof cls.compress === 'function' && typeof cls.isError === 'function') {
    return { mm, cls };
  }
  return null;
}

/** One complete zstd frame (content size in the header, no checksum), as `ZSTD_compress`. */
export async function zstdCompressFrame(data: Uint8Array, level: number): Promise<Uint8Array> {
  const z = await loadZstd();
  checkZstdLevel(level);
  const direct = internals(z);
  if (!direct) return checkFrame(z.compress(data, level), data.length);
  const { mm, cls } = direct;
  const src = mm.dataToHeap(data);
  const cap = cls.compressBound(data.length);
  const dst = mm.malloc(cap);
  try {
    if (!src.ptr && data.length > 0) throw dependency('E_ZSTD_ENCODE', `zstd encoder: out of WASM memory for a ${data.length}-byte input`);
    if (!dst.ptr) throw dependency('E_ZSTD_ENCODE', `zstd encoder: out of WASM memory for a ${cap}-byte output`);
    const n = cls.compress(dst.ptr, cap, src.ptr, data.length, level);
    if (cls.isError(n)) throw dependency('E_ZSTD_ENCODE', `zstd encoder failed: ${cls.getErrorName(n)}`);
    return checkFrame(mm.heapView({ ptr: dst.ptr, size: n }).slice(), data.length);
  } finally {
    mm.free(dst);
    mm.free(src);
  }
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
