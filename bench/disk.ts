/**
 * Disk benchmark (issue 6): each case against the native tools in the same run (best of 3).
 *
 * - `esp-100MiB-60MB`: a 100 MiB FAT32 ESP holding 60 MB of files (2 × 25 MB "UKIs", a 10 MB
 *   BOOTX64.EFI, loader.conf) — ours (`writeFat`) vs `mkfs.vfat -F 32 -C` + `mcopy -s`;
 * - `sd-boot-disk-2246MiB`: the default-size Talos ≥ 1.11 sd-boot raw disk (EFI 2101 MiB + META,
 *   a 60 MB UKI and systemd-boot) — ours (`writeDiskImage`) vs
 *   `truncate + sgdisk + mkfs.vfat + mmd/mcopy + dd` (as shared/e2e build-disk.sh).
 *
 * Ours runs in a fresh node process per measurement (its time includes node start-up; its peak RSS
 * is its own). Inputs are incompressible bytes, read from files.
 *
 *   npm run bench -- disk
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDiskImage } from '../src/boot/disk/index.js';
import type { FileTree } from '../src/core/file-tree.js';
import { SparseFileSink } from '../src/core/sink.js';
import { writeFat } from '../src/formats/fat/index.js';

const MiB = 1024 * 1024;
const SDBOOT = '/usr/lib/systemd/boot/efi/systemd-bootx64.efi';
const ESP_FILES = ['EFI/Linux/Talos-v1.14.0.efi', 'EFI/Linux/Talos-v1.13.0.efi', 'EFI/BOOT/BOOTX64.EFI', 'loader/loader.conf'];
const repro = { sourceDateEpoch: 1700000000, seed: 'bench' };

function noise(size: number, label: string): Buffer {
  const out = Buffer.alloc(size);
  let block = Buffer.from(label);
  for (let i = 0; i < size; i += 32) {
    block = createHash('sha256').update(block).digest();
    block.copy(out, i);
  }
  return out;
}

function prepare(dir: string): void {
  const src = join(dir, 'src');
  for (const d of ['EFI/Linux', 'EFI/BOOT', 'loader']) mkdirSync(join(src, d), { recursive: true });
  writeFileSync(join(src, ESP_FILES[0]!), noise(25_000_000, 'a'));
  writeFileSync(join(src, ESP_FILES[1]!), noise(25_000_000, 'b'));
  writeFileSync(join(src, ESP_FILES[2]!), noise(10_000_000, 'c'));
  writeFileSync(join(src, ESP_FILES[3]!), '# systemd-boot configuration\n\ntimeout 10\n');
  writeFileSync(join(dir, 'uki.efi'), noise(60_000_000, 'uki'));
  writeFileSync(join(dir, 'loader.conf'), '# systemd-boot configuration\n\ntimeout 10\n');
}

const fileSource = (path: string) => ({ size: statSync(path).size, open: () => createReadStream(path, { highWaterMark: MiB }) });

async function oursCase(name: string, dir: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  if (name === 'esp') {
    const out = join(dir, 'ours-esp.img');
    rmSync(out, { force: true });
    const tree: FileTree = ESP_FILES.map((p) => {
      const s = fileSource(join(dir, 'src', p));
      return { path: p, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: s.size, open: s.open };
    });
    const sink = await SparseFileSink.create(out);
    await writeFat(sink, 0, tree, { size: 100 * MiB, fatType: 32, label: 'EFI', volumeId: 0x1234abcd, repro });
    await sink.close();
  } else if (name === 'disk') {
    const out = join(dir, 'ours-disk.raw');
    rmSync(out, { force: true });
    const sink = await SparseFileSink.create(out);
    await writeDiskImage(sink, {
      arch: 'amd64',
      version: 'v1.14.0',
      bootloader: 'sd-boot',
      diskSize: 2246 * MiB,
      partitionSizes: { ukiEFI: 2101 * MiB, meta: MiB, state: 100 * MiB },
      uki: { size: statSync(join(dir, 'uki.efi')).size, open: () => createReadStream(join(dir, 'uki.efi'), { highWaterMark: MiB }) },
      systemdBoot: { size: statSync(sdboot(dir)).size, open: () => createReadStream(sdboot(dir), { highWaterMark: MiB }) },
      repro,
    });
    await sink.close();
  } else {
    throw new Error(`unknown case ${name}`);
  }
  const inProcess = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, inProcess }));
}

function sdboot(dir: string): string {
  if (existsSync(SDBOOT)) return SDBOOT;
  const p = join(dir, 'sdboot.efi');
  if (!existsSync(p)) writeFileSync(p, noise(140891, 'sdboot'));
  return p;
}

interface Run {
  seconds: number;
  rssMiB: number;
  inProcess?: number;
}

function ours(name: string, dir: string): Run {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--case', name, dir], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`ours ${name} failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout);
  return { seconds, rssMiB: j.maxRssKiB / 1024, inProcess: j.inProcess };
}

function native(script: string, dir: string): Run {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', 'sh', '-ec', script], { cwd: dir, encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`native failed: ${r.stderr}`);
  return { seconds, rssMiB: Number(r.stderr.trim().split('\n').pop()) / 1024 };
}

function best(f: () => Run): Run {
  const runs = [f(), f(), f()];
  const fastest = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return { ...fastest, rssMiB: Math.max(...runs.map((r) => r.rssMiB)) };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--case') return oursCase(process.argv[3]!, process.argv[4]!);
  const dir = mkdtempSync(join(tmpdir(), 'imagekit-bench-disk-'));
  try {
    prepare(dir);
    const sd = sdboot(dir);
    const nativeEsp = 'rm -f esp.img; mkfs.vfat -F 32 -n EFI --invariant -C esp.img 102400 >/dev/null; mcopy -s -i esp.img src/* ::/';
    const nativeDisk = [
      'rm -f disk.raw esp.img',
      'truncate -s 2246M disk.raw',
      'sgdisk -n 1:2048:+2101M -t 1:EF00 -c 1:EFI -n 2:0:+1M -t 2:8300 -c 2:META disk.raw >/dev/null',
      `mkfs.vfat -F 32 -n EFI --invariant -C esp.img ${2101 * 1024} >/dev/null`,
      'mmd -i esp.img ::/EFI ::/EFI/boot ::/EFI/Linux ::/loader',
      `mcopy -i esp.img ${sd} ::/EFI/boot/BOOTX64.efi`,
      'mcopy -i esp.img uki.efi ::/EFI/Linux/Talos-v1.14.0.efi',
      'mcopy -i esp.img loader.conf ::/loader/loader.conf',
      'dd if=esp.img of=disk.raw bs=1M seek=1 conv=notrunc,sparse status=none',
    ].join('; ');
    const rows: [string, Run, Run][] = [
      ['ESP 100 MiB FAT32 + 60 MB (vs mkfs.vfat + mcopy)', best(() => ours('esp', dir)), best(() => native(nativeEsp, dir))],
      ['sd-boot raw disk 2246 MiB, 60 MB UKI (vs truncate + sgdisk + mkfs.vfat + mcopy + dd)', best(() => ours('disk', dir)), best(() => native(nativeDisk, dir))],
    ];
    console.log('| case | ours s (process / in-process) | native s | ratio (process / in-process) | peak RSS MiB (ours / native) |');
    console.log('|---|---|---|---|---|');
    for (const [name, o, n] of rows) {
      const inp = o.inProcess!;
      console.log(
        `| ${name} | ${o.seconds.toFixed(3)} / ${inp.toFixed(3)} | ${n.seconds.toFixed(3)} | ${(o.seconds / n.seconds).toFixed(2)}× / ${(inp / n.seconds).toFixed(2)}× | ${o.rssMiB.toFixed(0)} / ${n.rssMiB.toFixed(0)} |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
