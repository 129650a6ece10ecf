import { gunzipSync } from 'node:zlib';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGzipEncoder, gzipCompress, gzipDecompress, gzipHeader } from '../../../src/compress/gzip.js';
import { mixed, textLike } from './data.js';

const eq = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

async function encodeChunked(data: Uint8Array, chunk: number, threads: number): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  const src = Readable.from((function* () {
    for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
  })());
  await pipeline(src, createGzipEncoder({ threads }), new Writable({ write(b, _e, cb) { parts.push(b); cb(); } }));
  return Buffer.concat(parts);
}

describe('gzip encoder', () => {
  it('writes a host-independent header: no mtime, no name, OS=3, XFL by level', () => {
    expect([...gzipHeader(6)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    expect(gzipHeader(9)[8]).toBe(2);
    expect(gzipHeader(1)[8]).toBe(4);
    expect([...gzipHeader(6, 'disk.raw')]).toEqual([0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3, ...Buffer.from('disk.raw\0')]);
    expect(() => gzipHeader(6, 'a\0b')).toThrow(/ISO-8859-1/);
  });

  it('round-trips across segment boundaries (zlib decodes it too)', async () => {
    const data = mixed(3_500_000);
    const gz = await gzipCompress(data);
    expect(eq(gunzipSync(gz), data)).toBe(true);
    expect(eq(await gzipDecompress(gz), data)).toBe(true);
    // The 32 KiB dictionary keeps cross-segment matches: repeated 1 MiB text compresses to almost nothing.
    const text = textLike(1 << 20);
    const twice = Buffer.concat([text, text]);
    const once = await gzipCompress(text);
    const double = await gzipCompress(twice);
    expect(double.length).toBeLessThan(once.length * 2);
  });

  it('gives the same bytes whatever the chunking and number of jobs in flight', async () => {
    const data = mixed(2_300_000, 5);
    const ref = await gzipCompress(data, { threads: 1 });
    expect(eq(await encodeChunked(data, 1000, 3), ref)).toBe(true);
    expect(eq(await encodeChunked(data, 1 << 20, 8), ref)).toBe(true);
  });

  it('encodes empty input and all-zero runs', async () => {
    expect(gunzipSync(await gzipCompress(new Uint8Array(0))).length).toBe(0);
    const zeros = new Uint8Array(5 << 20);
    zeros[(3 << 20) + 17] = 1;
    expect(eq(gunzipSync(await gzipCompress(zeros)), zeros)).toBe(true);
  });

  it('property: round-trips any bytes at any level', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 1, max: 9 }), async (bytes, level) => {
        return eq(gunzipSync(await gzipCompress(bytes, { level })), bytes);
      }),
      { seed: 42, numRuns: 60 },
    );
  });
});

describe('gzip decoder errors', () => {
  it('truncation, corruption, trailing garbage and empty input give clear errors', async () => {
    const data = textLike(100_000);
    const gz = Buffer.from(await gzipCompress(data));
    for (const cut of [1, 9, 10, 100, gz.length - 8, gz.length - 1]) {
      await expect(gzipDecompress(gz.subarray(0, cut)), `cut ${cut}`).rejects.toMatchObject({ code: expect.stringMatching(/E_GZIP_(TRUNCATED|CORRUPT)/) });
    }
    const badCrc = Buffer.from(gz);
    badCrc[gz.length - 6]! ^= 0xff;
    await expect(gzipDecompress(badCrc)).rejects.toMatchObject({ code: 'E_GZIP_CORRUPT' });
    await expect(gzipDecompress(Buffer.from('plain text'))).rejects.toMatchObject({ code: 'E_GZIP_CORRUPT' });
    await expect(gzipDecompress(Buffer.concat([gz, Buffer.from('junk')]))).rejects.toMatchObject({ code: 'E_GZIP_CORRUPT' });
    await expect(gzipDecompress(new Uint8Array(0))).rejects.toMatchObject({ code: 'E_GZIP_TRUNCATED' });
    await expect(gzipDecompress(gz, { maxOutput: 1000 })).rejects.toMatchObject({ code: 'E_GZIP_TOO_LARGE' });
  });

  it('decodes concatenated members in order', async () => {
    const a = await gzipCompress(Buffer.from('first '));
    const b = await gzipCompress(Buffer.from('second'));
    expect(Buffer.from(await gzipDecompress(Buffer.concat([a, b]))).toString()).toBe('first second');
  });

  it('property: any corruption is an E_GZIP_ error or decodes (never hangs)', async () => {
    const data = textLike(20_000);
    const gz = await gzipCompress(data);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: gz.length - 1 }), fc.integer({ min: 1, max: 255 }), async (pos, xor) => {
        const bad = Buffer.from(gz);
        bad[pos]! ^= xor;
        try {
          const out = await gzipDecompress(bad);
          // CRC-32 and ISIZE catch content changes; only header bits zlib ignores may pass.
          return eq(out, data);
        } catch (err) {
          return /^E_GZIP_/.test(String((err as { code?: string }).code));
        }
      }),
      { seed: 42, numRuns: 150 },
    );
  });
});
