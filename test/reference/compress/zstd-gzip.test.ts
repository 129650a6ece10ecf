/**
 * Reference checks with tools nobody here wrote: our zstd and gzip outputs against zstd(1),
 * gzip(1) and pigz(1); native outputs against our decoders.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gzipCompress, gzipDecompress } from '../../../src/compress/gzip.js';
import { zstdCompress, zstdDecompress } from '../../../src/compress/zstd.js';
import { missingTools, runTool, tempDir } from '../../helpers/tools.js';
import { mixed, textLike } from '../../unit/compress/data.js';

const { dir, cleanup } = tempDir('imagekit-compress-ref-');
afterAll(cleanup);

const input = Buffer.concat([textLike(1_500_000), mixed(1_200_000, 9), Buffer.alloc(300_000), textLike(200_000, 4)]);
const inputPath = join(dir, 'input.bin');
writeFileSync(inputPath, input);

function cmpDecoded(cmd: string, args: string[], file: string): void {
  const out = `${file}.out`;
  const r = runTool('sh', ['-c', `${cmd} ${args.join(' ')} "${file}" > "${out}"`]);
  expect(r.status, r.stderr).toBe(0);
  expect(runTool('cmp', [out, inputPath]).status).toBe(0);
}

describe('zstd against zstd(1)', () => {
  it.skipIf(missingTools('zstd', 'cmp'))('single frame (joined segments): zstd -t, -lv says 1 frame, zstd -dc | cmp', async () => {
    for (const level of [3, 18]) {
      const z = await zstdCompress(input, { level, segmentSize: 1 << 20 });
      const f = join(dir, `single-${level}.zst`);
      writeFileSync(f, z);
      const t = runTool('zstd', ['-t', f]);
      expect(t.status, t.stderr).toBe(0);
      const lv = runTool('zstd', ['-lv', f]);
      expect(lv.status, lv.stderr).toBe(0);
      expect(lv.stdout).toMatch(/# Zstandard Frames: 1\n/);
      cmpDecoded('zstd', ['-dc'], f);
    }
  });

  it.skipIf(missingTools('zstd', 'cmp'))("'multi': one frame per segment, zstd -lv counts them", async () => {
    const z = await zstdCompress(input, { level: 3, segmentSize: 1 << 20, frames: 'multi' });
    const f = join(dir, 'multi.zst');
    writeFileSync(f, z);
    expect(runTool('zstd', ['-t', f]).status).toBe(0);
    expect(runTool('zstd', ['-lv', f]).stdout).toMatch(/# Zstandard Frames: 4\n/);
    cmpDecoded('zstd', ['-dc'], f);
  });

  it.skipIf(missingTools('zstd'))('our decoder reads native frames: checksummed, multi-threaded, concatenated, with a skippable frame', async () => {
    const a = join(dir, 'n19.zst');
    const b = join(dir, 'nT0.zst');
    expect(runTool('zstd', ['-q', '-f', '-19', '--check', inputPath, '-o', a]).status).toBe(0);
    expect(runTool('zstd', ['-q', '-f', '-3', '-T2', '--no-check', '--content-size', inputPath, '-o', b]).status).toBe(0);
    const skippable = Buffer.concat([Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 5, 0, 0, 0]), Buffer.from('hello')]);
    const cat = Buffer.concat([readFileSync(a), skippable, readFileSync(b)]);
    expect(Buffer.compare(Buffer.from(await zstdDecompress(readFileSync(a))), input)).toBe(0);
    expect(Buffer.compare(Buffer.from(await zstdDecompress(cat)), Buffer.concat([input, input]))).toBe(0);
    // zstd(1) agrees on the concatenation (sanity of the fixture itself).
    const f = join(dir, 'cat.zst');
    writeFileSync(f, cat);
    expect(runTool('zstd', ['-t', f]).status).toBe(0);
  });
});

describe('gzip against gzip(1) and pigz(1)', () => {
  it.skipIf(missingTools('gzip', 'pigz', 'cmp'))('gzip -t, gzip -dc | cmp, pigz -dc | cmp; header bytes as pigz --no-time', async () => {
    const gz = await gzipCompress(input, { level: 6 });
    const f = join(dir, 'ours.gz');
    writeFileSync(f, gz);
    const t = runTool('gzip', ['-t', f]);
    expect(t.status, t.stderr).toBe(0);
    cmpDecoded('gzip', ['-dc'], f);
    cmpDecoded('pigz', ['-dc'], f);
    const native = runTool('sh', ['-c', `pigz -6 --no-time -c < "${inputPath}" | head -c 10 | od -An -tx1`]).stdout.trim().split(/\s+/);
    expect([...gz.subarray(0, 10)].map((x) => x.toString(16).padStart(2, '0'))).toEqual(native);
    // gzip -l reads the trailer: uncompressed size as ISIZE.
    expect(runTool('gzip', ['-l', f]).stdout).toContain(String(input.length));
  });

  it.skipIf(missingTools('gzip', 'pigz'))('our decoder reads gzip -9 -n and pigz -6 output', async () => {
    for (const [cmd, args] of [['gzip', ['-9', '-n', '-c']], ['pigz', ['-6', '-c']]] as const) {
      const f = join(dir, `${cmd}.gz`);
      expect(runTool('sh', ['-c', `${cmd} ${args.join(' ')} "${inputPath}" > "${f}"`]).status).toBe(0);
      expect(Buffer.compare(Buffer.from(await gzipDecompress(readFileSync(f))), input)).toBe(0);
    }
  });
});
