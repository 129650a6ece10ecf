/**
 * Block compressors that run on the calling thread (tests, small images, and the fallback when no
 * worker pool is supplied): zstd through @hpcc-js/wasm-zstd one-shot frames, gzip through node:zlib
 * (zlib streams, which libuv already runs off the main thread). xz needs the compress room's encoder.
 */
import { deflate } from 'node:zlib';
import { promisify } from 'node:util';
import { unsupported } from '../../core/errors.js';
import { normalizeCompression, type SquashfsBlockCompressor, type SquashfsCompression } from './compressor.js';

const deflateAsync = promisify(deflate);

export async function createInProcessCompressor(compression: SquashfsCompression, blockSize: number): Promise<SquashfsBlockCompressor> {
  const c = normalizeCompression(compression, blockSize);
  switch (c.algorithm) {
    case 'zstd': {
      const { Zstd } = await import('@hpcc-js/wasm-zstd');
      const zstd = await Zstd.load();
      const level = c.level;
      return { compress: async (block) => zstd.compress(block, level).slice() };
    }
    case 'gzip': {
      const { level, windowSize } = c;
      return { compress: async (block) => deflateAsync(block, { level, windowBits: windowSize }) };
    }
    case 'xz':
      throw unsupported('E_SQUASHFS_XZ_IN_PROCESS', 'squashfs xz needs a block compressor from src/compress (none runs in-process)');
  }
}
