/**
 * One entry point per direction: `createEncoder({ format, ... })` and `createDecoder({ format })`
 * return a Node Transform for xz, zstd, gzip or none. `detectFormat` tells the format of the first
 * bytes of a stream by magic number.
 */
import { PassThrough, type Transform } from 'node:stream';
import { invalidInput, unsupported } from '../core/errors.js';
import { createGzipDecoder, createGzipEncoder, type GzipDecodeOptions, type GzipEncodeOptions } from './gzip.js';
import { createZstdDecoder, createZstdEncoder, type ZstdDecodeOptions, type ZstdEncodeOptions } from './zstd.js';

export type CompressionFormat = 'xz' | 'zstd' | 'gzip' | 'none';

/** xz options as the xz encoder takes them (preset 0–9, extreme, check). */
export interface XzStreamOptions {
  preset?: number;
  extreme?: boolean;
  check?: 'none' | 'crc32' | 'crc64' | 'sha256';
  threads?: number;
}

export type EncoderOptions =
  | { format: 'none' }
  | ({ format: 'zstd' } & ZstdEncodeOptions)
  | ({ format: 'gzip' } & GzipEncodeOptions)
  | ({ format: 'xz' } & XzStreamOptions);

export type DecoderOptions =
  | { format: 'none' }
  | ({ format: 'zstd' } & ZstdDecodeOptions)
  | ({ format: 'gzip' } & GzipDecodeOptions)
  | { format: 'xz'; source?: string; maxOutput?: number };

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
    case 'xz':
      throw unsupported('E_XZ_STREAM_UNAVAILABLE', 'xz stream encoding is not wired in yet (the xz encoder module is still being written)');
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
    case 'xz':
      throw unsupported('E_XZ_STREAM_UNAVAILABLE', 'xz stream decoding is not wired in yet (the xz decoder module is still being written)');
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
