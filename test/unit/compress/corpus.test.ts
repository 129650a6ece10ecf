/**
 * A corpus of malformed zstd and gzip streams, each with the error it must produce. Built from
 * bytes here (documented per case) so the corpus is reviewable and cannot drift.
 */
import { describe, expect, it } from 'vitest';
import { gzipCompress, gzipDecompress } from '../../../src/compress/gzip.js';
import { zstdCompress, zstdDecompress } from '../../../src/compress/zstd.js';
import { textLike } from './data.js';

const hdr = (fhd: number, ...rest: number[]) => Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, fhd, ...rest);
/** Frame header with a 1 MiB window (descriptor 10 << 3) and no content size. */
const FRAME = hdr(0x00, 10 << 3);
const block = (last: boolean, type: number, size: number) => {
  const h = (size << 3) | (type << 1) | (last ? 1 : 0);
  return Uint8Array.of(h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff);
};
const cat = (...p: Uint8Array[]) => Buffer.concat(p);

describe('zstd corrupt/truncated corpus', async () => {
  const good = await zstdCompress(textLike(40_000), { level: 9, threads: 0 });
  const cases: Array<[string, Uint8Array, string]> = [
    ['empty input', new Uint8Array(0), 'E_ZSTD_TRUNCATED'],
    ['magic only', hdr(0).subarray(0, 4), 'E_ZSTD_TRUNCATED'],
    ['header without blocks', FRAME, 'E_ZSTD_TRUNCATED'],
    ['raw block shorter than its size', cat(FRAME, block(true, 0, 100), new Uint8Array(40)), 'E_ZSTD_TRUNCATED'],
    ['reserved block type', cat(FRAME, block(true, 3, 4), new Uint8Array(4)), 'E_ZSTD_CORRUPT'],
    ['block larger than 128 KiB', cat(FRAME, block(true, 0, (128 << 10) + 1)), 'E_ZSTD_CORRUPT'],
    ['block larger than a 1 KiB window', cat(hdr(0x00, 0), block(true, 0, 2000), new Uint8Array(2000)), 'E_ZSTD_CORRUPT'],
    ['window of 4 GiB', cat(hdr(0x00, 22 << 3), block(true, 0, 0)), 'E_ZSTD_WINDOW'],
    ['single-segment frame claiming 2^40 bytes', cat(hdr(0xe0, 0, 0, 0, 0, 0, 1, 0, 0), block(true, 0, 0)), 'E_ZSTD_WINDOW'],
    ['dictionary id', cat(hdr(0x01, 10 << 3, 7), block(true, 0, 0)), 'E_ZSTD_DICTIONARY'],
    ['reserved header bit', cat(hdr(0x08, 10 << 3), block(true, 0, 0)), 'E_ZSTD_CORRUPT'],
    ['compressed block of garbage', cat(FRAME, block(true, 2, 16), Uint8Array.of(0xfe, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)), 'E_ZSTD_CORRUPT'],
    ['valid frame then garbage', cat(good, Buffer.from('not another frame')), 'E_ZSTD_CORRUPT'],
    ['valid frame cut in its last block', good.subarray(0, good.length - 5), 'E_ZSTD_TRUNCATED'],
    ['checksummed frame missing its checksum', cat(hdr(0x04, 10 << 3), block(true, 0, 3), Buffer.from('abc'), Uint8Array.of(1, 2)), 'E_ZSTD_TRUNCATED'],
    ['skippable frame cut short', Uint8Array.of(0x50, 0x2a, 0x4d, 0x18, 100, 0, 0, 0, 1, 2, 3), 'E_ZSTD_TRUNCATED'],
    ['not zstd at all', Buffer.from('#!/bin/sh\necho hi\n'), 'E_ZSTD_CORRUPT'],
  ];
  for (const [name, bytes, code] of cases) {
    it(name, async () => {
      await expect(zstdDecompress(bytes, { source: 'corpus.zst' })).rejects.toMatchObject({ code, message: expect.stringContaining('corpus.zst') });
    });
  }
});

describe('gzip corrupt/truncated corpus', async () => {
  const good = Buffer.from(await gzipCompress(textLike(40_000)));
  const withByte = (at: number, value: number) => {
    const b = Buffer.from(good);
    b[at] = value;
    return b;
  };
  const cases: Array<[string, Uint8Array, string]> = [
    ['empty input', new Uint8Array(0), 'E_GZIP_TRUNCATED'],
    ['magic only', good.subarray(0, 2), 'E_GZIP_TRUNCATED'],
    ['header only', good.subarray(0, 10), 'E_GZIP_TRUNCATED'],
    ['cut in the deflate data', good.subarray(0, good.length >> 1), 'E_GZIP_TRUNCATED'],
    ['cut in the trailer', good.subarray(0, good.length - 3), 'E_GZIP_TRUNCATED'],
    ['compression method 7', withByte(2, 7), 'E_GZIP_CORRUPT'],
    ['reserved flag bits', withByte(3, 0xe0), 'E_GZIP_CORRUPT'],
    ['wrong CRC-32', withByte(good.length - 8, good[good.length - 8]! ^ 1), 'E_GZIP_CORRUPT'],
    ['wrong ISIZE', withByte(good.length - 1, good[good.length - 1]! ^ 1), 'E_GZIP_CORRUPT'],
    ['reserved deflate block type 11', cat(good.subarray(0, 10), Uint8Array.of(0x07, 0, 0, 0)), 'E_GZIP_CORRUPT'],
    ['valid member then garbage', cat(good, Buffer.from('garbage')), 'E_GZIP_CORRUPT'],
    ['not gzip at all', Buffer.from('PK\x03\x04 a zip file'), 'E_GZIP_CORRUPT'],
  ];
  for (const [name, bytes, code] of cases) {
    it(name, async () => {
      await expect(gzipDecompress(bytes, { source: 'corpus.gz' })).rejects.toMatchObject({ code, message: expect.stringContaining('corpus.gz') });
    });
  }
});
