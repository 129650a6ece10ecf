/**
 * The initramfs with extensions, checked by tools nobody here wrote: GNU cpio and bsdtar list both
 * appended archives (the compressed one after native `zstd -d`), GNU cpio writes the same bytes
 * for the same listing, unsquashfs/rdsquashfs read every .sqsh, and two builds are bit-identical.
 * Uses the real worker-pool compressors (the test command builds dist/ first).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedConfigExtension, fileTreeFromDirectory } from '../../../src/boot/extensions/index.js';
import { buildInitramfs } from '../../../src/boot/initramfs/index.js';
import type { FileTree } from '../../../src/core/file-tree.js';
import { missingTools, runTool, tempDir } from '../../helpers/tools.js';

const SDE = 1_700_000_000;
const skip = missingTools('cpio', 'bsdtar', 'zstd', 'unsquashfs', 'rdsquashfs');
const env = { ...process.env, LC_ALL: 'C', TZ: 'UTC' };

function writeExtension(root: string, name: string, files: Record<string, string | Buffer>): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'rootfs'), { recursive: true });
  writeFileSync(join(dir, 'manifest.yaml'), `version: v1alpha1\nmetadata:\n  name: ${name}\n  version: 1.0.0\n  author: imagekit tests\n  description: A test extension whose description is long enough that go-yaml folds it at column eighty.\n  compatibility:\n    talos:\n      version: ">= v1.0.0"\n`);
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(dir, 'rootfs', rel, '..'), { recursive: true });
    writeFileSync(join(dir, 'rootfs', rel), body);
  }
  return dir;
}

/** Pre-order, sorted listing of a directory (as the imager feeds GNU cpio). */
function listing(root: string): string {
  return execFileSync('sh', ['-c', 'find . -mindepth 1 | sed "s|^\\./||" | LC_ALL=C sort'], { cwd: root, encoding: 'utf8' });
}

describe.skipIf(skip)('initramfs with extensions', () => {
  let dir = '';
  let cleanup = () => {};
  let base = Buffer.alloc(0);
  let trees: FileTree[] = [];
  let image = Buffer.alloc(0);

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir('imagekit-initramfs-'));
    // A base initramfs made by the native tools: it is an input, shipped pre-built upstream.
    const baseRoot = join(dir, 'base');
    mkdirSync(join(baseRoot, 'bin'), { recursive: true });
    writeFileSync(join(baseRoot, 'init'), '#!/bin/sh\n');
    base = execFileSync('sh', ['-c', 'find . | LC_ALL=C sort | cpio -o -H newc --reproducible -R +0:+0 --quiet | zstd -q -19'], { cwd: baseRoot, maxBuffer: 1 << 26 });
    const a = writeExtension(join(dir, 'ext'), 'alpha', {
      'usr/local/share/imagekit/alpha.marker': 'IMAGEKIT-EXT-alpha-OK\n',
      'usr/local/lib/libbig.so': Buffer.from(Array.from({ length: 700_000 }, (_, i) => (i * 7) & 0xff)),
      'usr/lib/firmware/intel-ucode/06-55-04': Buffer.alloc(1024, 0x11),
      'usr/lib/firmware/amd-ucode/microcode_amd_fam17h.bin': Buffer.alloc(512, 0x22),
      'usr/lib/firmware/vendor/blob.bin': Buffer.alloc(4097, 0xa5),
    });
    const b = writeExtension(join(dir, 'ext'), 'beta', { 'usr/local/share/imagekit/beta.marker': 'IMAGEKIT-EXT-beta-OK\n' });
    trees = [await fileTreeFromDirectory(a), await fileTreeFromDirectory(b), embeddedConfigExtension('machine:\n  type: worker\n')];
    const build = async () => {
      const parts: Buffer[] = [];
      for await (const c of buildInitramfs(trees, { talosVersion: 'v1.11.0', repro: { sourceDateEpoch: SDE, seed: 'x' }, base: () => [base], scratchDir: dir })) {
        parts.push(Buffer.from(c));
      }
      return Buffer.concat(parts);
    };
    image = await build();
    const again = await build();
    expect(createHash('sha256').update(again).digest('hex')).toBe(createHash('sha256').update(image).digest('hex'));
    writeFileSync(join(dir, 'initramfs.xz'), image);
  });
  afterAll(() => cleanup());

  it('two builds give the same sha256, and the original initramfs sits unchanged after the early archive', () => {
    const at = image.indexOf(base);
    expect(at).toBeGreaterThan(0);
    expect(at % 512).toBe(0);
    expect(image.subarray(at, at + base.byteLength).equals(base)).toBe(true);
  });

  it('the early archive is an uncompressed cpio of the microcode that GNU cpio and bsdtar list', () => {
    const early = image.subarray(0, image.indexOf(base));
    writeFileSync(join(dir, 'early.cpio'), early);
    const list = runTool('sh', ['-c', `cpio -itv --quiet < ${join(dir, 'early.cpio')}`], { env });
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^-rw-r--r-- +1 root +root +512 .* kernel\/x86\/microcode\/AuthenticAMD\.bin$/m);
    expect(list.stdout).toMatch(/^-rw-r--r-- +1 root +root +1024 .* kernel\/x86\/microcode\/GenuineIntel\.bin$/m);
    const bsd = runTool('bsdtar', ['-tvf', join(dir, 'early.cpio')], { env });
    expect(bsd.stdout.trim().split('\n')).toHaveLength(5);
  });

  it('the appended part decompresses with native zstd to a cpio GNU cpio would write byte for byte', () => {
    const tail = image.subarray(image.indexOf(base) + base.byteLength);
    writeFileSync(join(dir, 'tail.zst'), tail);
    expect(runTool('zstd', ['-t', '-q', join(dir, 'tail.zst')]).status).toBe(0);
    const cpio = execFileSync('zstd', ['-d', '-c', '-q', join(dir, 'tail.zst')], { maxBuffer: 1 << 28 });
    writeFileSync(join(dir, 'tail.cpio'), cpio);
    const list = runTool('sh', ['-c', `cpio -itv --quiet < ${join(dir, 'tail.cpio')}`], { env });
    expect(list.status, list.stderr).toBe(0);
    const names = list.stdout.trim().split('\n').map((l) => l.split(/\s+/).slice(8).join(' '));
    expect(names).toEqual(['0.sqsh', '1.sqsh', '2.sqsh', 'extensions.yaml', 'usr', 'usr/lib', 'usr/lib/firmware',
      'usr/lib/firmware/amd-ucode', 'usr/lib/firmware/intel-ucode', 'usr/lib/firmware/vendor', 'usr/lib/firmware/vendor/blob.bin']);
    expect(runTool('bsdtar', ['-tvf', join(dir, 'tail.cpio')]).stdout.trim().split('\n')).toHaveLength(names.length);

    // Extract with GNU cpio (keeping mtimes), then let GNU cpio archive the same listing.
    const out = join(dir, 'tail-x');
    mkdirSync(out);
    expect(runTool('sh', ['-c', `cpio -idm --quiet < ${join(dir, 'tail.cpio')}`], { cwd: out }).status).toBe(0);
    // every member carries SOURCE_DATE_EPOCH; GNU cpio -m does not restore directory times, so set them
    expect(list.stdout.split('\n').filter(Boolean).every((l) => l.includes('Nov 14  2023'))).toBe(true);
    execFileSync('sh', ['-c', `find . -mindepth 1 -exec touch -h -d @${SDE} {} +`], { cwd: out });
    const gnu = execFileSync('cpio', ['-H', 'newc', '--create', '--reproducible', '--quiet', '-R', '+0:+0'], { cwd: out, input: listing(out), maxBuffer: 1 << 28 });
    expect(gnu.equals(cpio)).toBe(true);

    const config = readFileSync(join(out, 'extensions.yaml'), 'utf8');
    expect(config).toContain('layers:\n    - image: 0.sqsh\n      metadata:\n        name: alpha\n');
    expect(config).toContain('        description: A test extension whose description is long enough that go-yaml\n            folds it at column eighty.\n');
    expect(config).toContain('    - image: 2.sqsh\n      metadata:\n        name: embedded-config\n');
  });

  it('every .sqsh is read by unsquashfs and rdsquashfs with the expected content', () => {
    const out = join(dir, 'tail-x');
    const lls = runTool('unsquashfs', ['-lls', '-UTC', join(out, '0.sqsh')], { env });
    expect(lls.status, lls.stderr).toBe(0);
    expect(lls.stdout).toContain('squashfs-root/usr/local/share/imagekit/alpha.marker');
    expect(lls.stdout).not.toContain('firmware');
    expect(lls.stdout).toMatch(/root\/root +700000 2023-11-14 22:13 squashfs-root\/usr\/local\/lib\/libbig\.so/);
    expect(runTool('unsquashfs', ['-s', join(out, '0.sqsh')]).stdout).toContain('compression-level 18');
    expect(runTool('rdsquashfs', ['-c', '/usr/local/share/imagekit/beta.marker', join(out, '1.sqsh')]).stdout).toBe('IMAGEKIT-EXT-beta-OK\n');
    expect(runTool('rdsquashfs', ['-c', '/usr/local/lib/libbig.so', join(out, '0.sqsh')], { encoding: 'latin1' }).stdout)
      .toBe(Buffer.from(Array.from({ length: 700_000 }, (_, i) => (i * 7) & 0xff)).toString('latin1'));
    const cfg = runTool('rdsquashfs', ['-x', '/usr/local/etc/talos/config.yaml', join(out, '2.sqsh')]);
    expect(cfg.stdout).toContain('security.selinux=system_u:object_r:system_state_t:s0');
    expect(runTool('rdsquashfs', ['-s', '/usr/local/etc/talos/config.yaml', join(out, '2.sqsh')]).stdout).toMatch(/Access: 0400/);
  });
});

describe.skipIf(skip || missingTools('xz'))('initramfs with extensions for Talos < 1.8 (xz)', () => {
  it('appends an xz (CRC32) cpio that xz and cpio read, with xz squashfs images and /lib/firmware', async () => {
    const { dir, cleanup } = tempDir('imagekit-initramfs-xz-');
    try {
      const ext = writeExtension(dir, 'old', {
        'usr/local/share/imagekit/old.marker': 'IMAGEKIT-EXT-old-OK\n',
        'lib/firmware/intel-ucode/06-55-04': Buffer.alloc(64, 1),
        'lib/firmware/vendor.bin': 'fw',
      });
      const base = Buffer.from('original initramfs');
      const parts: Buffer[] = [];
      for await (const c of buildInitramfs([await fileTreeFromDirectory(ext)], { talosVersion: 'v1.7.4', repro: { sourceDateEpoch: SDE, seed: 'x' }, base: () => [base], scratchDir: dir })) {
        parts.push(Buffer.from(c));
      }
      const image = Buffer.concat(parts);
      const tail = image.subarray(image.indexOf(base) + base.byteLength);
      writeFileSync(join(dir, 'tail.xz'), tail);
      expect(runTool('xz', ['-t', join(dir, 'tail.xz')]).status).toBe(0);
      expect(runTool('xz', ['-lvv', join(dir, 'tail.xz')]).stdout).toMatch(/Check:\s+CRC32/);
      const cpio = execFileSync('xz', ['-dc', join(dir, 'tail.xz')], { maxBuffer: 1 << 26 });
      writeFileSync(join(dir, 'tail.cpio'), cpio);
      const list = runTool('sh', ['-c', `cpio -it --quiet < ${join(dir, 'tail.cpio')}`]);
      expect(list.stdout.trim().split('\n')).toEqual(['0.sqsh', 'extensions.yaml', 'lib', 'lib/firmware', 'lib/firmware/intel-ucode', 'lib/firmware/vendor.bin']);
      const out = join(dir, 'x');
      mkdirSync(out);
      expect(runTool('sh', ['-c', `cpio -id --quiet < ${join(dir, 'tail.cpio')}`], { cwd: out }).status).toBe(0);
      const info = runTool('unsquashfs', ['-s', join(out, '0.sqsh')]).stdout;
      expect(info).toContain('Compression xz');
      expect(info).not.toContain('Dictionary size'); // = block size: no options block, as -Xdict-size 100%
      expect(runTool('rdsquashfs', ['-c', '/usr/local/share/imagekit/old.marker', join(out, '0.sqsh')]).stdout).toBe('IMAGEKIT-EXT-old-OK\n');
      expect(readNewcEarly(image.subarray(0, image.indexOf(base)))).toContain('kernel/x86/microcode/GenuineIntel.bin');
    } finally {
      cleanup();
    }
  });
});

function readNewcEarly(bytes: Buffer): string {
  return execFileSync('cpio', ['-it', '--quiet'], { input: bytes, encoding: 'utf8' });
}
