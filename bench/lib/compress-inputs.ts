/**
 * Inputs and timing shared by bench/compress.ts and bench/xz.ts: a 200 MiB tar of system files, a
 * ~90 MiB initramfs-like cpio (zstd squashfs of shared libraries inside), and a sparse raw image
 * whose data regions come from the tar. Made once per bench dir with native tools, then reused.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MiB = 1 << 20;

/** A sparse image: its size and data regions as [offset, length, offset into the 200 MiB tar]. */
export interface SparseLayout {
  size: number;
  regions: Array<[number, number, number]>;
}

export function sh(cmd: string): void {
  const r = spawnSync('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`failed: ${cmd}`);
}

export function prepareCompressInputs(dir: string, layout: SparseLayout): { mix: string; initrd: string; sparse: string } {
  mkdirSync(dir, { recursive: true });
  const mix = join(dir, 'mix200.bin');
  if (!existsSync(mix)) {
    sh(`tar --sort=name -cf - -C / usr/lib/python3 usr/lib/python3.11 usr/lib/x86_64-linux-gnu usr/share 2>/dev/null | head -c ${200 * MiB} > "${mix}.tmp"; true`);
    if (statSync(`${mix}.tmp`).size !== 200 * MiB) throw new Error('could not make a 200 MiB tar sample');
    renameSync(`${mix}.tmp`, mix);
  }
  const initrd = join(dir, 'initrd90.cpio');
  if (!existsSync(initrd)) {
    const w = join(dir, 'initrd-work');
    rmSync(w, { recursive: true, force: true });
    mkdirSync(join(w, 'src'), { recursive: true });
    mkdirSync(join(w, 'root/extensions'), { recursive: true });
    // ~280 MiB of shared libraries (name order) → a zstd squashfs of roughly 90 MiB.
    const libDir = '/usr/lib/x86_64-linux-gnu';
    const picked: string[] = [];
    let total = 0;
    for (const f of readdirSync(libDir).sort()) {
      const st = lstatSync(join(libDir, f), { throwIfNoEntry: false });
      if (!st?.isFile() || !f.includes('.so') || st.size < 100_000 || total + st.size > 280 * MiB) continue;
      picked.push(f);
      total += st.size;
    }
    writeFileSync(join(w, 'list'), picked.join('\n') + '\n');
    sh(`cd ${libDir} && cpio -pdm --quiet "${w}/src" < "${w}/list"`);
    sh(`mksquashfs "${w}/src" "${w}/root/extensions/libs.sqsh" -comp zstd -Xcompression-level 18 -all-root -noappend -quiet -no-progress`);
    sh(`cp -r /usr/share/common-licenses "${w}/root/licenses" && head -c ${4 * MiB} "${mix}" > "${w}/root/extensions.yaml"`);
    sh(`cd "${w}/root" && find . | LC_ALL=C sort | cpio -o -H newc -R +0:+0 --reproducible --quiet > "${initrd}.tmp"`);
    renameSync(`${initrd}.tmp`, initrd);
    rmSync(w, { recursive: true, force: true });
  }
  const sparse = join(dir, `sparse${layout.size / MiB}.raw`);
  if (!existsSync(sparse)) {
    sh(`truncate -s ${layout.size} "${sparse}.tmp"`);
    for (const [off, len, src] of layout.regions) {
      sh(`dd if="${mix}" of="${sparse}.tmp" bs=1M skip=${src / MiB} seek=${off / MiB} count=${len / MiB} conv=notrunc,sparse status=none`);
    }
    renameSync(`${sparse}.tmp`, sparse);
  }
  return { mix, initrd, sparse };
}

export interface Measured {
  seconds: number;
  /** user + system CPU seconds (less sensitive than wall time to other jobs on the machine). */
  cpu: number;
  rssMiB: number;
}

export function timed(argv: string[], stdoutTo?: string): Measured {
  const timeFile = join(tmpdir(), `imagekit-bench-time-${process.pid}`);
  const cmd = ['/usr/bin/time', '-f', '%e %M %U %S', '-o', timeFile, ...argv];
  const quoted = cmd.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('sh', ['-c', stdoutTo ? `${quoted} > '${stdoutTo}'` : quoted], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`failed: ${argv.join(' ')}`);
  const [e, m, u, sys] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number);
  rmSync(timeFile, { force: true });
  return { seconds: e!, cpu: u! + sys!, rssMiB: m! / 1024 };
}
