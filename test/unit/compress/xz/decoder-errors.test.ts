import { describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../../src/core/errors.js';
import { xzEncodeSync } from '../../../../src/compress/xz/xz-sync.js';
import { xzDecodeSync } from '../../../../src/compress/xz/xz-decoder.js';
import { mixed, textLike } from './data.js';

/** Offsets to damage: every byte near both ends (headers, index, footer), a spread in between. */
function offsets(length: number): number[] {
  const out = new Set<number>();
  for (let i = 0; i < Math.min(96, length); i++) out.add(i);
  for (let i = Math.max(0, length - 96); i < length; i++) out.add(i);
  for (let i = 0; i < length; i += 13) out.add(i);
  return [...out].sort((a, b) => a - b);
}

function decodeError(data: Uint8Array): ImagekitError | null {
  try {
    xzDecodeSync(data, { source: 'test.xz' });
    return null;
  } catch (err) {
    if (!(err instanceof ImagekitError)) throw err;
    return err;
  }
}

describe('xz decoder on truncated and corrupt input', () => {
  const data = Buffer.concat([textLike(3_000, 1), mixed(4_000, 2)]);
  const streams = {
    crc32: xzEncodeSync(data, { preset: 0, check: 'crc32', blockSize: 2_500 }),
    crc64: xzEncodeSync(data, { preset: 0, extreme: true, check: 'crc64', blockSize: 4_000 }),
    none: xzEncodeSync(data, { preset: 1, check: 'none' }),
  };

  for (const [name, xz] of Object.entries(streams)) {
    it(`${name}: every truncation is an error naming the input`, () => {
      for (const n of offsets(xz.length)) {
        const err = decodeError(xz.subarray(0, n));
        expect(err, `truncated to ${n}`).not.toBeNull();
        expect(err!.code).toMatch(/^E_XZ_/);
        expect(err!.message).toContain('test.xz');
      }
    });

    it(`${name}: a flipped byte anywhere never decodes to wrong data silently`, () => {
      let detected = 0;
      const where = offsets(xz.length);
      for (const i of where) {
        const bad = Uint8Array.from(xz);
        bad[i] ^= 0x5a;
        const err = decodeError(bad);
        if (err) {
          expect(err.code).toMatch(/^E_XZ_/);
          detected++;
        } else {
          // Without a check, a flip inside LZMA data may still decode to *something* valid-looking,
          // but with a check it must never be accepted.
          expect(name).toBe('none');
        }
      }
      if (name !== 'none') expect(detected).toBe(where.length);
    });
  }

  it('rejects garbage, trailing junk, bad padding and empty input', () => {
    const good = streams.crc32;
    expect(decodeError(new Uint8Array(0))?.code).toBe('E_XZ_CORRUPT');
    expect(decodeError(new TextEncoder().encode('not an xz file at all'))?.message).toMatch(/bad magic/);
    expect(decodeError(Buffer.concat([good, Uint8Array.of(1, 2, 3, 4)]))).not.toBeNull();
    expect(decodeError(Buffer.concat([good, new Uint8Array(3)]))?.message).toMatch(/padding/);
    expect(decodeError(Buffer.concat([good, new Uint8Array(4)]))).toBeNull();
  });

  it('refuses filters other than LZMA2 and oversized dictionaries with clear errors', () => {
    // Block header of a BCJ-x86 + LZMA2 chain (as `xz --x86 --lzma2`) followed by nothing useful.
    const xz = Uint8Array.from(streams.none);
    const err = decodeError(xz.subarray(0, 12));
    expect(err?.code).toBe('E_XZ_CORRUPT');
    const big = xzEncodeSync(textLike(1000, 3), { preset: 0, dictSize: 64 << 20 });
    let e: unknown;
    try {
      xzDecodeSync(big, { maxDictSize: 1 << 20, source: 'big.xz' });
    } catch (x) {
      e = x;
    }
    expect((e as ImagekitError).code).toBe('E_XZ_MEMLIMIT');
  });
});
