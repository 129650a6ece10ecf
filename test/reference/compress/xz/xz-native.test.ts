/**
 * Our xz against xz-utils (5.4, Debian): byte-identical output for the imager's exact commands
 * (`xz -0 -T0` for disk images, `xz -C crc32 -0 -e -T0` for the initramfs; talos-imager.md §4.6,
 * §12.1), `xz -t` / `xz -lvv` on our files, native decompression of our files, and our decoder on
 * files written by xz (multi-block, single-block, concatenated, every check type).
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../../src/core/errors.js';
import { xzEncodeSync } from '../../../../src/compress/xz/xz-sync.js';
import { xzDecodeSync } from '../../../../src/compress/xz/xz-decoder.js';
import { createXzEncoder, xzEncode, XZ_DISK_IMAGE, XZ_INITRAMFS } from '../../../../src/compress/xz/xz.js';
import { missingTools, runTool, tempDir } from '../../../helpers/tools.js';
import { mixed, randomBytes, sparse, textLike } from '../../../unit/compress/xz/data.js';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const skip = missingTools('xz');
const { dir, cleanup } = tempDir('imagekit-xz-');
afterAll(cleanup);

const MiB = 1 << 20;

function nativeXz(args: string[], data: Uint8Array): Buffer {
  const file = join(dir, `in-${args.join('')}.bin`);
  writeFileSync(file, data);
  const r = runTool('sh', ['-c', `xz ${args.join(' ')} -c "${file}" > "${file}.xz"`]);
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(`${file}.xz`);
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

const eq = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe.skipIf(skip)('byte-identical to xz 5.4 -T0', () => {
  const inputs: Record<string, Uint8Array> = {
    'text 2.5 MiB (3 blocks, partial last)': textLike(2.5 * MiB, 21),
    'mixed 1.5 MiB': mixed(1.5 * MiB, 22),
    'random 1.1 MiB (stored chunks)': randomBytes(1.1 * MiB, 23),
    'sparse 3 MiB (zero blocks)': sparse(3 * MiB, 24),
    'exactly 1 MiB': mixed(MiB, 25),
    'one byte': Uint8Array.of(0x61),
    empty: new Uint8Array(0),
  };

  for (const [name, data] of Object.entries(inputs)) {
    it(`xz -0 -T0: ${name}`, () => {
      const ours = xzEncodeSync(data, XZ_DISK_IMAGE);
      const native = nativeXz(['-0', '-T0'], data);
      expect(firstDiff(ours, native), `first differing byte (ours ${ours.length} B, xz ${native.length} B)`).toBe(-1);
    });
  }

  for (const name of ['mixed 1.5 MiB', 'random 1.1 MiB (stored chunks)', 'sparse 3 MiB (zero blocks)', 'one byte', 'empty']) {
    it(`xz -C crc32 -0 -e -T0: ${name}`, () => {
      const data = inputs[name]!;
      const ours = xzEncodeSync(data, XZ_INITRAMFS);
      const native = nativeXz(['-C', 'crc32', '-0', '-e', '-T0'], data);
      expect(firstDiff(ours, native), `first differing byte (ours ${ours.length} B, xz ${native.length} B)`).toBe(-1);
    });
  }

  it('other presets: -1, -3e, -6 and -2 -C sha256', () => {
    const data = mixed(700 << 10, 26);
    for (const [opts, args] of [
      [{ preset: 1 }, ['-1', '-T0']],
      [{ preset: 3, extreme: true, check: 'crc32' }, ['-3e', '-T0', '-C', 'crc32']],
      [{ preset: 6 }, ['-6', '-T0']],
      [{ preset: 2, check: 'sha256' }, ['-2', '-T0', '-C', 'sha256']],
    ] as const) {
      const ours = xzEncodeSync(data, opts);
      expect(firstDiff(ours, nativeXz([...args], data)), JSON.stringify(opts)).toBe(-1);
    }
  });

  it('the parallel stream encoder (worker threads, any chunking) gives the same bytes', async () => {
    const data = sparse(3 * MiB, 27);
    const native = nativeXz(['-C', 'crc32', '-0', '-e', '-T0'], data);
    const ours = await xzEncode(data, { ...XZ_INITRAMFS, threads: 2 });
    expect(firstDiff(ours, native)).toBe(-1);
    // Odd input chunk sizes through the stream API.
    const parts: Buffer[] = [];
    async function* odd() {
      for (let at = 0, k = 1; at < data.length; k++) {
        const n = (k * 7919) % 300_000 + 1;
        yield data.subarray(at, at + n);
        at += n;
      }
    }
    await pipeline(Readable.from(odd()), createXzEncoder({ ...XZ_INITRAMFS, threads: 3 }), async (src: AsyncIterable<Buffer>) => {
      for await (const b of src) parts.push(b);
    });
    expect(firstDiff(Buffer.concat(parts), native)).toBe(-1);
  });
});

describe.skipIf(skip)('xz-utils reads our files', () => {
  const data = Buffer.concat([textLike(600 << 10, 31), new Uint8Array(1.5 * MiB), mixed(300 << 10, 32)]);
  const file = join(dir, 'ours-initramfs.xz');

  it('xz -t and xz -lvv: CRC32 check, one block per MiB, sizes in headers', () => {
    writeFileSync(file, xzEncodeSync(data, XZ_INITRAMFS));
    expect(runTool('xz', ['-t', file]).status).toBe(0);
    const l = runTool('xz', ['-lvv', file]);
    expect(l.status, l.stderr).toBe(0);
    expect(l.stdout).toMatch(/Check:\s+CRC32/);
    expect(l.stdout).toMatch(/Blocks:\s+3\b/);
    expect(l.stdout).toMatch(/Sizes in headers:\s+Yes/);
    expect(l.stdout).toMatch(/--lzma2=dict=256KiB/);
    expect(l.stdout).toContain(`(${data.length} B)`);
  });

  it('xz -d | cmp for presets 0–6 (alternating -e) and every check', () => {
    const sample = mixed(150 << 10, 33);
    const sampleFile = join(dir, 'sample.bin');
    writeFileSync(sampleFile, sample);
    const checks = ['none', 'crc32', 'crc64', 'sha256'] as const;
    for (let preset = 0; preset <= 6; preset++) {
      const opts = { preset, check: checks[preset % 4]!, extreme: preset % 2 === 1 };
      const f = join(dir, `p${preset}.xz`);
      writeFileSync(f, xzEncodeSync(sample, opts));
      const r = runTool('sh', ['-c', `xz -dc "${f}" | cmp - "${sampleFile}"`]);
      expect(r.status, `${JSON.stringify(opts)}: ${r.stdout}${r.stderr}`).toBe(0);
    }
  });
});

describe.skipIf(skip)('our decoder reads xz-utils files', () => {
  const data = Buffer.concat([mixed(1.2 * MiB, 41), new Uint8Array(300_000), textLike(200_000, 42)]);

  it('multi-block (-T0), single-block (-T1), every check, --block-size, concatenated + padding', () => {
    const variants = [
      ['-0', '-T0'],
      ['-6', '-T1'],
      ['-1', '-T1', '-C', 'none'],
      ['-0', '-T0', '-C', 'sha256'],
      ['-3', '-T1', '--block-size=100000'],
    ];
    const files = variants.map((args) => nativeXz(args, data));
    for (const [i, xz] of files.entries()) expect(eq(xzDecodeSync(xz), data), variants[i]!.join(' ')).toBe(true);
    const cat = Buffer.concat([files[0]!, new Uint8Array(12), files[1]!, files[2]!]);
    expect(eq(xzDecodeSync(cat), Buffer.concat([data, data, data]))).toBe(true);
  });

  it('a BCJ filter chain is refused clearly', () => {
    const xz = nativeXz(['--x86', '--lzma2=preset=0'], textLike(10_000, 43));
    let err: unknown;
    try {
      xzDecodeSync(xz, { source: 'bcj.xz' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ImagekitError);
    expect((err as ImagekitError).code).toBe('E_XZ_UNSUPPORTED_FILTER');
    expect((err as ImagekitError).message).toContain('bcj.xz');
  });
});

describe('buffers', () => {
  it('never detaches or changes the caller’s Buffer (worker path)', async () => {
    const data = Buffer.concat([Buffer.alloc(MiB), Buffer.from(mixed(MiB + 1234, 51))]);
    const copy = Buffer.from(data);
    const xz = await xzEncode(data, { preset: 0, threads: 2 });
    expect(data.buffer.byteLength).toBeGreaterThan(0);
    expect(eq(data, copy)).toBe(true);
    expect(eq(xzDecodeSync(xz), copy)).toBe(true);
  });
});
