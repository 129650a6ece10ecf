/**
 * Smoke boot: a Talos sd-boot disk written by our GPT/FAT/META writers — Debian's systemd-boot as
 * BOOTX64.efi and a UKI made here with objcopy (shared/e2e/README.md §6 build-uki.sh) from the Debian
 * kernel and a busybox initramfs made here with cpio — boots under OVMF (QEMU/TCG). The guest proves
 * that systemd-boot ran, discovered our `EFI/Linux/Talos-<version>.efi` as a Type #2 entry from the
 * ESP partition we wrote (by its GPT GUID), and that the UKI's command line and initramfs reached
 * the kernel. One boot.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeDiskImage } from '../../../src/boot/disk/index.js';
import { SparseFileSink } from '../../../src/core/sink.js';
import { quirksFor } from '../../../src/profile/quirks.js';
import { e2eAssets, missingTools, runTool, tempDir } from '../../helpers/tools.js';

const SDBOOT = '/usr/lib/systemd/boot/efi/systemd-bootx64.efi';
const STUB = '/usr/lib/systemd/boot/efi/linuxx64.efi.stub';
const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
const CMDLINE = 'console=ttyS0 panic=-1 imagekit.disk=smoke-4e1b';

const assets = e2eAssets();
const skip = missingTools('qemu-system-x86_64', 'objcopy', 'objdump', 'cpio', 'busybox') || !assets;
const t = tempDir('imagekit-disk-boot-');
afterAll(() => t.cleanup());

const INIT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "IMAGEKIT-DISK: cmdline=$(cat /proc/cmdline)"
insmod /efivarfs.ko 2>/dev/null
mount -t efivarfs efivarfs /sys/firmware/efi/efivars
for v in LoaderInfo LoaderEntrySelected LoaderDevicePartUUID StubInfo; do
  f=$(ls /sys/firmware/efi/efivars/$v-* 2>/dev/null | head -1)
  [ -n "$f" ] && echo "IMAGEKIT-DISK: $v=$(tail -c +5 "$f" | tr -d '\\000')"
done
echo "IMAGEKIT-DISK: done"
poweroff -f
`;

function must(cmd: string, args: string[], opts: Parameters<typeof runTool>[2] = {}) {
  const r = runTool(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** busybox initramfs (uncompressed newc) with an /init that reports what booted it. */
function makeInitramfs(): string {
  const root = join(t.dir, 'initramfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  const efivarfs = spawnSync('sh', ['-c', `find ${assets!.modulesDir} -name efivarfs.ko | head -1`], { encoding: 'utf8' }).stdout.trim();
  if (efivarfs) copyFileSync(efivarfs, join(root, 'efivarfs.ko'));
  writeFileSync(join(root, 'init'), INIT);
  chmodSync(join(root, 'init'), 0o755);
  const list = must('sh', ['-c', 'find . | LC_ALL=C sort'], { cwd: root });
  const out = join(t.dir, 'initramfs.cpio');
  const r = spawnSync('cpio', ['-o', '-H', 'newc', '--reproducible', '-R', '0:0', '--quiet'], { cwd: root, input: list, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`cpio: ${r.stderr}`);
  writeFileSync(out, r.stdout);
  return out;
}

/** UKI = stub + .osrel .cmdline .linux .initrd placed after the stub's last section, 4 KiB aligned (build-uki.sh). */
function makeUki(initrd: string): string {
  const osrel = join(t.dir, 'osrel');
  const cmdline = join(t.dir, 'cmdline');
  writeFileSync(osrel, 'NAME="Talos"\nID=talos\nVERSION_ID=v1.14.0\nPRETTY_NAME="Talos (v1.14.0)"\n');
  writeFileSync(cmdline, CMDLINE);
  const align = (n: number) => Math.ceil(n / 0x1000) * 0x1000;
  let end = 0;
  for (const line of must('objdump', ['-h', STUB]).split('\n')) {
    const m = /^\s*\d+\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(line);
    if (m) end = Math.max(end, parseInt(m[2]!, 16) + parseInt(m[1]!, 16));
  }
  let vma = align(end);
  const args: string[] = [];
  for (const [name, file] of [['.osrel', osrel], ['.cmdline', cmdline], ['.linux', assets!.vmlinuz], ['.initrd', initrd]] as const) {
    args.push('--add-section', `${name}=${file}`, '--change-section-vma', `${name}=0x${vma.toString(16)}`);
    vma = align(vma + readFileSync(file).length);
  }
  const out = join(t.dir, 'uki.efi');
  must('objcopy', [...args, STUB, out]);
  return out;
}

/**
 * QEMU with the serial console on a pipe: when systemd-boot shows its menu (Talos's loader.conf says
 * `timeout 10`), press Enter to boot the default entry instead of waiting; stop once the guest is done.
 */
function boot(disk: string): Promise<string> {
  const vars = join(t.dir, 'vars.fd');
  copyFileSync(OVMF_VARS, vars);
  const q = spawn('qemu-system-x86_64', [
    '-machine', 'q35,accel=tcg', '-m', '1024', '-smp', '1', '-nographic', '-no-reboot', '-nodefaults', '-vga', 'none',
    '-monitor', 'none', '-serial', 'stdio',
    '-drive', `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`,
    '-drive', `if=pflash,format=raw,file=${vars}`,
    '-drive', `file=${disk},format=raw,if=virtio,snapshot=on`,
  ], { stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  let pressed = false;
  return new Promise((resolve) => {
    const timer = setTimeout(() => q.kill('SIGKILL'), 170_000); // TCG on a busy 2-core runner can be slow
    q.stdout.on('data', (d: Buffer) => {
      log += d.toString('latin1');
      if (!pressed && /Boot in \d+ s/.test(log)) {
        pressed = true;
        q.stdin.write('\r');
      }
      if (log.includes('IMAGEKIT-DISK: done')) setTimeout(() => q.kill('SIGKILL'), 2000);
    });
    q.stderr.on('data', (d: Buffer) => (log += `[qemu] ${d.toString()}`));
    q.on('exit', () => {
      clearTimeout(timer);
      resolve(log);
    });
  });
}

describe.skipIf(skip)('sd-boot disk boots under OVMF', () => {
  it('systemd-boot picks Talos-v1.14.0.efi from our ESP and the UKI initramfs runs', async () => {
    const t0 = performance.now();
    const uki = readFileSync(makeUki(makeInitramfs()));
    const disk = join(t.dir, 'metal-amd64.raw');
    const sink = await SparseFileSink.create(disk);
    await writeDiskImage(sink, {
      arch: 'amd64',
      version: 'v1.14.0',
      bootloader: 'sd-boot',
      diskSize: 2355101696,
      partitionSizes: quirksFor('v1.14.0').partitionSizes,
      uki,
      systemdBoot: readFileSync(SDBOOT),
      repro: { sourceDateEpoch: 1700000000, seed: 'smoke' },
    });
    await sink.close();
    const t1 = performance.now();
    const log = (await boot(disk)).replace(/\x1b\[[0-9;=?]*[a-zA-Z]/g, '');
    expect(log).toContain(`IMAGEKIT-DISK: cmdline=${CMDLINE}`);
    expect(log).toMatch(/IMAGEKIT-DISK: LoaderInfo=systemd-boot/);
    // systemd-boot lower-cases Type #2 entry IDs (the file name)
    expect(log).toContain('IMAGEKIT-DISK: LoaderEntrySelected=talos-v1.14.0.efi');
    expect(log).toContain('Talos (v1.14.0)'); // the menu entry, from the UKI's .osrel
    expect(log.toLowerCase()).toContain('imagekit-disk: loaderdevicepartuuid=bca5174b-0118-8a6a-af0b-2c6e1585acae');
    expect(log).toContain('IMAGEKIT-DISK: done');
    console.info(`smoke boot: inputs+disk ${((t1 - t0) / 1000).toFixed(1)} s, boot ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  }, 200_000);
});
