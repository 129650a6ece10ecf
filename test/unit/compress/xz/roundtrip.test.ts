import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { xzEncodeSync } from '../../../../src/compress/xz/xz-sync.js';
import { xzDecodeSync, XzStreamDecoder } from '../../../../src/compress/xz/xz-decoder.js';
import { xzEncodeSingleBlock } from '../../../../src/compress/xz/single-block.js';
import { textLike, mixed, randomBytes, sparse } from './data.js';

const eq = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/** Inputs that exercise literals, rep matches, long matches, runs and all byte values. */
const inputs = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 3000 }),
  fc.array(fc.constantFrom(0, 1, 2, 97, 98, 255), { minLength: 0, maxLength: 5000 }).map((a) => Uint8Array.from(a)),
  fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.integer({ min: 1, max: 200 })).map(([unit, n]) => {
    const out = new Uint8Array(unit.length * n);
    for (let i = 0; i < n; i++) out.set(unit, i * unit.length);
    return out;
  }),
);

describe('xz round trip (our encoder → our decoder)', () => {
  const configs = [
    { preset: 0 },
    { preset: 0, extreme: true, check: 'crc32' as const },
    { preset: 1, check: 'none' as const },
    { preset: 3, check: 'sha256' as const },
    { preset: 6, check: 'crc64' as const },
  ];
  for (const opts of configs) {
    it(`property: ${JSON.stringify(opts)}`, () => {
      fc.assert(
        fc.property(inputs, (data) => eq(xzDecodeSync(xzEncodeSync(data, opts)), data)),
        { seed: 42, numRuns: 60 },
      );
    });
  }

  it('multi-block inputs with a small block size, every kind of data', () => {
    for (const data of [textLike(120_000, 5), mixed(120_000, 6), randomBytes(70_000, 7), sparse(300_000, 8)]) {
      for (const opts of [{ preset: 0, blockSize: 40_000 }, { preset: 0, extreme: true, blockSize: 100_000 }]) {
        const xz = xzEncodeSync(data, opts);
        expect(eq(xzDecodeSync(xz), data)).toBe(true);
      }
    }
  });

  it('a stored (incompressible) chunk in the middle of compressible data', () => {
    const data = new Uint8Array(250_000);
    data.set(textLike(100_000, 9), 0);
    data.set(randomBytes(70_000, 10), 100_000);
    data.set(textLike(80_000, 11), 170_000);
    for (const opts of [{ preset: 0 }, { preset: 0, extreme: true }, { preset: 6 }]) {
      expect(eq(xzDecodeSync(xzEncodeSync(data, opts)), data)).toBe(true);
    }
  });

  it('the decoder gives the same output fed one byte at a time', () => {
    const data = mixed(50_000, 12);
    const xz = xzEncodeSync(data, { preset: 0, blockSize: 20_000 });
    const d = new XzStreamDecoder();
    const parts: Uint8Array[] = [];
    for (let i = 0; i < xz.length; i++) parts.push(...d.push(xz.subarray(i, i + 1)));
    d.end();
    expect(eq(Buffer.concat(parts), data)).toBe(true);
  });

  it('concatenated streams with stream padding decode as one', () => {
    const a = textLike(10_000, 1);
    const b = randomBytes(5_000, 2);
    const cat = Buffer.concat([xzEncodeSync(a, { preset: 0 }), new Uint8Array(8), xzEncodeSync(b, { preset: 1, check: 'none' }), new Uint8Array(4)]);
    expect(eq(xzDecodeSync(cat), Buffer.concat([a, b]))).toBe(true);
  });

  it('empty input is a valid stream with no blocks', () => {
    const xz = xzEncodeSync(new Uint8Array(0), { preset: 0 });
    expect(xz.length).toBe(32);
    expect(xzDecodeSync(xz).length).toBe(0);
  });

  it('single-block streams (squashfs style) round-trip and respect outLimit', () => {
    const block = textLike(64 << 10, 3);
    const s = xzEncodeSingleBlock(block, { dictSize: 64 << 10 })!;
    expect(eq(xzDecodeSync(s), block)).toBe(true);
    expect(xzEncodeSingleBlock(block, { dictSize: 64 << 10, outLimit: s.length })).not.toBeNull();
    expect(xzEncodeSingleBlock(block, { dictSize: 64 << 10, outLimit: s.length - 1 })).toBeNull();
    const noise = randomBytes(16 << 10, 4);
    expect(xzEncodeSingleBlock(noise, { dictSize: 16 << 10, outLimit: 16 << 10 })).toBeNull();
    const stored = xzEncodeSingleBlock(noise, { dictSize: 16 << 10 })!;
    expect(eq(xzDecodeSync(stored), noise)).toBe(true);
  });
});
