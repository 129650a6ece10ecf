import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Crc64, crc64 } from '../../../../src/compress/xz/crc64.js';
import { RC_PRICES, distSlot, HASH_TABLE } from '../../../../src/compress/xz/lzma-constants.js';
import { lzma2DictByte, lzma2DictSizeFromByte, lzmaPreset, mtBlockSize, validateLzmaOptions } from '../../../../src/compress/xz/presets.js';
import { blockHeaderSize, encodeBlockHeader, encodeIndex, indexSize, streamFooter, streamHeader, vliSize, writeVli } from '../../../../src/compress/xz/container.js';
import { blockBufferBound } from '../../../../src/compress/xz/block-encoder.js';
import { mixed } from './data.js';

describe('CRC-64/XZ', () => {
  it('has the catalogued check value', () => {
    expect(crc64(new TextEncoder().encode('123456789'))).toBe(0x995dc9bbdf1939fan);
    expect(crc64(new Uint8Array(0))).toBe(0n);
  });
  it('is the same fed in pieces of any size', () => {
    const data = mixed(10_000, 7);
    const whole = crc64(data);
    for (const step of [1, 3, 4, 5, 64, 4099]) {
      const c = new Crc64();
      for (let i = 0; i < data.length; i += step) c.update(data.subarray(i, i + step));
      expect(c.value()).toBe(whole);
    }
  });
});

describe('LZMA constants', () => {
  it('bit price table matches the LZMA SDK / liblzma table', () => {
    expect(Array.from(RC_PRICES.subarray(0, 8))).toEqual([128, 103, 91, 84, 78, 73, 69, 66]);
    expect(Array.from(RC_PRICES.subarray(120, 128))).toEqual([2, 2, 2, 1, 1, 1, 1, 1]);
  });
  it('hash table is the CRC32 table', () => {
    expect(HASH_TABLE[1]! >>> 0).toBe(0x77073096);
    expect(HASH_TABLE[255]! >>> 0).toBe(0x2d02ef8d);
  });
  it('distance slots', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 127, 128].map(distSlot)).toEqual([0, 1, 2, 3, 4, 4, 5, 5, 6, 6, 7, 13, 14]);
    expect(distSlot(2 ** 30)).toBe(60);
  });
});

describe('presets', () => {
  it('match xz(1)', () => {
    expect(lzmaPreset(0)).toMatchObject({ dictSize: 256 << 10, mode: 'fast', mf: 'hc3', niceLen: 128, depth: 4 });
    expect(lzmaPreset(1)).toMatchObject({ dictSize: 1 << 20, mode: 'fast', mf: 'hc4', niceLen: 128, depth: 8 });
    expect(lzmaPreset(3)).toMatchObject({ dictSize: 4 << 20, mode: 'fast', mf: 'hc4', niceLen: 273, depth: 48 });
    expect(lzmaPreset(6)).toMatchObject({ dictSize: 8 << 20, mode: 'normal', mf: 'bt4', niceLen: 64, depth: 0 });
    expect(lzmaPreset(0, true)).toMatchObject({ dictSize: 256 << 10, mode: 'normal', mf: 'bt4', niceLen: 273, depth: 512 });
    expect(lzmaPreset(5, true)).toMatchObject({ mode: 'normal', niceLen: 192, depth: 0 });
    expect(() => lzmaPreset(10)).toThrow(/preset/);
  });
  it('refuses options the encoder cannot honour', () => {
    expect(() => validateLzmaOptions({ ...lzmaPreset(0), dictSize: 1 << 30 })).toThrow(/above our limit/);
    expect(() => validateLzmaOptions({ ...lzmaPreset(0), lc: 4, lp: 1 })).toThrow(/lc \+ lp/);
    expect(() => validateLzmaOptions({ ...lzmaPreset(0), niceLen: 300 })).toThrow(/niceLen/);
  });
  it('block size of xz -T0', () => {
    expect(mtBlockSize(256 << 10)).toBe(1 << 20);
    expect(mtBlockSize(8 << 20)).toBe(24 << 20);
  });
  it('dictionary property byte rounds up and round-trips', () => {
    expect(lzma2DictByte(256 << 10)).toBe(12);
    expect(lzma2DictByte(8 << 20)).toBe(22);
    expect(lzma2DictByte(4096)).toBe(0);
    expect(lzma2DictByte(1)).toBe(0);
    expect(lzma2DictByte(128 << 10)).toBe(10);
    expect(lzma2DictByte(96 << 10)).toBe(9);
    expect(lzma2DictByte((128 << 10) + 1)).toBe(11);
    for (let b = 0; b < 40; b++) expect(lzma2DictByte(lzma2DictSizeFromByte(b))).toBe(b);
    expect(() => lzma2DictSizeFromByte(41)).toThrow();
  });
});

describe('container', () => {
  it('multibyte integers', () => {
    for (const n of [0, 1, 127, 128, 16383, 16384, 2 ** 32, 2 ** 50]) {
      const b = new Uint8Array(10);
      const end = writeVli(b, 0, n);
      expect(end).toBe(vliSize(n));
      let v = 0;
      for (let i = end - 1; i >= 0; i--) v = v * 128 + (b[i]! & 0x7f);
      expect(v).toBe(n);
    }
  });
  it('stream header and footer', () => {
    const h = streamHeader('crc32');
    expect(Array.from(h)).toEqual([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x01, ...u32(crc32(Uint8Array.of(0, 1)))]);
    const f = streamFooter('crc64', 12);
    expect(Array.from(f.subarray(4))).toEqual([2, 0, 0, 0, 0, 4, 0x59, 0x5a]);
  });
  it('block header with reserved room pads with zeros and keeps its CRC', () => {
    const reserved = blockHeaderSize({ dictByte: 12, compressedSize: blockBufferBound(1 << 20), uncompressedSize: 1 << 20 });
    expect(reserved).toBe(16);
    const h = encodeBlockHeader({ dictByte: 12, compressedSize: 5, uncompressedSize: 1 }, reserved);
    expect(Array.from(h.subarray(0, 12))).toEqual([0x03, 0xc0, 0x05, 0x01, 0x21, 0x01, 0x0c, 0, 0, 0, 0, 0]);
    expect(new DataView(h.buffer).getUint32(12, true)).toBe(crc32(h.subarray(0, 12)) >>> 0);
  });
  it('index size and layout', () => {
    const idx = encodeIndex([{ unpaddedSize: 18, uncompressedSize: 1 }]);
    expect(idx.length).toBe(indexSize([{ unpaddedSize: 18, uncompressedSize: 1 }]));
    expect(Array.from(idx.subarray(0, 4))).toEqual([0, 1, 18, 1]);
    expect(encodeIndex([]).length).toBe(8);
  });
});

function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
