/**
 * Boot harness (shared/e2e/README.md §3): QEMU q35 under TCG with OVMF, serial console to a file,
 * no network, no reboot. Returns the serial log; the guest powers itself off.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './tools.js';

export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export interface BootResult {
  log: string;
  timedOut: boolean;
  exitCode: number | null;
}

export interface BootOptions {
  /** Seconds before the guest is killed (TCG boots take ~8 s; default 90). */
  timeoutSec?: number;
  memoryMiB?: number;
  /** Stop early once this text appears in the serial log. */
  until?: string;
  /** OVMF code/vars images (Secure Boot variants). */
  ovmfCode?: string;
  ovmfVars?: string;
}

async function runQemu(args: string[], opts: BootOptions): Promise<BootResult> {
  const { dir, cleanup } = tempDir('imagekit-qemu-');
  const logPath = join(dir, 'serial.log');
  const full = [
    '-machine', 'q35,accel=tcg', '-m', String(opts.memoryMiB ?? 1024), '-smp', '1',
    '-nographic', '-no-reboot', '-nodefaults', '-vga', 'none', '-monitor', 'none',
    '-serial', `file:${logPath}`, ...args,
  ];
  const child = spawn('qemu-system-x86_64', full, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let timedOut = false;
  const deadline = Date.now() + (opts.timeoutSec ?? 90) * 1000;
  const exitCode = await new Promise<number | null>((resolve) => {
    const timer = setInterval(() => {
      const text = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
      // A panic never reaches `until`: stop at once instead of waiting for the deadline.
      if ((opts.until && text.includes(opts.until)) || text.includes('Kernel panic - not syncing') || Date.now() > deadline) {
        if (Date.now() > deadline) timedOut = true;
        child.kill('SIGKILL');
      }
    }, 250);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve(code);
    });
  });
  const log = (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '') + (stderr ? `\n[qemu stderr] ${stderr}` : '');
  cleanup();
  return { log, timedOut, exitCode };
}

/** Boot a raw UEFI disk image with OVMF (the disk is opened snapshot=on: never modified). */
export async function bootDisk(diskPath: string, opts: BootOptions = {}): Promise<BootResult> {
  const { dir, cleanup } = tempDir('imagekit-ovmf-');
  const vars = join(dir, 'vars.fd');
  copyFileSync(opts.ovmfVars ?? OVMF_VARS, vars);
  try {
    return await runQemu([
      '-drive', `if=pflash,format=raw,readonly=on,file=${opts.ovmfCode ?? OVMF_CODE}`,
      '-drive', `if=pflash,format=raw,file=${vars}`,
      '-drive', `file=${diskPath},format=raw,if=virtio,snapshot=on`,
    ], opts);
  } finally {
    cleanup();
  }
}

/** Boot a kernel + initramfs directly (no firmware payload). */
export async function bootKernel(kernel: string, initrd: string, append: string, opts: BootOptions = {}): Promise<BootResult> {
  return runQemu(['-kernel', kernel, '-initrd', initrd, '-append', append], opts);
}
