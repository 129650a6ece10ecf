/**
 * Our newc bytes against GNU cpio (`-H newc --create --reproducible -R +0:+0`) for the same listing,
 * and GNU cpio / bsdtar reading our archives back.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileEntry, FileType } from '../../../src/core/file-tree.js';
import { newcBytes } from '../../../src/formats/cpio/index.js';
import { missingTools, runTool, tempDir } from '../../helpers/tools.js';

const MTIME = 1_700_000_000;
const skip = missingTools('cpio', 'bsdtar', 'touch', 'mkfifo');

function treeFromListing(root: string, listing: string[]): FileEntry[] {
  return listing.map((rel) => {
    const abs = join(root, rel);
    const st = lstatSync(abs);
    const type: FileType = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo'
      : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : 'file';
    return {
      path: rel, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000),
      size: type === 'file' ? st.size : 0,
      linkTarget: type === 'symlink' ? readlinkSync(abs) : undefined,
      devMajor: type === 'char' || type === 'block' ? Number(BigInt(st.rdev) >> 8n & 0xfffn) : undefined,
      devMinor: type === 'char' || type === 'block' ? Number((BigInt(st.rdev) & 0xffn) | (BigInt(st.rdev) >> 12n & 0xfff00n)) : undefined,
      open: type === 'file' ? () => createReadStream(abs, { highWaterMark: 4096 }) : undefined,
    };
  });
}

/** Pre-order, sorted listing without the root (as the imager builds it, talos-imager.md §4.6). */
function listing(root: string, rel = ''): string[] {
  const out: string[] = [];
  const names = execFileSync('ls', ['-A', join(root, rel)], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } })
    .split('\n').filter(Boolean).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const n of names) {
    const p = rel ? `${rel}/${n}` : n;
    out.push(p);
    if (lstatSync(join(root, p)).isDirectory()) out.push(...listing(root, p));
  }
  return out;
}

describe.skipIf(skip)('newc vs GNU cpio', () => {
  let dir = '';
  let cleanup = () => {};
  let src = '';
  beforeAll(() => {
    ({ dir, cleanup } = tempDir('imagekit-cpio-'));
    src = join(dir, 'src');
    mkdirSync(join(src, 'usr/lib/firmware/intel-ucode'), { recursive: true });
    mkdirSync(join(src, 'kernel/x86/microcode'), { recursive: true });
    mkdirSync(join(src, 'empty'), { recursive: true });
    writeFileSync(join(src, '0.sqsh'), Buffer.alloc(70_001, 0x5a));
    writeFileSync(join(src, 'extensions.yaml'), 'layers:\n    - image: 0.sqsh\n');
    writeFileSync(join(src, 'kernel/x86/microcode/GenuineIntel.bin'), Buffer.alloc(1027, 1));
    writeFileSync(join(src, 'usr/lib/firmware/a.bin'), '');
    writeFileSync(join(src, 'usr/lib/firmware/bé中.fw'), 'abc');
    writeFileSync(join(src, 'usr/lib/firmware/four'), 'abcd');
    execFileSync('chmod', ['0600', join(src, 'usr/lib/firmware/four')]);
    execFileSync('chmod', ['4755', join(src, 'extensions.yaml')]);
    symlinkSync('a.bin', join(src, 'usr/lib/firmware/link'));
    execFileSync('mkfifo', [join(src, 'empty/fifo')]);
    execFileSync('sh', ['-c', `find . -exec touch -h -d @${MTIME} {} +`], { cwd: src });
  });
  afterAll(() => cleanup());

  it('writes the same bytes as cpio -H newc --create --reproducible -R +0:+0', async () => {
    const list = listing(src);
    const gnu = execFileSync('cpio', ['-H', 'newc', '--create', '--reproducible', '--quiet', '-R', '+0:+0'], {
      cwd: src, input: list.join('\n') + '\n', maxBuffer: 1 << 26,
    });
    const ours = await newcBytes(treeFromListing(src, list), { owner: { uid: 0, gid: 0 } });
    expect(ours.byteLength).toBe(gnu.byteLength);
    expect(Buffer.compare(ours, gnu)).toBe(0);
  });

  it('matches GNU cpio for device nodes too (needs root to mknod)', async () => {
    const d = join(dir, 'dev');
    mkdirSync(d);
    if (spawnSync('mknod', [join(d, 'null'), 'c', '1', '3']).status !== 0 || spawnSync('mknod', [join(d, 'big'), 'b', '259', '300000']).status !== 0) {
      if (process.env.CI) throw new Error('mknod failed under CI');
      return; // not root locally: nothing to compare
    }
    execFileSync('sh', ['-c', `touch -h -d @${MTIME} null big`], { cwd: d });
    const list = ['big', 'null'];
    const gnu = execFileSync('cpio', ['-H', 'newc', '--create', '--reproducible', '--quiet', '-R', '+0:+0'], { cwd: d, input: list.join('\n') + '\n' });
    const ours = await newcBytes(treeFromListing(d, list), { owner: { uid: 0, gid: 0 } });
    expect(Buffer.compare(ours, gnu)).toBe(0);
  });

  it('is listed by cpio -itv and bsdtar -tvf, and extracts to the same content', async () => {
    const list = listing(src);
    const archive = join(dir, 'ours.cpio');
    writeFileSync(archive, await newcBytes(treeFromListing(src, list), { owner: { uid: 0, gid: 0 }, mtime: 86400 * 365 }));
    const gnuList = runTool('sh', ['-c', `cpio -itv --quiet < ${archive}`], { env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' } });
    expect(gnuList.status).toBe(0);
    const lines = gnuList.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/).slice(8).join(' '))).toEqual(list.map((p) => (p.endsWith('link') ? `${p} -> a.bin` : p)));
    expect(lines.every((l) => /root\s+root/.test(l) && l.includes('Jan  1  1971'))).toBe(true);
    expect(gnuList.stdout).toMatch(/^-rwsr-xr-x .* extensions\.yaml$/m);
    expect(gnuList.stdout).toMatch(/^prw-r--r-- .* empty\/fifo$/m);

    const bsd = runTool('bsdtar', ['-tvf', archive], { env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    expect(bsd.status).toBe(0);
    expect(bsd.stdout).toContain('usr/lib/firmware/bé中.fw');
    expect(bsd.stdout.trim().split('\n')).toHaveLength(list.length);

    const out = join(dir, 'extract');
    mkdirSync(out);
    const x = runTool('sh', ['-c', `cpio -idm --quiet --no-absolute-filenames < ${archive}`], { cwd: out });
    expect(x.status).toBe(0);
    for (const p of list) {
      const a = lstatSync(join(src, p));
      if (a.isFile()) expect(Buffer.compare(readFileSync(join(out, p)), readFileSync(join(src, p)))).toBe(0);
    }
    expect(readlinkSync(join(out, 'usr/lib/firmware/link'))).toBe('a.bin');
  });

  it('matches GNU cpio byte for byte with hard links (group deferred to its last link)', async () => {
    const d = join(dir, 'hl');
    mkdirSync(d);
    writeFileSync(join(d, 'a'), 'hello');
    writeFileSync(join(d, 'c'), 'other');
    execFileSync('ln', [join(d, 'a'), join(d, 'hl')]);
    execFileSync('sh', ['-c', `touch -h -d @${MTIME} a c hl`], { cwd: d });
    const list = ['a', 'c', 'hl'];
    const gnu = execFileSync('cpio', ['-H', 'newc', '--create', '--reproducible', '--quiet', '-R', '+0:+0'], { cwd: d, input: list.join('\n') + '\n' });
    const tree = treeFromListing(d, list);
    tree[2] = { ...tree[2]!, type: 'hardlink', linkTarget: 'a', size: 0, open: undefined };
    const ours = await newcBytes(tree, { owner: { uid: 0, gid: 0 } });
    expect(Buffer.compare(ours, gnu)).toBe(0);
  });

  it('hard links extract as one inode with the content', async () => {
    const t: FileEntry[] = [
      { path: 'a', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 5, open: () => createReadStream(join(src, 'usr/lib/firmware/four')) },
      { path: 'b', type: 'hardlink', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 0, linkTarget: 'a' },
    ];
    t[0]!.size = 4;
    const archive = join(dir, 'links.cpio');
    writeFileSync(archive, await newcBytes(t));
    const out = join(dir, 'links');
    mkdirSync(out);
    expect(runTool('sh', ['-c', `cpio -id --quiet < ${archive}`], { cwd: out }).status).toBe(0);
    expect(lstatSync(join(out, 'a')).ino).toBe(lstatSync(join(out, 'b')).ino);
    expect(readFileSync(join(out, 'b'), 'utf8')).toBe('abcd');
  });
});
