/**
 * Squashfs xz blocks (talos-imager.md §4.5: Talos < 1.8 runs `mksquashfs … -comp xz -Xdict-size
 * 100%`): each data or fragment block is a complete single-block .xz stream, preset 6 with the
 * dictionary equal to the block size and a CRC32 check. Our `xzEncodeSingleBlock` must produce
 * exactly the bytes mksquashfs stores, which we find verbatim inside its image.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { xzEncodeSingleBlock } from '../../../../src/compress/xz/single-block.js';
import { xzDecodeSync } from '../../../../src/compress/xz/xz-decoder.js';
import { missingTools, runTool, tempDir } from '../../../helpers/tools.js';
import { mixed, randomBytes, textLike } from '../../../unit/compress/xz/data.js';

const skip = missingTools('mksquashfs');
const { dir, cleanup } = tempDir('imagekit-sqxz-');
afterAll(cleanup);

describe.skipIf(skip)('squashfs xz blocks', () => {
  it('are byte-identical to the blocks mksquashfs -comp xz -Xdict-size 100% writes', () => {
    const blockSize = 128 << 10;
    const src = join(dir, 'src');
    mkdirSync(src, { recursive: true });
    // Compressible text, structured data, and a tail fragment; random data is stored by squashfs.
    const files: Record<string, Uint8Array> = {
      'a.txt': textLike(300_000, 61),
      'b.bin': mixed(2 * blockSize, 62),
      'c.rnd': randomBytes(blockSize, 63),
    };
    for (const [name, data] of Object.entries(files)) writeFileSync(join(src, name), data);
    const img = join(dir, 'img.sqsh');
    const r = runTool('mksquashfs', [src, img, '-comp', 'xz', '-Xdict-size', '100%', '-noappend', '-all-root', '-no-fragments', '-quiet', '-no-progress']);
    expect(r.status, r.stderr).toBe(0);
    const image = readFileSync(img);
    let compressed = 0;
    let stored = 0;
    for (const [name, data] of Object.entries(files)) {
      for (let off = 0; off < data.length; off += blockSize) {
        const block = data.subarray(off, Math.min(data.length, off + blockSize));
        const ours = xzEncodeSingleBlock(block, { preset: 6, dictSize: blockSize, check: 'crc32', outLimit: block.length });
        if (ours === null) {
          // Does not fit in the block: squashfs stores the block uncompressed.
          expect(image.indexOf(Buffer.from(block)), `${name}@${off} stored`).toBeGreaterThan(0);
          stored++;
          continue;
        }
        expect(Buffer.from(xzDecodeSync(ours)).equals(Buffer.from(block))).toBe(true);
        expect(image.indexOf(Buffer.from(ours)), `${name}@${off}: our xz block is in the image`).toBeGreaterThan(0);
        compressed++;
      }
    }
    expect(compressed).toBeGreaterThanOrEqual(5);
    expect(stored).toBe(1);
  });
});
