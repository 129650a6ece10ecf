/**
 * A complete .xz stream holding one block, as liblzma's single-call encoder writes it
 * (`lzma_stream_buffer_encode`): what mksquashfs stores for every xz-compressed squashfs block
 * (talos-imager.md §4.5: Talos < 1.8 uses `-comp xz -Xdict-size 100%`, i.e. preset 6 with the
 * dictionary equal to the block size, CRC32). The block header carries both sizes; data that does
 * not shrink below the stored-chunk bound is stored; with `outLimit` (mksquashfs passes the block
 * size) the result is null when the stream would not fit, exactly when liblzma says LZMA_BUF_ERROR.
 */
import { XzBlockEncoder } from './block-encoder.js';
import { checkSize, parseCheck, type XzCheck } from './check.js';
import { blockHeaderSize, encodeIndex, streamFooter, streamHeader, STREAM_HEADER_SIZE } from './container.js';
import { lzma2UncompressedBound } from './lzma2-encoder.js';
import { lzmaPreset, lzma2DictByte, validateLzmaOptions } from './presets.js';
import { invalidInput } from '../../core/errors.js';
import { MAX_BLOCK_SIZE } from './options.js';

export interface XzSingleBlockOptions {
  /** Default 6 (mksquashfs uses LZMA_PRESET_DEFAULT). */
  preset?: number;
  extreme?: boolean;
  /** Dictionary size; for squashfs the block size (`-Xdict-size 100%`). Default: the preset's. */
  dictSize?: number;
  /** Default 'crc32' (what mksquashfs and the kernel use). */
  check?: XzCheck;
  /** Largest acceptable output; null is returned when the stream would be larger. */
  outLimit?: number;
}

const encoders = new Map<string, XzBlockEncoder>();

function encoderFor(opts: XzSingleBlockOptions): XzBlockEncoder {
  const lzma = lzmaPreset(opts.preset ?? 6, opts.extreme ?? false);
  if (opts.dictSize !== undefined) lzma.dictSize = opts.dictSize;
  validateLzmaOptions(lzma);
  const check = parseCheck(opts.check ?? 'crc32');
  const key = JSON.stringify([lzma, check]);
  let e = encoders.get(key);
  if (!e) {
    if (encoders.size >= 4) encoders.clear();
    e = new XzBlockEncoder(lzma, check);
    encoders.set(key, e);
  }
  return e;
}

/** Encode `data` as one .xz stream with a single block (none for empty input). */
export function xzEncodeSingleBlock(data: Uint8Array, opts: XzSingleBlockOptions = {}): Uint8Array | null {
  const enc = encoderFor(opts);
  const check = enc.check;
  const limit = opts.outLimit;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
    throw invalidInput('E_XZ_OPTIONS', `xz outLimit must be a non-negative integer, got ${limit}`);
  }
  if (data.length > MAX_BLOCK_SIZE) throw invalidInput('E_XZ_OPTIONS', `xz block of ${data.length} bytes exceeds ${MAX_BLOCK_SIZE}`);
  if (limit !== undefined && limit <= 2 * STREAM_HEADER_SIZE) return null;

  const parts: Uint8Array[] = [streamHeader(check)];
  const records = [];
  if (data.length > 0) {
    const block = enc.encode(data, { kind: 'buffer' });
    if (limit !== undefined) {
      // liblzma's space accounting: the footer is reserved first, the block region is cut to a
      // multiple of 4 and the check is reserved; then the LZMA2 data must fit behind the header.
      const outS = limit - STREAM_HEADER_SIZE;
      const region = outS - ((outS - STREAM_HEADER_SIZE) & 3) - checkSize(check);
      const header = blockHeaderSize({
        dictByte: lzma2DictByte(enc.options.dictSize),
        compressedSize: lzma2UncompressedBound(data.length),
        uncompressedSize: data.length,
      });
      const dataLen = block.unpaddedSize - header - checkSize(check);
      if (region - STREAM_HEADER_SIZE <= 0 || dataLen > region - STREAM_HEADER_SIZE - header) return null;
    }
    parts.push(block.bytes);
    records.push({ unpaddedSize: block.unpaddedSize, uncompressedSize: block.uncompressedSize });
  }
  const index = encodeIndex(records);
  parts.push(index, streamFooter(check, index.length));
  let total = 0;
  for (const p of parts) total += p.length;
  if (limit !== undefined && total > limit) return null;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
