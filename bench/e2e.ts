/**
 * End-to-end benchmark (issue 8): the fixture world (test/fixtures/world.ts: Debian kernel, busybox
 * initramfs, Debian systemd-boot/stub, two extensions — one with firmware and microcode), one run:
 *
 * - ours: `node bin/imagekit.js build metal … --out-format .xz` with both extensions, from the world's
 *   OCI layouts with a warm cache (a first run fills it), in a fresh process;
 * - native: a shell script doing what the imager does with its tools (talos-imager.md §4.5, §4.6,
 *   §6, §9, §12.1): firmware moved out and microcode concatenated, `mksquashfs -comp zstd
 *   -Xcompression-level 18 -all-root`, `cpio -H newc --reproducible | zstd -T0 -18`, an `objcopy`
 *   UKI, `truncate` + `sgdisk`, `mkfs.vfat -F 32 --invariant` + `mcopy`, `dd conv=sparse`,
 *   `xz -0 -T0` (bench/e2e-native.sh).
 *
 * Then peak RSS of ours for the same build with 2.2 GiB (default), 4 GiB and 8 GiB disks (xz
 * output): the disk streams through the compressor, so memory does not grow with its size.
 * Each measurement is the best of 3 (wall time) with the peak RSS of that run (/usr/bin/time).
 *
 *   npm run bench -- e2e
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildFixtureWorld } from '../test/fixtures/world.js';
import { writeFixtureLayouts } from '../test/fixtures/world-images.js';

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'bin/imagekit.js');
const MiB = 1 << 20;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Measured {
  seconds: number;
  rssMiB: number;
  bytes?: number;
}

/** Run a command under /usr/bin/time; wall seconds and peak RSS. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Measured {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.slice(-2000)}`);
  const last = r.stderr.trim().split('\n').at(-1)!.split(' ');
  return { seconds: Number(last[0]), rssMiB: Number(last[1]) / 1024 };
}

function best<T extends Measured>(runs: number, f: () => T): T {
  let b: T | undefined;
  for (let i = 0; i < runs; i++) {
    const m = f();
    if (!b || m.seconds < b.seconds) b = m;
  }
  return b!;
}

/** The native-tool pipeline (bench/e2e-native.sh). */
const nativeScriptPath = join(root, 'bench/e2e-native.sh');

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'imagekit-bench-e2e-'));
  try {
    const world = buildFixtureWorld(process.env.IMAGEKIT_FIXTURE_CACHE ?? join(homedir(), '.cache/imagekit-fixtures'));
    const layouts = await writeFixtureLayouts(world);
    const version = layouts.names.version;
    const cache = join(work, 'cache');
    const profilePath = (diskMiB: number | null) => {
      const path = join(work, `profile-${diskMiB ?? 'default'}.yaml`);
      writeFileSync(path, [
        'baseProfileName: metal', 'arch: amd64', `version: ${version}`,
        'customization: {extraKernelArgs: [console=ttyS0]}',
        'input:', '  systemExtensions:', ...layouts.extensions.map((e) => `    - ociPath: ${JSON.stringify(e.layout)}`),
        // FillDefaults adds BOOT size − 1000 MiB (= 1000 MiB for ≥ 1.11) to the disk size.
        `output: {kind: image, outFormat: .xz, imageOptions: {bootloader: sd-boot${diskMiB ? `, diskSize: ${(diskMiB - 1000) * MiB}` : ''}}}`, '',
      ].join('\n'));
      return path;
    };
    const ours = (diskMiB: number | null) => {
      const out = join(work, `ours-${diskMiB ?? 'default'}`);
      rmSync(out, { recursive: true, force: true });
      const m = timed(process.execPath, [bin, 'build', profilePath(diskMiB), '--imager-image', layouts.imager, '--cache-dir', cache, '--offline', '--output', out, '--quiet']);
      const file = join(out, readdirSync(out)[0]!);
      return { ...m, bytes: statSync(file).size };
    };
    ours(null); // warm the cache (layouts unpacked into it once)

    const script = nativeScriptPath;
    const cmdline = 'talos.platform=metal console=ttyS0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1';
    const nativeOut = join(work, 'native.raw.xz');
    const native = () => {
      const m = timed('bash', [script, join(work, 'native'), world.dir, nativeOut, cmdline, version, '2246']);
      return { ...m, bytes: statSync(nativeOut).size };
    };

    const o = best(RUNS, () => ours(null));
    const n = best(RUNS, native);
    const rows = [
      `| case | ours s | native s | ratio | peak RSS MiB (ours / native) | output MB (ours / native) |`,
      `|---|---|---|---|---|---|`,
      `| metal-amd64.raw.xz, 2 extensions, 2246 MiB disk | ${o.seconds.toFixed(2)} | ${n.seconds.toFixed(2)} | ${(o.seconds / n.seconds).toFixed(2)} | ${o.rssMiB.toFixed(0)} / ${n.rssMiB.toFixed(0)} | ${(o.bytes / 1e6).toFixed(2)} / ${(n.bytes / 1e6).toFixed(2)} |`,
    ];
    console.log(rows.join('\n'));

    console.log('\n| disk size | ours s | peak RSS MiB | output MB |\n|---|---|---|---|');
    console.log(`| 2246 MiB (default) | ${o.seconds.toFixed(2)} | ${o.rssMiB.toFixed(0)} | ${(o.bytes / 1e6).toFixed(2)} |`);
    for (const size of [4096, 8192]) {
      const m = best(Math.min(RUNS, 2), () => ours(size));
      console.log(`| ${size} MiB | ${m.seconds.toFixed(2)} | ${m.rssMiB.toFixed(0)} | ${(m.bytes / 1e6).toFixed(2)} |`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

mkdirSync(tmpdir(), { recursive: true });
await main();
