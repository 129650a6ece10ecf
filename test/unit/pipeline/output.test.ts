/**
 * Output writing and post-processing (src/pipeline/output.ts, tar-member.ts): atomic files, streams,
 * interruption, and the formats checked by the native tools (xz, zstd, gzip, GNU tar).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RandomAccessSink } from '../../../src/core/sink.js';
import { gnuFileHeader, tarMemberStream } from '../../../src/pipeline/tar-member.js';
import { writeOutput, type OutputPayload } from '../../../src/pipeline/output.js';
import { missingTools, runTool, tempDir } from '../../helpers/tools.js';
import { seeded } from '../../../golden/inputs.js';

let work = '';
let cleanup = () => {};
beforeAll(() => ({ dir: work, cleanup } = tempDir('imagekit-output-')));
afterAll(() => cleanup());

const data = Buffer.concat([seeded('output-test', 300_000), Buffer.alloc(200_000, 0x41)]);
const bytesPayload = (b: Buffer, chunk = 65536): OutputPayload => ({
  type: 'bytes',
  size: b.byteLength,
  open: async function* () {
    for (let i = 0; i < b.byteLength; i += chunk) yield b.subarray(i, i + chunk);
  },
});

/** A 12 MiB "disk": data at 1 MiB, a hole, data at 9 MiB, the rest zeros. */
const DISK = 12 << 20;
const diskPayload: OutputPayload = {
  type: 'disk',
  size: DISK,
  write: async (sink: RandomAccessSink) => {
    await sink.hole(0, 1 << 20);
    await sink.write(1 << 20, data);
    await sink.hole((1 << 20) + data.byteLength, (8 << 20) - data.byteLength);
    await sink.writeFrom(9 << 20, (async function* () {
      yield data.subarray(0, 1000);
      yield data.subarray(1000, 5000);
    })());
  },
};
const diskBytes = (() => {
  const b = Buffer.alloc(DISK);
  data.copy(b, 1 << 20);
  data.subarray(0, 5000).copy(b, 9 << 20);
  return b;
})();

const opts = { sourceDateEpoch: 1_700_000_000 } as const;
const native = (cmd: string, file: string) => spawnSync('sh', ['-c', `${cmd} < "${file}"`], { maxBuffer: 64 << 20 });

describe('writeOutput', () => {
  it('raw bytes to a file: whole file, reported sha256, nothing else in the directory', async () => {
    const dir = join(work, 'raw');
    mkdirSync(dir);
    const r = await writeOutput(bytesPayload(data), { type: 'file', path: join(dir, 'out.bin') }, { ...opts, outFormat: 'raw' });
    expect(readFileSync(join(dir, 'out.bin')).equals(data)).toBe(true);
    expect(r.bytes).toBe(data.byteLength);
    expect(readdirSync(dir)).toEqual(['out.bin']);
  });

  it('a raw disk goes to a sparse file: holes are not allocated', async () => {
    const path = join(work, 'disk.raw');
    await writeOutput(diskPayload, { type: 'file', path }, { ...opts, outFormat: 'raw' });
    expect(readFileSync(path).equals(diskBytes)).toBe(true);
    expect(statSync(path).blocks * 512).toBeLessThan(2 << 20);
  });

  it.skipIf(missingTools('xz', 'zstd', 'gzip', 'tar'))('post-processed disks decode with xz, zstd, gzip and GNU tar to the same bytes', async () => {
    for (const [format, cmd] of [['.xz', 'xz -dc'], ['.zst', 'zstd -dc'], ['.gz', 'gzip -dc'], ['.tar.gz', 'tar -xzOf - disk.raw']] as const) {
      const path = join(work, `disk${format}`);
      const r = await writeOutput(diskPayload, { type: 'file', path }, { ...opts, outFormat: format });
      const out = native(cmd, path);
      expect(out.status, `${format}: ${out.stderr}`).toBe(0);
      expect(out.stdout.equals(diskBytes), format).toBe(true);
      expect(r.bytes).toBe(statSync(path).size);
    }
    const listing = runTool('tar', ['-tvzf', join(work, 'disk.tar.gz')]);
    expect(listing.stdout).toMatch(/^-rw-r--r-- 0\/0 +12582912 2023-11-14 \d\d:\d\d disk.raw\n$/);
    expect(statSync(join(work, 'disk.tar.gz')).size).toBeGreaterThan(0);
  });

  it.skipIf(missingTools('xz'))('.xz is byte for byte what `xz -0 -T0` writes (talos-imager.md §12.1)', async () => {
    const src = join(work, 'payload.bin');
    writeFileSync(src, data);
    const path = join(work, 'payload.bin.xz');
    await writeOutput(bytesPayload(data, 7777), { type: 'file', path }, { ...opts, outFormat: '.xz' });
    const ref = native('xz -0 -T0 -c', src);
    expect(ref.status).toBe(0);
    expect(readFileSync(path).equals(ref.stdout)).toBe(true);
  });

  it('to a stream: the same bytes, the stream is not ended', async () => {
    const chunks: Buffer[] = [];
    let ended = false;
    const stream = new Writable({ write: (c, _e, cb) => (chunks.push(c), cb()), final: (cb) => ((ended = true), cb()) });
    const r = await writeOutput(diskPayload, { type: 'stream', stream, name: 'test stream' }, { ...opts, outFormat: 'raw' });
    expect(Buffer.concat(chunks).equals(diskBytes)).toBe(true);
    expect(ended).toBe(false);
    expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a failing producer leaves no file and no temporary file', async () => {
    const dir = join(work, 'fail');
    mkdirSync(dir);
    for (const format of ['raw', '.xz', '.tar.gz'] as const) {
      const bad: OutputPayload = {
        type: 'bytes',
        size: 1 << 20,
        open: async function* () {
          yield Buffer.alloc(4096, 1);
          throw new Error('producer failed');
        },
      };
      await expect(writeOutput(bad, { type: 'file', path: join(dir, `x${format}`) }, { ...opts, outFormat: format })).rejects.toThrow();
      const badDisk: OutputPayload = { type: 'disk', size: DISK, write: async (s) => { await s.write(0, data); throw new Error('disk writer failed'); } };
      await expect(writeOutput(badDisk, { type: 'file', path: join(dir, `d${format}`) }, { ...opts, outFormat: format })).rejects.toThrow('disk writer failed');
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a payload shorter than announced is an error, not a short file', async () => {
    const dir = join(work, 'short');
    mkdirSync(dir);
    const short: OutputPayload = { type: 'bytes', size: 1000, open: async function* () { yield Buffer.alloc(10); } };
    await expect(writeOutput(short, { type: 'file', path: join(dir, 'x') }, { ...opts, outFormat: 'raw' })).rejects.toMatchObject({ code: 'E_OUTPUT_SIZE' });
    await expect(writeOutput(short, { type: 'file', path: join(dir, 'x.tar.gz') }, { ...opts, outFormat: '.tar.gz' })).rejects.toMatchObject({ code: 'E_TAR_SIZE' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an abort signal stops the write at the next chunk and removes the temporary file', async () => {
    const dir = join(work, 'abort');
    mkdirSync(dir);
    for (const format of ['raw', '.zst'] as const) {
      const ctl = new AbortController();
      const payload: OutputPayload = { type: 'disk', size: DISK, write: async (s) => { await s.write(0, data); ctl.abort(); await s.write(data.byteLength, data); } };
      await expect(writeOutput(payload, { type: 'file', path: join(dir, `x${format}`) }, { ...opts, outFormat: format, signal: ctl.signal })).rejects.toMatchObject({ code: 'E_INTERRUPTED' });
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('tar member (.tar.gz)', () => {
  it('GNU header: octal size below 8 GiB, base-256 from 8 GiB; checksum valid', () => {
    const small = gnuFileHeader('disk.raw', 2355101696, 1_700_000_000);
    expect(small.subarray(124, 136).toString('latin1')).toBe('21430000000\0');
    expect(small.subarray(257, 265).toString('latin1')).toBe('ustar  \0');
    const big = gnuFileHeader('disk.raw', 9 * 2 ** 30, 0);
    expect(big[124]).toBe(0x80);
    expect(big.readBigUInt64BE(128)).toBe(BigInt(9 * 2 ** 30));
    for (const h of [small, big]) {
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
      expect(parseInt(h.subarray(148, 154).toString('latin1'), 8)).toBe(sum);
    }
  });

  it.skipIf(missingTools('tar'))('GNU tar lists and extracts the member; the archive ends on a 10 KiB record', async () => {
    const t = tarMemberStream('disk.raw', data.byteLength, 1_700_000_000);
    const parts: Buffer[] = [];
    t.on('data', (c: Buffer) => parts.push(c));
    const done = new Promise((r) => t.on('end', r));
    t.write(data.subarray(0, 1000));
    t.end(data.subarray(1000));
    await done;
    const tar = Buffer.concat(parts);
    expect(tar.byteLength % 10240).toBe(0);
    const path = join(work, 'member.tar');
    writeFileSync(path, tar);
    expect(runTool('tar', ['-xOf', path, 'disk.raw'], { encoding: 'latin1' }).stdout).toBe(data.toString('latin1'));
  });
});
