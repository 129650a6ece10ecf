/**
 * squashfs compression: which algorithm the superblock names, the optional compressor-options block
 * that follows the superblock, and the block-compressor seam the writer is given.
 *
 * Stream formats per block (squashfs-tools-ng doc/format.adoc "Supported Compressors"):
 * - gzip: a zlib stream (RFC 1950), not a gzip file;
 * - xz: a complete .xz stream with a CRC32 (or no) check and an LZMA2 dictionary no larger than the
 *   block size unless the options say so — the kernel's decoder preallocates it (dependencies-measured.md §2.6);
 * - zstd: one zstd frame.
 */
import { inflateSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { invalidInput, unsupported } from '../../core/errors.js';
import { CompressionId, METADATA_UNCOMPRESSED } from './constants.js';

export type SquashfsCompression =
  | { algorithm: 'zstd'; /** 1..22, default 15 (mksquashfs); Talos ≥ 1.8 uses 18. */ level?: number }
  | { algorithm: 'xz'; /** LZMA2 dictionary; default the block size (`-Xdict-size 100%`). */ dictSize?: number }
  | { algorithm: 'gzip'; /** 1..9, default 9. */ level?: number; /** 8..15, default 15. */ windowSize?: number };

export type SquashfsAlgorithm = SquashfsCompression['algorithm'];

/**
 * Compresses one block: a data block (≤ block size), a fragment block or an 8 KiB metadata block.
 * Implementations must not modify or detach `block`; the result may be larger than the input, in
 * which case the writer stores the block uncompressed. Calls may overlap: results are awaited in
 * submission order, so a worker pool compresses several blocks at once.
 */
export interface SquashfsBlockCompressor {
  compress(block: Uint8Array): Promise<Uint8Array>;
}

export const ZSTD_DEFAULT_LEVEL = 15;
export const GZIP_DEFAULT_LEVEL = 9;
export const GZIP_DEFAULT_WINDOW = 15;

export function compressionId(c: SquashfsCompression): number {
  return CompressionId[c.algorithm];
}

/** Validate a compression descriptor against the block size; returns it with defaults filled in. */
export function normalizeCompression(c: SquashfsCompression, blockSize: number): Required<SquashfsCompression> & SquashfsCompression {
  switch (c.algorithm) {
    case 'zstd': {
      const level = c.level ?? ZSTD_DEFAULT_LEVEL;
      if (!Number.isInteger(level) || level < 1 || level > 22) throw invalidInput('E_SQUASHFS_OPTIONS', `zstd level must be 1..22, got ${level}`);
      return { algorithm: 'zstd', level };
    }
    case 'gzip': {
      const level = c.level ?? GZIP_DEFAULT_LEVEL;
      const windowSize = c.windowSize ?? GZIP_DEFAULT_WINDOW;
      if (!Number.isInteger(level) || level < 1 || level > 9) throw invalidInput('E_SQUASHFS_OPTIONS', `gzip level must be 1..9, got ${level}`);
      if (!Number.isInteger(windowSize) || windowSize < 8 || windowSize > 15) throw invalidInput('E_SQUASHFS_OPTIONS', `gzip window must be 8..15, got ${windowSize}`);
      return { algorithm: 'gzip', level, windowSize };
    }
    case 'xz': {
      const dictSize = c.dictSize ?? blockSize;
      if (!validXzDict(dictSize)) throw invalidInput('E_SQUASHFS_OPTIONS', `xz dictionary size must be 2^n or 2^n+2^(n-1) ≥ 8 KiB, got ${dictSize}`);
      return { algorithm: 'xz', dictSize };
    }
    default:
      throw unsupported('E_SQUASHFS_COMPRESSION', `unsupported squashfs compression ${JSON.stringify((c as { algorithm: unknown }).algorithm)}`);
  }
}

function validXzDict(n: number): boolean {
  if (!Number.isInteger(n) || n < 8192 || n > 2 ** 30) return false;
  const low = n & -n;
  return n === low || n === low * 3;
}

/**
 * The compressor-options payload, or null when every option is at its default (mksquashfs writes the
 * block only then: zstd level ≠ 15, gzip level/window ≠ 9/15, xz dictionary ≠ block size).
 */
export function encodeCompressorOptions(c: SquashfsCompression, blockSize: number): Buffer | null {
  const n = normalizeCompression(c, blockSize);
  switch (n.algorithm) {
    case 'zstd': {
      if (n.level === ZSTD_DEFAULT_LEVEL) return null;
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n.level, 0);
      return b;
    }
    case 'gzip': {
      if (n.level === GZIP_DEFAULT_LEVEL && n.windowSize === GZIP_DEFAULT_WINDOW) return null;
      const b = Buffer.alloc(8);
      b.writeUInt32LE(n.level, 0);
      b.writeUInt16LE(n.windowSize, 4);
      b.writeUInt16LE(0, 6);
      return b;
    }
    case 'xz': {
      if (n.dictSize === blockSize) return null;
      const b = Buffer.alloc(8);
      b.writeUInt32LE(n.dictSize, 0);
      b.writeUInt32LE(0, 4);
      return b;
    }
  }
}

/** The options block as stored after the superblock: always an uncompressed metadata block. */
export function encodeCompressorOptionsBlock(c: SquashfsCompression, blockSize: number): Buffer | null {
  const payload = encodeCompressorOptions(c, blockSize);
  if (!payload) return null;
  const header = Buffer.alloc(2);
  header.writeUInt16LE(payload.byteLength | METADATA_UNCOMPRESSED, 0);
  return Buffer.concat([header, payload]);
}

/** Decode an options payload for a compressor id (reader side). */
export function decodeCompressorOptions(id: number, payload: Uint8Array | null, blockSize: number): SquashfsCompression {
  const b = payload ? Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength) : null;
  switch (id) {
    case CompressionId.zstd:
      if (b && b.byteLength < 4) throw invalidInput('E_SQUASHFS_OPTIONS', 'zstd compressor options truncated');
      return { algorithm: 'zstd', level: b ? b.readUInt32LE(0) : ZSTD_DEFAULT_LEVEL };
    case CompressionId.gzip:
      if (b && b.byteLength < 8) throw invalidInput('E_SQUASHFS_OPTIONS', 'gzip compressor options truncated');
      return { algorithm: 'gzip', level: b ? b.readUInt32LE(0) : GZIP_DEFAULT_LEVEL, windowSize: b ? b.readUInt16LE(4) : GZIP_DEFAULT_WINDOW };
    case CompressionId.xz:
      if (b && b.byteLength < 8) throw invalidInput('E_SQUASHFS_OPTIONS', 'xz compressor options truncated');
      return { algorithm: 'xz', dictSize: b ? b.readUInt32LE(0) : blockSize };
    default:
      throw unsupported('E_SQUASHFS_COMPRESSION', `squashfs compressor id ${id} is not supported`);
  }
}

/** Decompress one block for the reader; `limit` bounds the output (block size or 8 KiB). */
export async function decompressBlock(algorithm: SquashfsAlgorithm, data: Uint8Array, limit: number): Promise<Buffer> {
  let out: Buffer;
  try {
    switch (algorithm) {
      case 'gzip':
        out = inflateSync(data, { maxOutputLength: limit });
        break;
      case 'zstd': {
        const size = zstdContentSize(data);
        if (size === null) throw new Error('zstd frame does not declare its content size');
        if (size > limit) throw new Error(`zstd frame declares ${size} bytes`);
        const { decompress } = await import('fzstd');
        out = Buffer.from(decompress(data));
        if (out.byteLength !== size) throw new Error('zstd frame content size mismatch');
        break;
      }
      case 'xz': {
        const { XzReadableStream } = await import('xz-decompress');
        const input = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new Uint8Array(data));
            controller.close();
          },
        });
        const parts: Buffer[] = [];
        let total = 0;
        for await (const c of Readable.fromWeb(new XzReadableStream(input) as import('node:stream/web').ReadableStream<Uint8Array>)) {
          total += (c as Uint8Array).byteLength;
          if (total > limit) break;
          parts.push(Buffer.from(c as Uint8Array));
        }
        out = Buffer.concat(parts);
        if (total > limit) throw new Error('output larger than the block size');
        break;
      }
    }
  } catch (err) {
    throw invalidInput('E_SQUASHFS_CORRUPT', `squashfs ${algorithm} block does not decompress: ${(err as Error).message}`, err);
  }
  if (out.byteLength > limit) throw invalidInput('E_SQUASHFS_CORRUPT', `squashfs block decompresses to more than ${limit} bytes`);
  return out;
}

/** Frame_Content_Size from a zstd frame header (RFC 8878 §3.1.1.1), or null when absent. */
export function zstdContentSize(frame: Uint8Array): number | null {
  if (frame.byteLength < 6 || frame[0] !== 0x28 || frame[1] !== 0xb5 || frame[2] !== 0x2f || frame[3] !== 0xfd) {
    throw new Error('not a zstd frame');
  }
  const fhd = frame[4]!;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const dictIdBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = fcsFlag === 0 ? singleSegment : [0, 2, 4, 8][fcsFlag]!;
  if (fcsBytes === 0) return null;
  let at = 5 + (singleSegment ? 0 : 1) + dictIdBytes;
  if (frame.byteLength < at + fcsBytes) throw new Error('zstd frame header truncated');
  let v = 0;
  for (let i = fcsBytes - 1; i >= 0; i--) v = v * 256 + frame[at + i]!;
  at += fcsBytes;
  return fcsBytes === 2 ? v + 256 : v;
}
