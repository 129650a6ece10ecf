/**
 * Zero-block fast path: a disk image is mostly zeros, and every all-zero block of a given length
 * encodes to the same bytes for given options. The encoding is computed once per (options, block
 * size, check, length) and reused, so a 1.3 GiB sparse image costs only its data blocks.
 */
import { Buffer } from 'node:buffer';
import { XzBlockEncoder, type EncodedBlock } from './block-encoder.js';
import type { ResolvedXzOptions } from './options.js';

const ZERO_PAGE = Buffer.alloc(1 << 16);
const cache = new Map<string, EncodedBlock>();
const CACHE_LIMIT = 16;

/** True if every byte is zero (memcmp against a zero page: native speed). */
export function isAllZero(data: Uint8Array): boolean {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let off = 0; off < buf.length; off += ZERO_PAGE.length) {
    const n = Math.min(ZERO_PAGE.length, buf.length - off);
    if (ZERO_PAGE.compare(buf, off, off + n, 0, n) !== 0) return false;
  }
  return true;
}

function key(r: ResolvedXzOptions, length: number): string {
  const l = r.lzma;
  return [l.dictSize, l.lc, l.lp, l.pb, l.mode, l.niceLen, l.mf, l.depth, r.check, r.blockSize, length].join(',');
}

/** The encoded block for `length` zero bytes ('mt' header style), computed once. */
export function zeroBlock(r: ResolvedXzOptions, length: number): EncodedBlock {
  const k = key(r, length);
  let block = cache.get(k);
  if (!block) {
    block = new XzBlockEncoder(r.lzma, r.check).encode(new Uint8Array(length), { kind: 'mt', blockSize: r.blockSize });
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(k, block);
  }
  return block;
}
