import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildExtensionsPayload, embeddedConfigExtension, schematicExtension, type ExtensionsOptions } from '../../../src/boot/extensions/index.js';
import { appendExtensions } from '../../../src/boot/initramfs/index.js';
import { createZstdEncoder } from '../../../src/compress/index.js';
import { dirEntry, fileFromBytes, readEntry, type FileEntry, type FileTree } from '../../../src/core/file-tree.js';
import { readNewcAll } from '../../../src/formats/cpio/index.js';
import { createInProcessCompressor, SquashfsReader } from '../../../src/formats/squashfs/index.js';
import { tempDir } from '../../helpers/tools.js';

const SDE = 1_234_567;

function ext(name: string, files: FileEntry[], range = '>= v1.0.0'): FileTree {
  return [
    fileFromBytes('manifest.yaml', `version: v1alpha1\nmetadata:\n  name: ${name}\n  version: 1.0.0\n  author: t\n  description: ${name} ext\n  compatibility:\n    talos:\n      version: "${range}"\n`),
    dirEntry('rootfs', { mode: 0o755 }),
    ...files.map((f) => ({ ...f, path: `rootfs/${f.path}` })),
  ];
}

const options = (scratchDir: string, talosVersion = 'v1.11.0'): ExtensionsOptions => ({
  talosVersion,
  repro: { sourceDateEpoch: SDE, seed: 't' },
  scratchDir,
  blockCompressor: (c, bs) => createInProcessCompressor(c, bs),
});

async function squashfsOf(entry: FileEntry) {
  const r = await SquashfsReader.open(await readEntry(entry));
  const out: Record<string, { mode: number; kind: string; mtime: number; data?: string; xattrs?: Record<string, string> }> = {};
  for await (const { path, inode } of r.walk()) {
    const x = await r.xattrs(inode);
    out[path] = {
      kind: inode.kind, mode: inode.permissions, mtime: inode.mtime,
      ...(inode.kind === 'file' ? { data: (await r.readFile(inode)).toString() } : {}),
      ...(Object.keys(x).length ? { xattrs: Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v.toString()])) } : {}),
    };
  }
  return { reader: r, out };
}

describe('extension payload', () => {
  it('orders by the string order of input indices and writes extensions.yaml in that order', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const list = Array.from({ length: 12 }, (_, i) => ext(`e${i}`, [fileFromBytes(`usr/local/e${i}`, String(i))]));
      const p = (await buildExtensionsPayload(list, options(dir)))!;
      expect(p.layers.map((l) => l.image)).toEqual(['0.sqsh', '1.sqsh', '10.sqsh', '11.sqsh', '2.sqsh', '3.sqsh', '4.sqsh', '5.sqsh', '6.sqsh', '7.sqsh', '8.sqsh', '9.sqsh']);
      expect(p.layers.map((l) => l.metadata.name).slice(0, 4)).toEqual(['e0', 'e1', 'e10', 'e11']);
      expect(p.compressed.map((e) => e.path)).toEqual([...p.layers.map((l) => l.image), 'extensions.yaml']);
      expect(p.early).toEqual([]);
      expect(p.compression).toBe('zstd');
      expect(p.config.startsWith('layers:\n    - image: 0.sqsh\n')).toBe(true);
      await p.dispose();
    } finally {
      cleanup();
    }
  });

  it('splits microcode into the early archive and firmware into the initramfs, the rest into squashfs', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const a = ext('fw-a', [
        dirEntry('usr', { mode: 0o755 }), dirEntry('usr/lib', { mode: 0o755 }), dirEntry('usr/lib/firmware', { mode: 0o755 }),
        fileFromBytes('usr/lib/firmware/intel-ucode/06-55-04', 'I1'),
        fileFromBytes('usr/lib/firmware/intel-ucode/06-8f-08', 'I2'),
        fileFromBytes('usr/lib/firmware/amd-ucode/microcode_amd_fam17h.bin', 'A1'),
        fileFromBytes('usr/lib/firmware/amd-ucode/README', 'not microcode'),
        fileFromBytes('usr/lib/firmware/vendor/fw.bin', 'FW', { mode: 0o666 }),
        { path: 'usr/lib/firmware/vendor/alias.bin', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, size: 0, linkTarget: 'fw.bin' },
        { path: 'usr/local/bin/keep', type: 'hardlink', mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0, linkTarget: 'rootfs/usr/lib/firmware/vendor/fw.bin' },
        fileFromBytes('usr/local/share/marker', 'A', { mode: 0o4755, xattrs: { 'security.selinux': Buffer.from('system_u:object_r:a_t:s0'), 'user.drop': Buffer.from('x') } }),
        dirEntry('etc/cri/conf.d', { mode: 0o555 }),
      ] as FileEntry[]);
      const b = ext('fw-b', [fileFromBytes('usr/lib/firmware/intel-ucode/06-ff-01', 'I3'), fileFromBytes('usr/lib/firmware/vendor/fw.bin', 'FW2')]);
      const p = (await buildExtensionsPayload([a, b], options(dir)))!;

      expect(p.early.map((e) => [e.path, e.type, e.mode.toString(8)])).toEqual([
        ['kernel', 'dir', '755'], ['kernel/x86', 'dir', '755'], ['kernel/x86/microcode', 'dir', '755'],
        ['kernel/x86/microcode/AuthenticAMD.bin', 'file', '644'], ['kernel/x86/microcode/GenuineIntel.bin', 'file', '644'],
      ]);
      expect((await readEntry(p.early[3]!)).toString()).toBe('A1');
      expect((await readEntry(p.early[4]!)).toString()).toBe('I1I2I3');

      expect(p.compressed.map((e) => e.path)).toEqual([
        '0.sqsh', '1.sqsh', 'extensions.yaml', 'usr', 'usr/lib', 'usr/lib/firmware',
        'usr/lib/firmware/amd-ucode', 'usr/lib/firmware/amd-ucode/README', 'usr/lib/firmware/intel-ucode',
        'usr/lib/firmware/vendor', 'usr/lib/firmware/vendor/alias.bin', 'usr/lib/firmware/vendor/fw.bin',
      ]);
      const byPath = new Map(p.compressed.map((e) => [e.path, e]));
      // symlinks are materialised (upstream stats through them); the second extension's file wins,
      // keeping the first one's mode (O_TRUNC on an existing file)
      expect((await readEntry(byPath.get('usr/lib/firmware/vendor/alias.bin')!)).toString()).toBe('FW');
      expect((await readEntry(byPath.get('usr/lib/firmware/vendor/fw.bin')!)).toString()).toBe('FW2');
      expect(byPath.get('usr/lib/firmware/vendor/fw.bin')!.mode).toBe(0o644);
      expect(p.compressed.every((e) => e.mtime === SDE)).toBe(true);

      const sq = (await squashfsOf(byPath.get('0.sqsh')!)).out;
      expect(Object.keys(sq)).toEqual(['', 'etc', 'etc/cri', 'etc/cri/conf.d', 'usr', 'usr/lib', 'usr/local', 'usr/local/bin', 'usr/local/bin/keep', 'usr/local/share', 'usr/local/share/marker']);
      expect(sq['etc']!.mode).toBe(0o700); // implied by the layer: created 0700 by the imager
      expect(sq['etc/cri/conf.d']!.mode).toBe(0o755); // mode | 0700
      expect(sq['usr/local/bin/keep']!.data).toBe('FW'); // its hard-link target moved to the initramfs
      expect(sq['usr/local/share/marker']).toMatchObject({ mode: 0o4755, data: 'A', xattrs: { 'security.selinux': 'system_u:object_r:a_t:s0' } });
      expect(Object.values(sq).every((v) => v.mtime === SDE)).toBe(true);
      await p.dispose();
    } finally {
      cleanup();
    }
  });

  it('refuses kernel-module extensions (exit code 3, named), incompatible ones, and returns null for none', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const mods = ext('nvidia-modules', [fileFromBytes('usr/lib/modules/6.12.0/extra/nvidia.ko', 'ko')]);
      const err = await buildExtensionsPayload([ext('ok', []), mods], options(dir)).catch((e) => e);
      expect(err).toMatchObject({ code: 'E_EXTENSION_KERNEL_MODULES', exitCode: 3 });
      expect(String(err.message)).toContain('"nvidia-modules" (1)');
      // before 1.10 the modules path is /lib/modules
      const old = ext('old', [fileFromBytes('lib/modules/5.15/x.ko', 'ko')], '');
      await expect(buildExtensionsPayload([old], { ...options(dir, 'v1.9.0'), blockCompressor: () => ({ compress: async (b) => b }) }))
        .rejects.toMatchObject({ exitCode: 3 });
      await expect(buildExtensionsPayload([ext('new', [], '>= v1.12.0')], options(dir, 'v1.11.0'))).rejects.toThrow(/can't be satisfied with Talos version 1.11.0/);
      expect(await buildExtensionsPayload([], options(dir))).toBeNull();
    } finally {
      cleanup();
    }
  });
});

describe('extension payload edge cases', () => {
  it('follows a symlinked firmware directory inside the extension and refuses a firmware file', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const linked = ext('linked', [
        fileFromBytes('usr/share/fw/a.bin', 'A'),
        fileFromBytes('usr/share/fw/intel-ucode/x', 'U'),
        { path: 'usr/lib/firmware', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, size: 0, linkTarget: '../share/fw' },
      ]);
      const p = (await buildExtensionsPayload([linked], options(dir)))!;
      expect(p.compressed.map((e) => e.path)).toEqual(['0.sqsh', 'extensions.yaml', 'usr', 'usr/lib', 'usr/lib/firmware', 'usr/lib/firmware/a.bin', 'usr/lib/firmware/intel-ucode']);
      expect((await readEntry(p.early.at(-1)!)).toString()).toBe('U');
      const sq = (await squashfsOf(p.compressed[0]!)).out;
      // the link and the moved files are gone; the (now empty) target directory stays
      expect(Object.keys(sq)).toEqual(['', 'usr', 'usr/lib', 'usr/share', 'usr/share/fw']);
      await p.dispose();
      const asFile = ext('file', [fileFromBytes('usr/lib/firmware', 'not a dir')]);
      await expect(buildExtensionsPayload([asFile], options(dir))).rejects.toMatchObject({ code: 'E_EXTENSION_FIRMWARE' });
      const dangling = ext('dangling', [{ path: 'usr/lib/firmware/x.bin', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, size: 0, linkTarget: 'nowhere' }]);
      await expect(buildExtensionsPayload([dangling], options(dir))).rejects.toMatchObject({ code: 'E_EXTENSION_SYMLINK' });
    } finally {
      cleanup();
    }
  });
});

describe('virtual extensions', () => {
  it('embedded config: config.yaml 0400 with the state label, version = sha256 of the config', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const config = 'version: v1alpha1\nmachine: {}\n';
      const p = (await buildExtensionsPayload([ext('user', []), embeddedConfigExtension(config)], options(dir)))!;
      expect(p.layers[1]!.metadata).toEqual({
        name: 'embedded-config', version: createHash('sha256').update(config).digest('hex'), author: 'Imager',
        description: 'Virtual extension which embeds the machine configuration.', compatibility: { talos: { version: '>= 1.0.0' } },
      });
      const sq = (await squashfsOf(p.compressed[1]!)).out;
      expect(sq['usr/local/etc/talos/config.yaml']).toMatchObject({
        mode: 0o400, data: config, xattrs: { 'security.selinux': 'system_u:object_r:system_state_t:s0' },
      });
      await p.dispose();
    } finally {
      cleanup();
    }
  });

  it('schematic: empty file named after the ID; extraInfo only from Talos 1.7', async () => {
    const id = 'a'.repeat(64);
    const base = { schematicId: id, externalUrl: 'https://factory.talos.dev', canonicalSchematic: 'customization: {}\n' };
    const manifestOf = async (t: FileTree) => (await readEntry(t.find((e) => e.path === 'manifest.yaml')!)).toString();
    const newer = schematicExtension({ ...base, talosVersion: 'v1.7.0' });
    expect(await manifestOf(newer)).toBe(`version: v1alpha1
metadata:
    name: schematic
    version: ${id}
    author: Image Factory (https://factory.talos.dev)
    description: Virtual extension which specifies the schematic of the image built with schematic.
    compatibility:
        talos:
            version: '>= 1.0.0'
    extraInfo: |
        customization: {}
`);
    expect(await manifestOf(schematicExtension({ ...base, talosVersion: 'v1.6.4' }))).not.toContain('extraInfo');
    expect(newer.find((e) => e.path === `rootfs/usr/local/share/schematic/${id}`)).toMatchObject({ type: 'file', size: 0 });
    expect(() => schematicExtension({ ...base, schematicId: '../x', talosVersion: 'v1.7.0' })).toThrow(/schematic ID/);
  });
});

describe('initramfs append (in-process encoder)', () => {
  it('is [early cpio][base bytes][zstd(cpio)] and reproducible', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const exts = [ext('a', [fileFromBytes('usr/lib/firmware/intel-ucode/x', 'UC'), fileFromBytes('usr/local/a', 'a')]), ext('b', [fileFromBytes('usr/local/b', 'b')])];
      const base = Buffer.from('BASE-INITRAMFS-BYTES');
      const build = async () => {
        const p = await buildExtensionsPayload(exts, options(dir));
        const parts: Buffer[] = [];
        for await (const c of appendExtensions({ base: [base], payload: p, sourceDateEpoch: SDE, encoder: () => createZstdEncoder({ level: 3, threads: 0 }) })) parts.push(Buffer.from(c));
        await p!.dispose();
        return Buffer.concat(parts);
      };
      const one = await build();
      const two = await build();
      expect(one.equals(two)).toBe(true);
      const early = await readNewcAll(one);
      expect(early.map((m) => m.name)).toEqual(['kernel', 'kernel/x86', 'kernel/x86/microcode', 'kernel/x86/microcode/GenuineIntel.bin']);
      const earlyLen = one.indexOf(base);
      expect(earlyLen % 512).toBe(0);
      const tail = one.subarray(earlyLen + base.byteLength);
      expect(tail.readUInt32LE(0)).toBe(0xfd2fb528);
      const { decompress } = await import('fzstd');
      const members = await readNewcAll(Buffer.from(decompress(tail)));
      expect(members.map((m) => m.name)).toEqual(['0.sqsh', '1.sqsh', 'extensions.yaml', 'usr', 'usr/lib', 'usr/lib/firmware', 'usr/lib/firmware/intel-ucode']);
      expect(members.every((m) => m.header.mtime === SDE && m.header.uid === 0)).toBe(true);
    } finally {
      cleanup();
    }
  });

  it('passes the base through unchanged when there are no extensions', async () => {
    const parts: Uint8Array[] = [];
    for await (const c of appendExtensions({ base: [Buffer.from('x'), Buffer.from('y')], payload: null, sourceDateEpoch: 0 })) parts.push(c);
    expect(Buffer.concat(parts).toString()).toBe('xy');
  });
});
