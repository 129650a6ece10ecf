/**
 * The Linux kernel is the final reader: the Debian kernel boots our initramfs (fixture world base +
 * extensions appended by imagekit), unpacks the early microcode archive, the original archive and
 * the zstd one, and the fixture /init mounts every squashfs layer listed in extensions.yaml and
 * reads the markers (one of them through a directory large enough to carry a directory index).
 */
import { createReadStream, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddedConfigExtension, fileTreeFromDirectory } from '../../../src/boot/extensions/index.js';
import { buildInitramfs } from '../../../src/boot/initramfs/index.js';
import { dirEntry, fileFromBytes, type FileTree } from '../../../src/core/file-tree.js';
import { buildFixtureWorld } from '../../fixtures/world.js';
import { bootKernel } from '../../helpers/qemu.js';
import { e2eAssets, missingTools, tempDir } from '../../helpers/tools.js';

const skip = missingTools('qemu-system-x86_64', 'cpio', 'zstd', 'xz', 'busybox') || !e2eAssets();

function bigDirExtension(): FileTree {
  const files = Array.from({ length: 800 }, (_, i) => fileFromBytes(`rootfs/usr/local/share/imagekit/pad-${String(i).padStart(4, '0')}-${'p'.repeat(24)}`, String(i)));
  return [
    fileFromBytes('manifest.yaml', 'version: v1alpha1\nmetadata:\n  name: bigdir\n  version: 1.0.0\n  author: t\n  description: big directory\n  compatibility:\n    talos:\n      version: ">= 1.0.0"\n'),
    dirEntry('rootfs'),
    ...files,
    fileFromBytes('rootfs/usr/local/share/imagekit/zzz-bigdir.marker', 'IMAGEKIT-EXT-bigdir-OK\n'),
  ];
}

describe.skipIf(skip)('boot with extensions (QEMU, Debian kernel)', () => {
  it('mounts every layer, sees the firmware and the early microcode', async () => {
    const world = buildFixtureWorld(process.env.IMAGEKIT_FIXTURE_CACHE ?? join(homedir(), '.cache/imagekit-fixtures'));
    const { dir, cleanup } = tempDir('imagekit-boot-ext-');
    try {
      const trees = [
        ...(await Promise.all(world.extensions.map((e) => fileTreeFromDirectory(e.dir)))),
        bigDirExtension(),
        embeddedConfigExtension('machine:\n  type: worker\n'),
      ];
      const parts: Buffer[] = [];
      for await (const c of buildInitramfs(trees, {
        talosVersion: 'v1.11.0', repro: { sourceDateEpoch: 0, seed: 'boot' }, scratchDir: dir,
        base: () => createReadStream(world.initramfs),
      })) parts.push(Buffer.from(c));
      const initrd = join(dir, 'initramfs.xz');
      writeFileSync(initrd, Buffer.concat(parts));
      const r = await bootKernel(world.vmlinuz, initrd, 'console=ttyS0 imagekit.test=ext', { until: 'IMAGEKIT-INIT: done', timeoutSec: 120 });
      expect(r.log).toContain('IMAGEKIT-INIT: done');
      for (let i = 0; i < 4; i++) expect(r.log).toContain(`IMAGEKIT-LAYER: ${i} ${i}.sqsh mounted`);
      expect(r.log).toContain('IMAGEKIT-EXTENSIONS: 4');
      for (const e of world.extensions) expect(r.log).toContain(`IMAGEKIT-MARKER: ${e.marker}`);
      expect(r.log).toContain('IMAGEKIT-MARKER: IMAGEKIT-EXT-bigdir-OK');
      expect(r.log).toContain('IMAGEKIT-FIRMWARE: /usr/lib/firmware/imagekit/fixture-fw.bin');
      expect(r.log).toContain('IMAGEKIT-UCODE: /kernel/x86/microcode/GenuineIntel.bin 1024');
      expect(r.log).toContain('IMAGEKIT-UCODE: /kernel/x86/microcode/AuthenticAMD.bin 512');
      expect(r.log).not.toMatch(/SQUASHFS error|Initramfs unpacking failed/);
    } finally {
      cleanup();
    }
  });

  it('Talos < 1.8 layout: xz (CRC32) appended archive and xz squashfs layers mount', async () => {
    const world = buildFixtureWorld(process.env.IMAGEKIT_FIXTURE_CACHE ?? join(homedir(), '.cache/imagekit-fixtures'));
    const { dir, cleanup } = tempDir('imagekit-boot-ext-xz-');
    try {
      const trees = [...(await Promise.all(world.extensions.map((e) => fileTreeFromDirectory(e.dir)))), bigDirExtension()];
      const parts: Buffer[] = [];
      for await (const c of buildInitramfs(trees, {
        talosVersion: 'v1.7.6', repro: { sourceDateEpoch: 0, seed: 'boot' }, scratchDir: dir,
        base: () => createReadStream(world.initramfsXz),
      })) parts.push(Buffer.from(c));
      const initrd = join(dir, 'initramfs.xz');
      writeFileSync(initrd, Buffer.concat(parts));
      const r = await bootKernel(world.vmlinuz, initrd, 'console=ttyS0', { until: 'IMAGEKIT-INIT: done', timeoutSec: 120 });
      expect(r.log).toContain('IMAGEKIT-INIT: done');
      for (let i = 0; i < 3; i++) expect(r.log).toContain(`IMAGEKIT-LAYER: ${i} ${i}.sqsh mounted`);
      for (const e of world.extensions) expect(r.log).toContain(`IMAGEKIT-MARKER: ${e.marker}`);
      expect(r.log).toContain('IMAGEKIT-MARKER: IMAGEKIT-EXT-bigdir-OK');
      expect(r.log).not.toMatch(/SQUASHFS error|Initramfs unpacking failed|xz decompression failed/i);
    } finally {
      cleanup();
    }
  });
});
