/**
 * The .xz container (xz-file-format 1.1.0): stream header and footer, block headers, the index.
 * Pure byte layouts; the encoders and the decoder build on these.
 */
import { crc32 } from 'node:zlib';
import { CHECK_ID, type XzCheck } from './check.js';

export const HEADER_MAGIC = Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00);
export const FOOTER_MAGIC = Uint8Array.of(0x59, 0x5a);
export const STREAM_HEADER_SIZE = 12;
export const FILTER_LZMA2 = 0x21;
/** Largest value a variable-length integer may hold (§1.2): 2^63 − 1; we accept up to 2^53. */
export const VLI_MAX_SAFE = Number.MAX_SAFE_INTEGER;

function writeU32(out: Uint8Array, pos: number, v: number): void {
  out[pos] = v;
  out[pos + 1] = v >>> 8;
  out[pos + 2] = v >>> 16;
  out[pos + 3] = v >>> 24;
}

/** Bytes a multibyte integer takes (§1.2: 7 bits per byte, little-endian groups). */
export function vliSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

export function writeVli(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[pos++] = n;
  return pos;
}

export function streamHeader(check: XzCheck): Uint8Array {
  const out = new Uint8Array(STREAM_HEADER_SIZE);
  out.set(HEADER_MAGIC, 0);
  out[6] = 0;
  out[7] = CHECK_ID[check];
  writeU32(out, 8, crc32(out.subarray(6, 8)) >>> 0);
  return out;
}

/** Stream footer; `indexSize` is the size of the index field including its CRC32. */
export function streamFooter(check: XzCheck, indexSize: number): Uint8Array {
  const out = new Uint8Array(STREAM_HEADER_SIZE);
  writeU32(out, 4, indexSize / 4 - 1);
  out[8] = 0;
  out[9] = CHECK_ID[check];
  writeU32(out, 0, crc32(out.subarray(4, 10)) >>> 0);
  out.set(FOOTER_MAGIC, 10);
  return out;
}

export interface BlockHeaderFields {
  /** LZMA2 dictionary property byte. */
  dictByte: number;
  compressedSize?: number;
  uncompressedSize?: number;
}

/** Size of a block header with these optional size fields (a multiple of 4, §3.1). */
export function blockHeaderSize(fields: BlockHeaderFields): number {
  let size = 1 + 1 + 4 + 3; // size byte, flags, CRC32, LZMA2 filter flags (id, props size, props)
  if (fields.compressedSize !== undefined) size += vliSize(fields.compressedSize);
  if (fields.uncompressedSize !== undefined) size += vliSize(fields.uncompressedSize);
  return (size + 3) & ~3;
}

/**
 * Encode a block header. `headerSize` may exceed what the fields need (xz -T0 reserves room for the
 * sizes of a full block before encoding); the rest is header padding.
 */
export function encodeBlockHeader(fields: BlockHeaderFields, headerSize = blockHeaderSize(fields)): Uint8Array {
  const out = new Uint8Array(headerSize);
  const end = headerSize - 4;
  out[0] = end / 4;
  let flags = 0x00; // one filter
  let pos = 2;
  if (fields.compressedSize !== undefined) {
    pos = writeVli(out, pos, fields.compressedSize);
    flags |= 0x40;
  }
  if (fields.uncompressedSize !== undefined) {
    pos = writeVli(out, pos, fields.uncompressedSize);
    flags |= 0x80;
  }
  out[1] = flags;
  out[pos++] = FILTER_LZMA2;
  out[pos++] = 1;
  out[pos++] = fields.dictByte;
  writeU32(out, end, crc32(out.subarray(0, end)) >>> 0);
  return out;
}

export interface IndexRecord {
  /** Block header + compressed data + check, without block padding. */
  unpaddedSize: number;
  uncompressedSize: number;
}

/** Size of the index field, CRC32 included. */
export function indexSize(records: readonly IndexRecord[]): number {
  let size = 1 + vliSize(records.length);
  for (const r of records) size += vliSize(r.unpaddedSize) + vliSize(r.uncompressedSize);
  return ((size + 3) & ~3) + 4;
}

export function encodeIndex(records: readonly IndexRecord[]): Uint8Array {
  const out = new Uint8Array(indexSize(records));
  let pos = 1; // index indicator 0x00
  pos = writeVli(out, pos, records.length);
  for (const r of records) {
    pos = writeVli(out, pos, r.unpaddedSize);
    pos = writeVli(out, pos, r.uncompressedSize);
  }
  const end = out.length - 4;
  writeU32(out, end, crc32(out.subarray(0, end)) >>> 0);
  return out;
}

/** Padding after compressed data so the block ends on a multiple of 4. */
export function padTo4(n: number): number {
  return (4 - (n & 3)) & 3;
}
