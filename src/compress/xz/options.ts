/**
 * User-facing xz encoder options and how they resolve to LZMA2 parameters, check and block size.
 */
import { invalidInput } from '../../core/errors.js';
import type { XzCheck } from './check.js';
import { parseCheck } from './check.js';
import { lzmaPreset, mtBlockSize, validateLzmaOptions, type LzmaOptions } from './presets.js';

export interface XzEncodeOptions {
  /** 0–9 as `xz -N` (default 6, as xz). Presets above 6 need large dictionaries. */
  preset?: number;
  /** `xz -e`. */
  extreme?: boolean;
  /** Default 'crc64' as xz; use 'crc32' (or 'none') for anything the kernel reads. */
  check?: XzCheck;
  /** Override the dictionary size of the preset (bytes, ≥ 4 KiB). */
  dictSize?: number;
  /**
   * Uncompressed bytes per block. Default: what `xz -T0` picks for the preset (3 × dict, ≥ 1 MiB),
   * which gives byte-identical output to `xz -T0` whatever the number of threads.
   */
  blockSize?: number;
  /**
   * Worker threads for block encoding; 0 = encode in the calling thread. Default: the shared pool
   * (min(2, cores)). Never changes the bytes.
   */
  threads?: number;
}

export interface ResolvedXzOptions {
  lzma: LzmaOptions;
  check: XzCheck;
  blockSize: number;
}

/** Block size limit: a block is held in memory while encoded. */
export const MAX_BLOCK_SIZE = 1 << 30;

export function resolveXzOptions(opts: XzEncodeOptions = {}): ResolvedXzOptions {
  const lzma = lzmaPreset(opts.preset ?? 6, opts.extreme ?? false);
  if (opts.dictSize !== undefined) lzma.dictSize = opts.dictSize;
  validateLzmaOptions(lzma);
  const check = parseCheck(opts.check ?? 'crc64');
  const blockSize = opts.blockSize ?? mtBlockSize(lzma.dictSize);
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > MAX_BLOCK_SIZE) {
    throw invalidInput('E_XZ_OPTIONS', `xz block size must be 1 B … 1 GiB, got ${blockSize}`);
  }
  return { lzma, check, blockSize };
}
