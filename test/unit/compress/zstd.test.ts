import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { decompress as fzstdDecompress } from 'fzstd';
import { describe, expect, it } from 'vitest';
import { createZstdEncoder, zstdCompress, zstdDecompress } from '../../../src/compress/zstd.js';
import { readFrameHeader, listBlocks } from '../../../src/compress/zstd-format.js';
import { mixed, randomBytes, textLike } from './data.js';

const eq = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/** Number of frames (walking headers and blocks). */
function frameCount(z: Uint8Array): number {
  let at = 0;
  let n = 0;
  while (at < z.length) {
    const h = readFrameHeader(z, at);
    const blocks = listBlocks(z, at + h.size, Math.min(128 << 10, h.windowSize));
    const last = blocks[blocks.length - 1]!;
    at = last.at + 3 + last.contentSize + (h.checksum ? 4 : 0);
    n++;
  }
  return n;
}

async function encodeChunked(data: Uint8Array, chunk: number, opts: Parameters<typeof createZstdEncoder>[0]): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  const src = Readable.from((function* () {
    for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
  })());
  await pipeline(src, createZstdEncoder(opts), new Writable({ write(b, _e, cb) { parts.push(b); cb(); } }));
  return Buffer.concat(parts);
}

describe('zstd encoder', () => {
  it('round-trips through an independent decoder (fzstd) as one frame', async () => {
    const data = mixed(300_000);
    const z = await zstdCompress(data, { level: 3, segmentSize: 64 << 10, threads: 0 });
    expect(frameCount(z)).toBe(1);
    expect(eq(fzstdDecompress(z), data)).toBe(true);
    expect(eq(await zstdDecompress(z), data)).toBe(true);
  });

  it('gives the same bytes whatever the input chunking and thread count', async () => {
    const data = mixed(200_000, 11);
    const opts = { level: 5, segmentSize: 32 << 10 };
    const ref = await zstdCompress(data, { ...opts, threads: 0 });
    expect(eq(await encodeChunked(data, 777, { ...opts, threads: 1 }), ref)).toBe(true);
    expect(eq(await encodeChunked(data, 65536, { ...opts, threads: 2 }), ref)).toBe(true);
    expect(eq(await encodeChunked(data, 1 << 20, { ...opts, threads: 3 }), ref)).toBe(true);
  });

  it("'multi' writes one independent frame per segment", async () => {
    const data = textLike(100_000);
    const z = await zstdCompress(data, { level: 3, segmentSize: 32 << 10, frames: 'multi', threads: 0 });
    expect(frameCount(z)).toBe(4);
    expect(eq(fzstdDecompress(z), data)).toBe(true);
  });

  it('encodes empty input as a valid empty frame', async () => {
    for (const frames of ['single', 'multi'] as const) {
      const z = await zstdCompress(new Uint8Array(0), { frames, threads: 0 });
      expect(frameCount(z)).toBe(1);
      expect(fzstdDecompress(z).length).toBe(0);
      expect((await zstdDecompress(z)).length).toBe(0);
    }
  });

  it('reuses the encoding of all-zero segments (a sparse image costs only its data)', async () => {
    const data = new Uint8Array(6 * (64 << 10));
    data.set(randomBytes(1000), 3 * (64 << 10) + 5);
    const z = await zstdCompress(data, { level: 19, segmentSize: 64 << 10, threads: 0 });
    expect(eq(fzstdDecompress(z), data)).toBe(true);
  });

  it('rejects bad options', () => {
    expect(() => createZstdEncoder({ level: 0 })).toThrow(/zstd level/);
    expect(() => createZstdEncoder({ level: 20 })).toThrow(/zstd level/);
    expect(() => createZstdEncoder({ segmentSize: 10 })).toThrow(/segment size/);
    expect(() => createZstdEncoder({ threads: -1 })).toThrow(/threads/);
  });

  it('property: any input, segment size and level round-trips', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 20_000 }),
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom(1024, 3000, 8192),
        fc.constantFrom(1, 3, 12, 19),
        async (bytes, rep, segmentSize, level) => {
          // Repeat the input to give the matcher something to find across segments.
          const data = Buffer.concat(Array.from({ length: rep + 1 }, () => bytes));
          const z = await zstdCompress(data, { level, segmentSize, threads: 0 });
          return eq(fzstdDecompress(z), data);
        },
      ),
      { seed: 42, numRuns: 60 },
    );
  });
});

describe('zstd decoder errors', () => {
  const good = textLike(50_000);
  let z: Uint8Array;
  const encoded = async () => (z ??= await zstdCompress(good, { level: 3, threads: 0 }));

  it('reports truncation at every cut without hanging', async () => {
    const full = await encoded();
    for (const cut of [0, 1, 4, 5, 6, 8, 20, full.length >> 1, full.length - 3, full.length - 1]) {
      await expect(zstdDecompress(full.subarray(0, cut)), `cut ${cut}`).rejects.toMatchObject({ code: expect.stringMatching(/E_ZSTD_(TRUNCATED|CORRUPT)/) });
    }
  });

  it('reports bad magic, reserved bits, huge windows and trailing garbage', async () => {
    const full = Buffer.from(await encoded());
    await expect(zstdDecompress(Buffer.from('not zstd at all'))).rejects.toMatchObject({ code: 'E_ZSTD_CORRUPT' });
    const reserved = Buffer.from(full);
    reserved[4]! |= 0x08;
    await expect(zstdDecompress(reserved)).rejects.toMatchObject({ code: 'E_ZSTD_CORRUPT' });
    // Window descriptor asking for 2 GiB: refused before any allocation.
    const huge = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3, 0x01, 0x00, 0x00);
    await expect(zstdDecompress(huge)).rejects.toMatchObject({ code: 'E_ZSTD_WINDOW' });
    await expect(zstdDecompress(Buffer.concat([full, Buffer.from('junk-after-the-frame')]))).rejects.toMatchObject({ code: 'E_ZSTD_CORRUPT' });
    await expect(zstdDecompress(good.subarray(0, 0))).rejects.toMatchObject({ code: 'E_ZSTD_TRUNCATED' });
  });

  it('enforces maxOutput', async () => {
    await expect(zstdDecompress(await encoded(), { maxOutput: 1000 })).rejects.toMatchObject({ code: 'E_ZSTD_TOO_LARGE' });
  });

  it('property: corrupted bytes end in an E_ZSTD_ error or some output, never a hang or a foreign error', async () => {
    // Our frames carry no checksum, so a flipped literal can decode without error (to other bytes);
    // what must never happen is a hang, a crash with a non-imagekit error, or a huge allocation.
    const full = await encoded();
    let detected = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: full.length - 1 }), fc.integer({ min: 1, max: 255 }), async (pos, xor) => {
        const bad = Buffer.from(full);
        bad[pos]! ^= xor;
        try {
          await zstdDecompress(bad, { maxOutput: 10 * good.length });
          return true;
        } catch (err) {
          detected++;
          return /^E_ZSTD_/.test(String((err as { code?: string }).code));
        }
      }),
      { seed: 42, numRuns: 150 },
    );
    expect(detected).toBeGreaterThan(30);
  });
});
