import { inflateSync } from 'node:zlib';
import { decompress as fzstdDecompress } from 'fzstd';
import { describe, expect, it } from 'vitest';
import { createBlockCompressor } from '../../../src/compress/block-compressor.js';
import { xzDecodeSync } from '../../../src/compress/xz/xz-decoder.js';
import { mixed, textLike } from './data.js';

const eq = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe('createBlockCompressor', () => {
  const blocks = Array.from({ length: 6 }, (_, i) => (i % 3 === 0 ? textLike(128 << 10, i) : mixed(128 << 10, i)));

  it('zstd: one frame per block, results in call order, on worker threads', async () => {
    for (const threads of [1, 3]) {
      const bc = createBlockCompressor({ codec: 'zstd', level: 18, threads });
      const out = await Promise.all(blocks.map((b) => bc.compress(b)));
      await bc.close();
      out.forEach((z, i) => expect(eq(fzstdDecompress(z), blocks[i]!), `block ${i}`).toBe(true));
      // 128 KiB of text at level 18 really compresses.
      expect(out[0]!.length).toBeLessThan(blocks[0]!.length / 2);
    }
  });

  it('zstd: the same block gives the same bytes on any thread count', async () => {
    const a = createBlockCompressor({ codec: 'zstd', level: 15, threads: 1 });
    const b = createBlockCompressor({ codec: 'zstd', level: 15, threads: 3 });
    expect(eq(await a.compress(blocks[1]!), await b.compress(blocks[1]!))).toBe(true);
    await Promise.all([a.close(), b.close()]);
  });

  it('gzip: zlib streams (what squashfs calls gzip), in order', async () => {
    const bc = createBlockCompressor({ codec: 'gzip', level: 9 });
    const out = await Promise.all(blocks.map((b) => bc.compress(b)));
    await bc.close();
    out.forEach((z, i) => {
      expect(z[0]).toBe(0x78); // zlib header, 32 KiB window
      expect(eq(inflateSync(z), blocks[i]!)).toBe(true);
    });
  });

  it('xz: one single-block .xz stream (CRC32) per block, in order', async () => {
    const bc = createBlockCompressor({ codec: 'xz', level: 6, xzDictSize: 128 << 10 });
    const some = blocks.slice(0, 4);
    const out = await Promise.all(some.map((b) => bc.compress(b)));
    await bc.close();
    out.forEach((z, i) => {
      expect([...z.subarray(0, 6)]).toEqual([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]);
      expect(z[7]).toBe(0x01); // stream flags: CRC32
      expect(eq(xzDecodeSync(z), some[i]!)).toBe(true);
    });
  });

  it('does not take over or change the caller buffer', async () => {
    const bc = createBlockCompressor({ codec: 'zstd', level: 3 });
    const block = textLike(4096);
    const copy = Uint8Array.from(block);
    await bc.compress(block);
    expect(block.byteLength).toBe(4096);
    expect(eq(block, copy)).toBe(true);
    await bc.close();
  });

  it('refuses bad options, oversized blocks, use after close', async () => {
    expect(() => createBlockCompressor({ codec: 'zstd', level: 0 })).toThrow(/zstd level/);
    expect(() => createBlockCompressor({ codec: 'gzip', level: 10 })).toThrow(/gzip level/);
    expect(() => createBlockCompressor({ codec: 'lz4' as never, level: 1 })).toThrow(/unknown block codec/);
    expect(() => createBlockCompressor({ codec: 'xz', level: 10 })).toThrow(/xz preset/);
    expect(() => createBlockCompressor({ codec: 'xz', level: 6, xzDictSize: 100 })).toThrow(/dictionary size/);
    const bc = createBlockCompressor({ codec: 'gzip', level: 6 });
    await expect(bc.compress(new Uint8Array((1 << 20) + 1))).rejects.toMatchObject({ code: 'E_BLOCK_SIZE' });
    await bc.close();
    await expect(bc.compress(new Uint8Array(10))).rejects.toMatchObject({ code: 'E_BLOCK_CLOSED' });
  });
});
