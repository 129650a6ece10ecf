/**
 * Compression benchmark: ours vs the native tool on the same input in the same run.
 *
 * Inputs (generated here, cached under $IMAGEKIT_BENCH_DIR or /tmp/imagekit-bench-compress):
 *  - mix200:  a 200 MiB realistic mix (first 200 MiB of a name-sorted tar of /usr/lib/python3*,
 *             /usr/lib/x86_64-linux-gnu and /usr/share);
 *  - initrd90: a ~90 MiB initramfs-like payload: a newc cpio holding a zstd squashfs of shared
 *             libraries (already-compressed data) plus a few text files;
 *  - sparse1300: a 1.3 GiB raw image with 80 MiB of data at three offsets, zeros elsewhere.
 *
 * Cases: zstd -18 (vs `zstd -18 -T0`) on mix200 and initrd90; gzip -6 (vs `pigz -6`) on mix200 and
 * sparse1300; zstd -3 (vs `zstd -3 -T0`) on sparse1300. Ours runs in a fresh node process per
 * measurement (start-up included) under /usr/bin/time, like the native tool, so peak RSS is each
 * process's own. For the sparse image ours is fed the way the disk writer feeds it (CompressingSink:
 * data writes + holes, no file read); the native tool reads the sparse file. Every output of ours
 * is checked with the native decoder and `cmp`.
 *
 *   npm run bench -- compress            (BENCH_RUNS=n for min of n runs; default 1)
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { MiB, prepareCompressInputs, timed, type Measured } from './lib/compress-inputs.js';
import { CompressingSink } from '../src/compress/compressing-sink.js';
import { createEncoder, type EncoderOptions } from '../src/compress/encoder.js';

const SPARSE_SIZE = 1300 * MiB;
/** Data regions of the sparse image: [offset, length, offset into mix200]. */
const SPARSE_DATA: Array<[number, number, number]> = [
  [1 * MiB, 30 * MiB, 0],
  [500 * MiB, 30 * MiB, 60 * MiB],
  [1200 * MiB, 20 * MiB, 120 * MiB],
];

interface Case {
  name: string;
  input: string;
  /** Encoder options for ours. */
  ours: EncoderOptions;
  /** 'file': read the input file; 'sparse': drive a CompressingSink with the image layout. */
  feed: 'file' | 'sparse';
  native: string[];
  check: string[];
}

/** Child-process entry: `node compress.js --run <caseJson> <output>`. */
async function runOurs(spec: Case, output: string): Promise<void> {
  if (output === spec.input) throw new Error('refusing to write the output over the input');
  const out = createWriteStream(output);
  if (spec.feed === 'file') {
    await pipeline(createReadStream(spec.input, { highWaterMark: MiB }), createEncoder(spec.ours), out);
    return;
  }
  // The data regions as the disk writer would hand them over: read from the image, 4 MiB at a time.
  const sink = new CompressingSink(createEncoder(spec.ours), out);
  const fh = await open(spec.input, 'r');
  const buf = Buffer.alloc(4 * MiB);
  for (const [off, len] of SPARSE_DATA) {
    for (let at = 0; at < len; at += buf.length) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, len - at), off + at);
      await sink.write(off + at, buf.subarray(0, bytesRead));
    }
  }
  await fh.close();
  await sink.setSize(SPARSE_SIZE);
  await sink.close();
}

async function main(): Promise<void> {
  if (process.argv[2] === '--run') {
    await runOurs(JSON.parse(process.argv[3]!) as Case, process.argv[4]!);
    return;
  }
  const dir = process.env.IMAGEKIT_BENCH_DIR ?? join(tmpdir(), 'imagekit-bench-compress');
  const { mix, initrd, sparse } = prepareCompressInputs(dir, { size: SPARSE_SIZE, regions: SPARSE_DATA });
  const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 1));
  const cases: Case[] = [
    { name: `zstd -18, mix 200 MiB`, input: mix, ours: { format: 'zstd', level: 18 }, feed: 'file', native: ['zstd', '-18', '-T0', '-q', '-c', mix], check: ['zstd', '-dc'] },
    { name: `zstd -18, initramfs ${Math.round(statSync(initrd).size / MiB)} MiB`, input: initrd, ours: { format: 'zstd', level: 18 }, feed: 'file', native: ['zstd', '-18', '-T0', '-q', '-c', initrd], check: ['zstd', '-dc'] },
    { name: 'gzip -6, mix 200 MiB', input: mix, ours: { format: 'gzip', level: 6 }, feed: 'file', native: ['pigz', '-6', '--no-time', '-c', mix], check: ['gzip', '-dc'] },
    { name: 'gzip -6, sparse 1.3 GiB (80 MiB data)', input: sparse, ours: { format: 'gzip', level: 6 }, feed: 'sparse', native: ['pigz', '-6', '--no-time', '-c', sparse], check: ['gzip', '-dc'] },
    { name: 'zstd -3, sparse 1.3 GiB (80 MiB data)', input: sparse, ours: { format: 'zstd', level: 3 }, feed: 'sparse', native: ['zstd', '-3', '-T0', '-q', '-c', sparse], check: ['zstd', '-dc'] },
  ];
  const self = fileURLToPath(import.meta.url);
  console.log(`inputs in ${dir}; min of ${runs} run(s)`);
  console.log('| case | ours s | native s | ratio | CPU s (ours / native) | peak RSS MiB (ours / native) | size MiB (ours / native) | native tool |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const c of cases) {
    const oursOut = join(dir, 'ours.out');
    const nativeOut = join(dir, 'native.out');
    let ours: Measured = { seconds: Infinity, cpu: 0, rssMiB: 0 };
    let native: Measured = { seconds: Infinity, cpu: 0, rssMiB: 0 };
    for (let i = 0; i < runs; i++) {
      // Alternate who goes first, so a burst of other load does not always hit the same side.
      const order = i % 2 === 0 ? ['native', 'ours'] : ['ours', 'native'];
      for (const who of order) {
        if (who === 'native') {
          const n = timed(c.native, nativeOut);
          if (n.seconds < native.seconds) native = n;
        } else {
          const o = timed([process.execPath, self, '--run', JSON.stringify(c), oursOut]);
          if (o.seconds < ours.seconds) ours = o;
        }
      }
    }
    const r = spawnSync('sh', ['-c', `${c.check.join(' ')} < '${oursOut}' | cmp - '${c.input}'`], { stdio: ['ignore', 'ignore', 'inherit'] });
    const verdict = r.status === 0 ? '' : ' **OUTPUT MISMATCH**';
    const size = (p: string) => (statSync(p).size / MiB).toFixed(1);
    console.log(
      `| ${c.name}${verdict} | ${ours.seconds.toFixed(2)} | ${native.seconds.toFixed(2)} | ${(ours.seconds / native.seconds).toFixed(2)} | ` +
        `${ours.cpu.toFixed(1)} / ${native.cpu.toFixed(1)} | ` +
        `${ours.rssMiB.toFixed(0)} / ${native.rssMiB.toFixed(0)} | ${size(oursOut)} / ${size(nativeOut)} | ${c.native.slice(0, -1).join(' ')} |`,
    );
    rmSync(oursOut, { force: true });
    rmSync(nativeOut, { force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
