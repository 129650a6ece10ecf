/**
 * squashfs benchmark (issue 5): our writer against `mksquashfs -processors 2` in the same run, on a
 * ~50 MB tree of shared libraries copied from /usr/lib/x86_64-linux-gnu (the shape of a real
 * extension), for zstd level 18 (Talos ≥ 1.8) and xz with a block-size dictionary (Talos < 1.8).
 *
 * Ours runs in a fresh node process per measurement (node start-up, WASM loading and worker start
 * included; the in-process time is printed too); peak RSS is that process's (workers included).
 * Best of 3. Output sizes are compared as well (target: within 1 %).
 *
 *   npm run bench -- squashfs
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultBlockCompressor, fileTreeFromDirectory } from '../src/boot/extensions/index.js';
import { SparseFileSink } from '../src/core/sink.js';
import { writeSquashfs, type SquashfsCompression } from '../src/formats/squashfs/index.js';

const LIBS = '/usr/lib/x86_64-linux-gnu';
const TARGET = 50_000_000;
const SDE = 1_700_000_000;
const RUNS = 3;

const CASES: Array<{ name: string; compression: SquashfsCompression; native: string[] }> = [
  { name: 'zstd-18', compression: { algorithm: 'zstd', level: 18 }, native: ['-comp', 'zstd', '-Xcompression-level', '18'] },
  { name: 'xz (dict 100 %)', compression: { algorithm: 'xz', dictSize: 131072 }, native: ['-comp', 'xz', '-Xdict-size', '100%'] },
];

function prepare(dir: string): string {
  const root = join(dir, 'rootfs');
  const dst = join(root, 'usr/lib/x86_64-linux-gnu');
  mkdirSync(dst, { recursive: true });
  let total = 0;
  const names = readdirSync(LIBS).filter((n) => n.includes('.so')).sort();
  for (const n of names) {
    if (total >= TARGET) break;
    const st = statSync(join(LIBS, n), { throwIfNoEntry: false });
    // regular files only, none over 4 MB, so the tree looks like an extension (many libraries)
    if (!st?.isFile() || st.size > 4_000_000) continue;
    copyFileSync(join(LIBS, n), join(dst, n));
    total += st.size;
  }
  execFileSync('sh', ['-c', `find . -exec touch -h -d @${SDE - 100} {} +`], { cwd: root });
  return root;
}

/** Child mode: write one image and report timings. */
async function child(caseIndex: number, src: string, out: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  const c = CASES[caseIndex]!;
  const tree = await fileTreeFromDirectory(src, { includeRoot: true });
  const compressor = await defaultBlockCompressor(c.compression, 131072);
  const sink = await SparseFileSink.create(out);
  await writeSquashfs(tree, sink, { compression: c.compression, compressor, mkfsTime: SDE, allRoot: true });
  await sink.close();
  await compressor.close?.();
  const inProcess = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ inProcess, rssKiB: process.resourceUsage().maxRSS }) + '\n');
}

function timeNative(args: string[]): { s: number; rssMiB: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', 'mksquashfs', ...args], { encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: String(SDE) } });
  if (r.status !== 0) throw new Error(`mksquashfs failed: ${r.stderr}`);
  const [s, kb] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { s: s!, rssMiB: kb! / 1024 };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(Number(process.argv[3]), process.argv[4]!, process.argv[5]!);
  const dir = mkdtempSync(join(tmpdir(), 'imagekit-bench-sqfs-'));
  try {
    const src = prepare(dir);
    const inputMB = Number(execFileSync('du', ['-sb', src], { encoding: 'utf8' }).split('\t')[0]) / 1e6;
    console.log(`input: ${inputMB.toFixed(1)} MB of shared libraries; best of ${RUNS}\n`);
    console.log('| case | ours s (process / in-process) | native s | ratio (process / in-process) | peak RSS MiB (ours / native) | size ours / native | size ratio |');
    console.log('|---|---|---|---|---|---|---|');
    const self = fileURLToPath(import.meta.url);
    for (let i = 0; i < CASES.length; i++) {
      const c = CASES[i]!;
      const ours = join(dir, `ours-${i}.sqsh`);
      const native = join(dir, `native-${i}.sqsh`);
      let best = { s: Infinity, inProcess: Infinity, rssMiB: 0 };
      let failure = '';
      for (let r = 0; r < RUNS && !failure; r++) {
        rmSync(ours, { force: true });
        const t0 = process.hrtime.bigint();
        const run = spawnSync(process.execPath, [self, '--child', String(i), src, ours], { encoding: 'utf8' });
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        if (run.status !== 0) {
          failure = (run.stderr.split('\n').find((l) => l.includes('imagekit') || l.includes('Error')) ?? run.stderr).trim().slice(0, 160);
          break;
        }
        const rep = JSON.parse(run.stdout.trim().split('\n').pop()!) as { inProcess: number; rssKiB: number };
        if (s < best.s) best = { s, inProcess: rep.inProcess, rssMiB: rep.rssKiB / 1024 };
      }
      let nat = { s: Infinity, rssMiB: 0 };
      for (let r = 0; r < RUNS; r++) {
        rmSync(native, { force: true });
        const n = timeNative([src, native, '-all-root', '-noappend', '-no-progress', '-processors', '2', ...c.native]);
        if (n.s < nat.s) nat = n;
      }
      const nativeSize = statSync(native).size;
      if (failure) {
        console.log(`| ${c.name} | not available: ${failure} | ${nat.s.toFixed(2)} | — | — / ${nat.rssMiB.toFixed(0)} | — / ${nativeSize} | — |`);
        continue;
      }
      const oursSize = statSync(ours).size;
      console.log(`| ${c.name} | ${best.s.toFixed(2)} / ${best.inProcess.toFixed(2)} | ${nat.s.toFixed(2)} | ${(best.s / nat.s).toFixed(2)}× / ${(best.inProcess / nat.s).toFixed(2)}× | ${best.rssMiB.toFixed(0)} / ${nat.rssMiB.toFixed(0)} | ${oursSize} / ${nativeSize} | ${(oursSize / nativeSize).toFixed(4)} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
