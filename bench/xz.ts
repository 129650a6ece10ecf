/**
 * xz benchmark: our pure-TypeScript encoder vs xz-utils on the same input in the same run.
 *
 * Inputs (generated here, cached under $IMAGEKIT_BENCH_DIR or /tmp/imagekit-bench-xz):
 *  - mix200:   a 200 MiB realistic mix (first 200 MiB of a name-sorted tar of /usr/lib/python3*,
 *              /usr/lib/x86_64-linux-gnu and /usr/share);
 *  - initrd90: a ~90 MiB initramfs-like payload: a newc cpio holding a zstd squashfs of shared
 *              libraries (already-compressed data) plus a few text files;
 *  - sparse1331: a 1331 MiB raw image with 80 MiB of data (20 MiB at 1 MiB, 60 MiB at 105 MiB of
 *              mix200; dependencies-measured.md §8), zeros elsewhere.
 *
 * Cases are the imager's commands: `xz -0 -T0` (disk images, talos-imager.md §12.1) and
 * `xz -C crc32 -0 -e -T0` (initramfs, §4.6). Ours runs in a fresh node process per measurement
 * (start-up and worker start included) under /usr/bin/time, like the native tool, so peak RSS is
 * each process's own (workers included). Every output of ours is compared with `cmp` against
 * xz's output (they are meant to be byte-identical) and tested with `xz -t`.
 *
 *   npm run bench -- xz        (BENCH_RUNS=n for min of n runs; default 1; BENCH_XZ_CASES=a,b to pick)
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { MiB, prepareCompressInputs, timed, type Measured } from './lib/compress-inputs.js';
import { CompressingSink } from '../src/compress/compressing-sink.js';
import { createXzEncoder, XZ_DISK_IMAGE, XZ_INITRAMFS, type XzEncodeOptions } from '../src/compress/xz/index.js';

const SPARSE_SIZE = 1331 * MiB;
/** Data regions of the sparse image: [offset, length, offset into mix200]. */
const SPARSE_DATA: Array<[number, number, number]> = [
  [1 * MiB, 20 * MiB, 0],
  [105 * MiB, 60 * MiB, 40 * MiB],
];

interface Case {
  key: string;
  name: string;
  input: string;
  ours: XzEncodeOptions;
  /** 'file': read the input file; 'sparse': drive a CompressingSink (data writes + holes). */
  feed: 'file' | 'sparse';
  native: string[];
}

/** Child-process entry: `node xz.js --run <caseJson> <output>`. */
async function runOurs(spec: Case, output: string): Promise<void> {
  const out = createWriteStream(output);
  if (spec.feed === 'file') {
    await pipeline(createReadStream(spec.input, { highWaterMark: MiB }), createXzEncoder(spec.ours), out);
    return;
  }
  const mix = readFileSync(spec.input.replace(/sparse1331\.raw$/, 'mix200.bin'));
  const sink = new CompressingSink(createXzEncoder(spec.ours), out);
  for (const [off, len, src] of SPARSE_DATA) await sink.write(off, mix.subarray(src, src + len));
  await sink.setSize(SPARSE_SIZE);
  await sink.close();
}

async function main(): Promise<void> {
  if (process.argv[2] === '--run') {
    await runOurs(JSON.parse(process.argv[3]!) as Case, process.argv[4]!);
    return;
  }
  const dir = process.env.IMAGEKIT_BENCH_DIR ?? join(tmpdir(), 'imagekit-bench-xz');
  const { mix, initrd, sparse } = prepareCompressInputs(dir, { size: SPARSE_SIZE, regions: SPARSE_DATA });
  const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 1));
  const initrdMiB = Math.round(statSync(initrd).size / MiB);
  const all: Case[] = [
    { key: 'sparse-file', name: '-0, sparse 1.3 GiB (80 MiB data), read from file', input: sparse, ours: XZ_DISK_IMAGE, feed: 'file', native: ['xz', '-0', '-T0', '-c', sparse] },
    { key: 'sparse-sink', name: '-0, sparse 1.3 GiB (80 MiB data), fed by CompressingSink', input: sparse, ours: XZ_DISK_IMAGE, feed: 'sparse', native: ['xz', '-0', '-T0', '-c', sparse] },
    { key: 'initrd', name: `-C crc32 -0 -e, initramfs ${initrdMiB} MiB`, input: initrd, ours: XZ_INITRAMFS, feed: 'file', native: ['xz', '-C', 'crc32', '-0', '-e', '-T0', '-c', initrd] },
    { key: 'mix0', name: '-0, mix 200 MiB', input: mix, ours: XZ_DISK_IMAGE, feed: 'file', native: ['xz', '-0', '-T0', '-c', mix] },
    { key: 'mix0e', name: '-C crc32 -0 -e, mix 200 MiB', input: mix, ours: XZ_INITRAMFS, feed: 'file', native: ['xz', '-C', 'crc32', '-0', '-e', '-T0', '-c', mix] },
  ];
  const pick = process.env.BENCH_XZ_CASES?.split(',');
  const cases = pick ? all.filter((c) => pick.includes(c.key)) : all;
  const self = fileURLToPath(import.meta.url);
  console.log(`inputs in ${dir}; ${availableParallelism()} cores; min of ${runs} run(s)`);
  console.log('| case | ours s | native s | ratio | peak RSS MiB (ours / native) | size MiB (ours / native) | identical |');
  console.log('|---|---|---|---|---|---|---|');
  for (const c of cases) {
    const oursOut = join(dir, 'ours.xz');
    const nativeOut = join(dir, 'native.xz');
    let ours: Measured = { seconds: Infinity, cpu: 0, rssMiB: 0 };
    let native: Measured = { seconds: Infinity, cpu: 0, rssMiB: 0 };
    for (let i = 0; i < runs; i++) {
      const n = timed(c.native, nativeOut);
      if (n.seconds < native.seconds) native = n;
      const o = timed([process.execPath, self, '--run', JSON.stringify(c), oursOut]);
      if (o.seconds < ours.seconds) ours = o;
    }
    const same = spawnSync('cmp', ['-s', oursOut, nativeOut]).status === 0;
    const test = spawnSync('xz', ['-t', oursOut]).status === 0;
    const size = (p: string) => (statSync(p).size / MiB).toFixed(1);
    console.log(
      `| ${c.name}${test ? '' : ' **xz -t FAILED**'} | ${ours.seconds.toFixed(2)} | ${native.seconds.toFixed(2)} | ${(ours.seconds / native.seconds).toFixed(2)} | ` +
        `${ours.rssMiB.toFixed(0)} / ${native.rssMiB.toFixed(0)} | ${size(oursOut)} / ${size(nativeOut)} | ${same ? 'yes (cmp)' : 'NO'} |`,
    );
    rmSync(oursOut, { force: true });
    rmSync(nativeOut, { force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
