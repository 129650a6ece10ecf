import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readEntry, type FileTree } from '../../../src/core/file-tree.js';
import type { ProgressEvent } from '../../../src/core/progress.js';
import { cleanMemberPath, comparePaths, flattenLayerTars, imagerUntarView, symlinkEscapes } from '../../../src/oci/flatten.js';
import type { LayerTar } from '../../../src/oci/layer-tar.js';
import { tarBytes, type TarWriteEntry } from '../../../src/oci/tar-writer.js';

const tmp = mkdtempSync(join(tmpdir(), 'imagekit-flatten-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

async function layer(entries: TarWriteEntry[]): Promise<LayerTar> {
  const bytes = await tarBytes(entries);
  const path = join(tmp, `l${n++}.tar`);
  writeFileSync(path, bytes);
  return { path, start: 0, end: bytes.byteLength, diffId: 'sha256:' + '0'.repeat(64), what: `layer ${n}` };
}
const f = (name: string, data: string, extra: Partial<TarWriteEntry> = {}): TarWriteEntry => ({ name, type: 'file', data: Buffer.from(data), mode: 0o644, ...extra });
const d = (name: string, extra: Partial<TarWriteEntry> = {}): TarWriteEntry => ({ name, type: 'dir', mode: 0o755, ...extra });
const wh = (name: string): TarWriteEntry => ({ name, type: 'file', data: Buffer.alloc(0) });

async function summary(tree: FileTree): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of tree) {
    if (e.type === 'file') out[e.path] = `file:${(await readEntry(e)).toString()}`;
    else if (e.type === 'symlink' || e.type === 'hardlink') out[e.path] = `${e.type}:${e.linkTarget}`;
    else out[e.path] = e.type;
  }
  return out;
}

describe('flattenLayerTars', () => {
  it('upper layers win, whiteouts hide files and subtrees, opaque dirs hide lower children only', async () => {
    const l1 = await layer([d('etc/'), f('etc/a', 'a1'), f('etc/b', 'b1'), d('opt/'), d('opt/x/'), f('opt/x/1', 'x1'), d('var/'), f('var/keep', 'k'), d('gone/'), f('gone/deep', 'g')]);
    const l2 = await layer([f('etc/a', 'a2'), wh('etc/.wh.b'), d('opt/'), wh('opt/.wh..wh..opq'), f('opt/new', 'n'), wh('.wh.gone'), f('var/keep2', 'k2')]);
    const tree = await flattenLayerTars([l1, l2]);
    expect(await summary(tree)).toEqual({
      etc: 'dir', 'etc/a': 'file:a2', opt: 'dir', 'opt/new': 'file:n', var: 'dir', 'var/keep': 'file:k', 'var/keep2': 'file:k2',
    });
  });

  it('a whiteout in a layer does not hide the same layer\'s own entry; opaque keeps same-layer children', async () => {
    const l1 = await layer([f('x', 'old'), d('o/'), f('o/old', 'o')]);
    const l2 = await layer([f('x', 'new'), wh('.wh.x'), wh('o/.wh..wh..opq'), f('o/mine', 'm')]);
    expect(await summary(await flattenLayerTars([l1, l2]))).toEqual({ x: 'file:new', o: 'dir', 'o/mine': 'file:m' });
  });

  it('a file in an upper layer hides a lower directory and its children; a directory replaces a lower file', async () => {
    const l1 = await layer([d('a/'), f('a/child', 'c'), f('b', 'file')]);
    const l2 = await layer([f('a', 'now a file'), d('b/'), f('b/inner', 'i')]);
    expect(await summary(await flattenLayerTars([l1, l2]))).toEqual({ a: 'file:now a file', b: 'dir', 'b/inner': 'file:i' });
  });

  it('a lower subtree destroyed by a middle layer stays gone when a top layer makes the path a directory again', async () => {
    const l1 = await layer([d('a/'), f('a/b', 'old child')]);
    const l2 = await layer([f('a', 'a file now')]);
    const l3 = await layer([f('a/a', 'new child')]); // implies directory a again
    expect(await summary(await flattenLayerTars([l1, l2, l3]))).toEqual({ a: 'dir', 'a/a': 'file:new child' });
    const l2s = await layer([{ name: 'a', type: 'symlink', linkname: '/x' }]);
    const l3d = await layer([d('a/')]);
    expect(await summary(await flattenLayerTars([l1, l2s, l3d]))).toEqual({ a: 'dir' });
  });

  it('first occurrence wins inside one layer too; metadata of the winning entry is kept', async () => {
    const l = await layer([f('dup', 'first', { mode: 0o600, uid: 7, gid: 8, mtime: 1234 }), f('dup', 'second')]);
    const tree = await flattenLayerTars([l]);
    expect(tree).toHaveLength(1);
    expect(tree[0]).toMatchObject({ path: 'dup', mode: 0o600, uid: 7, gid: 8, mtime: 1234, size: 5 });
  });

  it('paths are made safe: absolute and ../ names are confined (as safepath), the root entry is skipped', async () => {
    const events: ProgressEvent[] = [];
    const l = await layer([d('./'), f('/abs/file', 'A'), f('../../etc/passwd', 'P'), f('./dot/./x', 'X'), f('a/../b', 'B')]);
    const tree = await flattenLayerTars([l], { progress: (e) => events.push(e) });
    expect(await summary(tree)).toEqual({ abs: 'dir', 'abs/file': 'file:A', etc: 'dir', 'etc/passwd': 'file:P', dot: 'dir', 'dot/x': 'file:X', b: 'file:B' });
    expect(events.some((e) => e.type === 'warning' && /climbs out/.test(e.message))).toBe(true);
    for (const e of tree) expect(e.path).not.toMatch(/(^|\/)\.\.?(\/|$)|^\//);
  });

  it('relative symlinks escaping the root are dropped; absolute ones are kept; entries below a symlink are dropped', async () => {
    const events: ProgressEvent[] = [];
    const l1 = await layer([{ name: 'lnk', type: 'symlink', linkname: '/etc' }]);
    const l2 = await layer([
      d('usr/'), d('usr/lib/'),
      { name: 'usr/lib/ok', type: 'symlink', linkname: '../../etc/os-release' },
      { name: 'usr/lib/evil', type: 'symlink', linkname: '../../../etc/shadow' },
      { name: 'abs', type: 'symlink', linkname: '/usr/lib' },
    ]);
    const l3 = await layer([f('lnk/passwd', 'through symlink?')]);
    const tree = await flattenLayerTars([l1, l2, l3], { progress: (e) => events.push(e) });
    // l3's lnk/passwd implies a directory lnk in l3, which hides l1's symlink at that path.
    expect(await summary(tree)).toEqual({ abs: 'symlink:/usr/lib', lnk: 'dir', 'lnk/passwd': 'file:through symlink?', usr: 'dir', 'usr/lib': 'dir', 'usr/lib/ok': 'symlink:../../etc/os-release' });
    expect(events.map((e) => (e.type === 'warning' ? e.message : '')).join('\n')).toMatch(/usr\/lib\/evil -> \.\.\/\.\.\/\.\.\/etc\/shadow escapes the root/);
  });

  it('a child in a lower layer under an upper symlink is dropped (never followed)', async () => {
    const l1 = await layer([d('data/'), f('data/secret', 's')]);
    const l2 = await layer([{ name: 'data', type: 'symlink', linkname: '/tmp' }]);
    expect(await summary(await flattenLayerTars([l1, l2]))).toEqual({ data: 'symlink:/tmp' });
  });

  it('hard links resolve to a regular file of the final tree; dangling or escaping ones are dropped', async () => {
    const l1 = await layer([f('bin/busybox', 'BB'), { name: 'bin/sh', type: 'hardlink', linkname: 'bin/busybox' }, { name: 'bin/ash', type: 'hardlink', linkname: './bin/sh' }, f('gone', 'g')]);
    const l2 = await layer([wh('.wh.gone'), { name: 'dangling', type: 'hardlink', linkname: 'gone' }, { name: 'escape', type: 'hardlink', linkname: '../../etc/passwd' }]);
    const tree = await flattenLayerTars([l1, l2]);
    expect(await summary(tree)).toEqual({ bin: 'dir', 'bin/ash': 'hardlink:bin/busybox', 'bin/busybox': 'file:BB', 'bin/sh': 'hardlink:bin/busybox' });
  });

  it('devices, fifos, xattrs (PAX SCHILY.xattr, incl. security.selinux), long names and big ids survive', async () => {
    const long = 'p/' + 'x'.repeat(150) + '/' + 'y'.repeat(120);
    const label = Buffer.from('system_u:object_r:bin_t:s0\0');
    const l = await layer([
      { name: 'dev/null', type: 'char', devMajor: 1, devMinor: 3, mode: 0o666 },
      { name: 'dev/sda', type: 'block', devMajor: 8, devMinor: 0, mode: 0o660 },
      { name: 'run/fifo', type: 'fifo', mode: 0o600 },
      f(long, 'L', { uid: 3_000_000, gid: 4_000_000 }),
      f('usr/bin/x', 'X', { xattrs: { 'security.selinux': label, 'user.bin': Buffer.from([0, 1, 2, 255]) } }),
      { name: 'lnk', type: 'symlink', linkname: 'z'.repeat(200) },
    ]);
    const tree = await flattenLayerTars([l]);
    const by = Object.fromEntries(tree.map((e) => [e.path, e]));
    expect(by['dev/null']).toMatchObject({ type: 'char', devMajor: 1, devMinor: 3, mode: 0o666 });
    expect(by['dev/sda']).toMatchObject({ type: 'block', devMajor: 8, devMinor: 0 });
    expect(by['run/fifo']).toMatchObject({ type: 'fifo' });
    expect(by[long]).toMatchObject({ uid: 3_000_000, gid: 4_000_000, size: 1 });
    expect(Buffer.from(by['usr/bin/x']!.xattrs!['security.selinux']!)).toEqual(label);
    expect([...by['usr/bin/x']!.xattrs!['user.bin']!]).toEqual([0, 1, 2, 255]);
    expect(by.lnk!.linkTarget).toBe('z'.repeat(200));
  });

  it('synthesises missing parents and sorts parents first', async () => {
    const l = await layer([f('a/b/c/file', '1'), f('a/b.txt', '2'), d('a/', { mode: 0o700, uid: 5 })]);
    const tree = await flattenLayerTars([l]);
    expect(tree.map((e) => e.path)).toEqual(['a', 'a/b', 'a/b/c', 'a/b/c/file', 'a/b.txt']);
    // The real directory entry replaces the synthesised one, even when it comes later.
    expect(tree[0]).toMatchObject({ mode: 0o700, uid: 5 });
    expect(tree[1]).toMatchObject({ mode: 0o755, uid: 0 });
  });

  it('include filter keeps matching paths and their parents', async () => {
    const l = await layer([f('usr/install/amd64/vmlinuz', 'K'), f('usr/install/arm64/vmlinuz', 'A'), f('etc/x', 'x')]);
    const tree = await flattenLayerTars([l], { include: (p) => p.startsWith('usr/install/amd64/') });
    expect(tree.map((e) => e.path)).toEqual(['usr', 'usr/install', 'usr/install/amd64', 'usr/install/amd64/vmlinuz']);
  });

  it('imagerUntarView: as the imager untar writes it to disk', async () => {
    const l = await layer([d('d/', { mode: 0o500, uid: 9 }), f('d/f', 'F', { mtime: 77 }), { name: 'd/h', type: 'hardlink', linkname: 'd/f' }, { name: 'd/c', type: 'char', devMajor: 1, devMinor: 1 }]);
    const view = imagerUntarView(await flattenLayerTars([l]), 0);
    const by = Object.fromEntries(view.map((e) => [e.path, e]));
    expect(by.d).toMatchObject({ type: 'dir', mode: 0o700, uid: 0 });
    expect(by['d/h']).toMatchObject({ type: 'file', size: 0 });
    expect(by['d/c']).toMatchObject({ type: 'file', size: 0 });
    expect(by['d/f']).toMatchObject({ type: 'file', size: 1, mtime: 0 });
    expect((await readEntry(by['d/h']!)).length).toBe(0);
  });

  it('truncated and corrupt tars give clear errors', async () => {
    const bytes = await tarBytes([f('a', 'x'.repeat(2000))]);
    const p = join(tmp, 'trunc.tar');
    writeFileSync(p, bytes.subarray(0, 1024));
    await expect(flattenLayerTars([{ path: p, start: 0, end: 1024, diffId: '', what: 'cut layer' }])).rejects.toThrow(/cut layer: tar is truncated/);
    const bad = Buffer.from(bytes);
    bad[0] ^= 0xff;
    writeFileSync(p, bad);
    await expect(flattenLayerTars([{ path: p, start: 0, end: bad.length, diffId: '', what: 'bad layer' }])).rejects.toThrow(/bad layer: at byte 0: tar header: checksum mismatch/);
  });
});

describe('path helpers', () => {
  it('cleanMemberPath never yields .. or absolute paths (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('..', '.', '', 'a', 'b', 'c.d', '...', '.wh.x'), { maxLength: 12 }), fc.boolean(), (segs, abs) => {
        const raw = (abs ? '/' : '') + segs.join('/');
        const { path } = cleanMemberPath(raw);
        expect(path.split('/').every((s) => path === '' || (s !== '' && s !== '.' && s !== '..'))).toBe(true);
        expect(path.startsWith('/')).toBe(false);
      }),
      { seed: 42, numRuns: 1000 },
    );
  });
  it('symlinkEscapes', () => {
    expect(symlinkEscapes('a/b', '../c')).toBe(false);
    expect(symlinkEscapes('a/b', '../../c')).toBe(true);
    expect(symlinkEscapes('a', '/abs/../../..')).toBe(false);
    expect(symlinkEscapes('a/b/c', 'x/../../..')).toBe(false);
    expect(symlinkEscapes('a/b/c', 'x/../../../..')).toBe(true);
  });
  it('comparePaths puts parents first', () => {
    expect(['a.b', 'a/b', 'a', 'a-b'].sort(comparePaths)).toEqual(['a', 'a/b', 'a-b', 'a.b']);
  });
});
