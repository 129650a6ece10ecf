/**
 * QEMU + OVMF with Secure Boot (Debian `OVMF_CODE_4M.secboot.fd`, SMM on, TCG), with a variable
 * store that persists between boots so sd-boot can enroll keys on one boot and the next boot runs
 * with Secure Boot enforced. The generic harness (test/helpers/qemu.ts) copies the store per boot.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const OVMF_SECBOOT_CODE = '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd';
export const OVMF_EMPTY_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export interface SecbootRun {
  log: string;
  timedOut: boolean;
}

/** A writable copy of the empty variable store (setup mode: no PK). */
export function freshVars(dir: string, name = 'vars.fd'): string {
  const path = join(dir, name);
  copyFileSync(OVMF_EMPTY_VARS, path);
  return path;
}

const clean = (s: string) => s.replace(/\x1b\[[0-9;=?]*[a-zA-Z]/g, '').replace(/\r/g, '');

export async function bootSecure(disk: string, vars: string, logPath: string, opts: { until?: RegExp; timeoutSec: number }): Promise<SecbootRun> {
  const args = [
    '-machine', 'q35,smm=on,accel=tcg', '-global', 'driver=cfi.pflash01,property=secure,value=on',
    '-m', '1024', '-smp', '1', '-nographic', '-no-reboot', '-nodefaults', '-vga', 'none', '-monitor', 'none',
    '-serial', `file:${logPath}`,
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_SECBOOT_CODE}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${vars}`,
    '-drive', `file=${disk},format=raw,if=virtio,snapshot=on`,
  ];
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let timedOut = false;
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const text = existsSync(logPath) ? clean(readFileSync(logPath, 'latin1')) : '';
      const expired = Date.now() - started > opts.timeoutSec * 1000;
      if ((opts.until && opts.until.test(text)) || expired) {
        timedOut = expired;
        child.kill('SIGKILL');
      }
    }, 250);
    child.on('exit', () => {
      clearInterval(timer);
      resolve();
    });
  });
  const log = (existsSync(logPath) ? clean(readFileSync(logPath, 'latin1')) : '') + (stderr ? `\n[qemu stderr] ${stderr}` : '');
  return { log, timedOut };
}
