/**
 * One entry point per direction: `createEncoder({ format, ... })` and `createDecoder({ format })`
 * return a Node Transform for xz (./xz/, the pure-TypeScript encoder), zstd, gzip or none. `detectFormat` tells the format of the first
 * bytes of a stream by magic number.
 */
import { PassThrough, type Transform } from 'node:stream';
import { invalidInput } from '../core/errors.js';
import { createGzipDecoder, createGzipEncoder, type GzipDecodeOptions, type GzipEncodeOptions } from './gzip.js';
import { createZstdDecoder, createZstdEncoder, type ZstdDecodeOptions, type ZstdEncodeOptions } from './zstd.js';
import { createXzDecoder, createXzEncoder, type XzDecodeOptions, type XzEncodeOptions } from './xz/xz.js';

export type CompressionFormat = 'xz' | 'zstd' | 'gzip' | 'none';

export type EncoderOptions =
  | { format: 'none' }
  | ({ format: 'zstd' } & ZstdEncodeOptions)
  | ({ format: 'gzip' } & GzipEncodeOptions)
  | ({ format: 'xz' } & XzEncodeOptions);

export type DecoderOptions =
  | { format: 'none' }
  | ({ format: 'zstd' } & ZstdDecodeOptions)
  | ({ format: 'gzip' } & GzipDecodeOptions)
  | ({ format: 'xz' } & XzDecodeOptions);

export function createEncoder(opts: EncoderOptions): Transform {
  switch (opts.format) {
    case 'none':
      return new PassThrough();
    case 'zstd': {
      const { format: _f, ...rest } = opts;
      return createZstdEncoder(rest);
    }
    case 'gzip': {
      const { format: _f, ...rest } = opts;
      return createGzipEncoder(rest);
    }
    case 'xz': {
      const { format: _f, ...rest } = opts;
      return createXzEncoder(rest);
    }
    default:
      throw invalidInput('E_COMPRESSION_FORMAT', `unknown compression format ${JSON.stringify((opts as { format: unknown }).format)} (xz, zstd, gzip or none)`);
  }
}

export function createDecoder(opts: DecoderOptions): Transform {
  switch (opts.format) {
    case 'none':
      return new PassThrough();
    case 'zstd': {
      const { format: _f, ...rest } = opts;
      return createZstdDecoder(rest);
    }
    case 'gzip': {
      const { format: _f, ...rest } = opts;
      return createGzipDecoder(rest);
    }
    case 'xz': {
      const { format: _f, ...rest } = opts;
      return createXzDecoder(rest) as Transform;
    }
    default:
      throw invalidInput('E_COMPRESSION_FORMAT', `unknown compression format ${JSON.stringify((opts as { format: unknown }).format)} (xz, zstd, gzip or none)`);
  }
}

/** The format of a stream from its first bytes (6 are enough), or null when none matches. */
export function detectFormat(head: Uint8Array): Exclude<CompressionFormat, 'none'> | null {
  const b = (i: number) => head[i] ?? -1;
  if (b(0) === 0xfd && b(1) === 0x37 && b(2) === 0x7a && b(3) === 0x58 && b(4) === 0x5a && b(5) === 0x00) return 'xz';
  if (b(0) === 0x28 && b(1) === 0xb5 && b(2) === 0x2f && b(3) === 0xfd) return 'zstd';
  if (b(0) === 0x1f && b(1) === 0x8b) return 'gzip';
  return null;
}
