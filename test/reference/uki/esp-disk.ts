/**
 * A small GPT disk with one FAT ESP, made with the Debian tools (sgdisk, mkfs.vfat, mmd, mcopy), to
 * boot our UKI / signed chain in QEMU+OVMF. Our own FAT/GPT writers are not involved on purpose.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTool } from '../../helpers/tools.js';

export const ESP_DISK_TOOLS = ['sgdisk', 'mkfs.vfat', 'mmd', 'mcopy', 'dd', 'truncate'];

/** `files` maps an ESP path (e.g. `EFI/BOOT/BOOTX64.EFI`) to its content. Returns the disk path. */
export function makeEspDisk(dir: string, name: string, files: Record<string, Uint8Array | string>): string {
  const disk = join(dir, `${name}.raw`);
  const esp = join(dir, `${name}.esp`);
  const must = (cmd: string, args: string[], env?: NodeJS.ProcessEnv) => {
    const r = runTool(cmd, args, env ? { env: { ...process.env, ...env } } : {});
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  };
  must('truncate', ['-s', '64M', disk]);
  must('sgdisk', ['-n', '1:2048:0', '-t', '1:ef00', '-c', '1:EFI', disk]);
  const sectors = 64 * 2048 - 2048 - 34;
  must('mkfs.vfat', ['-C', '-n', 'EFI', esp, String(Math.floor(sectors / 2))]);
  const mtools = { MTOOLS_SKIP_CHECK: '1' };
  const dirs = new Set<string>();
  for (const path of Object.keys(files)) {
    const parts = path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const d of [...dirs].sort()) must('mmd', ['-i', esp, `::/${d}`], mtools);
  Object.entries(files).forEach(([path, content], i) => {
    const tmp = join(dir, `${name}.file${i}`);
    writeFileSync(tmp, content);
    must('mcopy', ['-i', esp, tmp, `::/${path}`], mtools);
  });
  must('dd', [`if=${esp}`, `of=${disk}`, 'bs=1M', 'seek=1', 'conv=notrunc', 'status=none']);
  return disk;
}
