import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../src/core/errors.js';
import { dirEntry, fileFromBytes, type FileEntry } from '../../../src/core/file-tree.js';
import { MemorySink } from '../../../src/core/sink.js';
import {
  createInProcessCompressor, encodeCompressorOptions, SquashfsReader, writeSquashfs, type SquashfsBlockCompressor,
  type SquashfsCompression, type SquashfsWriteOptions,
} from '../../../src/formats/squashfs/index.js';
import { encodeListing } from '../../../src/formats/squashfs/directory.js';
import { decodeDevice, encodeDevice } from '../../../src/formats/squashfs/inode.js';

const zstd: SquashfsCompression = { algorithm: 'zstd', level: 3 };

async function build(tree: FileEntry[], extra: Partial<SquashfsWriteOptions> = {}) {
  const sink = new MemorySink();
  const compression = extra.compression ?? zstd;
  const result = await writeSquashfs(tree, sink, {
    compression, compressor: extra.compressor ?? await createInProcessCompressor(compression, extra.blockSize ?? 131072), mkfsTime: 5000, ...extra,
  });
  return { bytes: Buffer.from(sink.bytes()), result };
}

async function listing(bytes: Uint8Array) {
  const r = await SquashfsReader.open(bytes);
  const out: Record<string, { kind: string; number: number; mode: number; size?: number; data?: string; target?: string; nlink?: number }> = {};
  for await (const { path, inode } of r.walk()) {
    const rec: (typeof out)[string] = { kind: inode.kind, number: inode.number, mode: inode.permissions };
    if (inode.kind === 'file') {
      rec.size = inode.fileSize;
      rec.nlink = inode.nlink;
      rec.data = (await r.readFile(inode)).toString('latin1');
    }
    if (inode.kind === 'symlink') rec.target = inode.target.toString();
    out[path] = rec;
  }
  return { reader: r, out };
}

const pattern = (n: number, seed = 1) => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + (i >> 7)) & 0xff));

describe('squashfs writer (read back with our reader)', () => {
  it('round-trips files, directories, symlinks, devices, fifos, hard links and xattrs', async () => {
    const tree: FileEntry[] = [
      fileFromBytes('etc/hosts', '127.0.0.1 localhost\n', { mode: 0o644 }),
      dirEntry('etc', { mode: 0o750 }),
      fileFromBytes('big', pattern(300_000)),
      { path: 'lnk', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 1, size: 0, linkTarget: 'etc/hosts' },
      { path: 'hl', type: 'hardlink', mode: 0, uid: 0, gid: 0, mtime: 1, size: 0, linkTarget: 'big' },
      { path: 'dev/null', type: 'char', mode: 0o666, uid: 0, gid: 0, mtime: 1, size: 0, devMajor: 1, devMinor: 3 },
      { path: 'dev/sda', type: 'block', mode: 0o660, uid: 0, gid: 6, mtime: 1, size: 0, devMajor: 8, devMinor: 300 },
      { path: 'run/fifo', type: 'fifo', mode: 0o600, uid: 0, gid: 0, mtime: 1, size: 0 },
      { ...fileFromBytes('labelled', 'x'), xattrs: { 'security.selinux': Buffer.from('system_u:object_r:etc_t:s0'), 'user.k': Buffer.from('v') } },
    ];
    const { bytes } = await build(tree);
    const { reader, out } = await listing(bytes);
    expect(Object.keys(out)).toEqual(['', 'big', 'dev', 'dev/null', 'dev/sda', 'etc', 'etc/hosts', 'hl', 'labelled', 'lnk', 'run', 'run/fifo']);
    expect(out['etc']!.mode).toBe(0o750);
    expect(out['etc/hosts']!.data).toBe('127.0.0.1 localhost\n');
    expect(out['big']!.data).toBe(pattern(300_000).toString('latin1'));
    expect(out['hl']!.number).toBe(out['big']!.number);
    expect(out['big']!.nlink).toBe(2);
    expect(out['lnk']!.target).toBe('etc/hosts');
    // pre-order numbering, root last
    expect(out['big']!.number).toBe(1);
    expect(out['']!.number).toBe(reader.superblock.inodeCount);
    const devs: Record<string, unknown> = {};
    for await (const { path, inode } of reader.walk()) {
      if (path.startsWith('dev/')) devs[path] = SquashfsReader.device(inode);
      if (path === 'labelled') expect(Object.fromEntries(Object.entries(await reader.xattrs(inode)).map(([k, v]) => [k, v.toString()])))
        .toEqual({ 'security.selinux': 'system_u:object_r:etc_t:s0', 'user.k': 'v' });
      if (path === 'dev/sda') expect(reader.gid(inode)).toBe(6);
    }
    expect(devs).toEqual({ 'dev/null': { major: 1, minor: 3 }, 'dev/sda': { major: 8, minor: 300 } });
  });

  it('labels directories (the root too) with xattrs through extended directory inodes', async () => {
    const label = (s: string) => ({ 'security.selinux': Buffer.from(s) });
    const { bytes } = await build([
      { ...dirEntry(''), xattrs: label('system_u:object_r:root_t:s0') },
      { ...dirEntry('etc'), xattrs: label('system_u:object_r:etc_t:s0') },
      { ...fileFromBytes('etc/a', 'a'), xattrs: label('system_u:object_r:etc_t:s0') },
    ]);
    const r = await SquashfsReader.open(bytes);
    const seen: Record<string, string> = {};
    for await (const { path, inode } of r.walk()) {
      seen[path] = `${inode.type}:${(await r.xattrs(inode))['security.selinux']?.toString()}`;
    }
    // 8 = extended directory, 9 = extended file; equal sets share one xattr id
    expect(seen).toEqual({ '': '8:system_u:object_r:root_t:s0', etc: '8:system_u:object_r:etc_t:s0', 'etc/a': '9:system_u:object_r:etc_t:s0' });
  });

  it('is deterministic and independent of entry order', async () => {
    const tree: FileEntry[] = Array.from({ length: 200 }, (_, i) => fileFromBytes(`d${i % 7}/f${i}`, pattern(i * 97, i)));
    const a = await build(tree);
    const b = await build([...tree].reverse());
    expect(a.bytes.equals(b.bytes)).toBe(true);
  });

  it('stores duplicate files once, skips zero blocks, packs small files into fragments', async () => {
    const big = pattern(400_000, 3);
    const single = await build([fileFromBytes('a', big)]);
    const twice = await build([fileFromBytes('a', big), fileFromBytes('b', big), fileFromBytes('c', 'tiny')]);
    expect(twice.result.bytesUsed - single.result.bytesUsed).toBeLessThan(1000);
    const noDup = await build([fileFromBytes('a', big), fileFromBytes('b', big)], { duplicates: false });
    expect(noDup.result.bytesUsed).toBeGreaterThan(single.result.bytesUsed + 1000);
    const { out } = await listing(twice.bytes);
    expect(out['b']!.data).toBe(big.toString('latin1'));

    const zeros = await build([fileFromBytes('z', Buffer.alloc(10 * 131072))]);
    expect(zeros.result.bytesUsed).toBeLessThan(600);
    expect((await listing(zeros.bytes)).out['z']!.data).toBe(Buffer.alloc(10 * 131072).toString('latin1'));

    const small = await build(Array.from({ length: 50 }, (_, i) => fileFromBytes(`s${i}`, `file ${i} `.repeat(50))));
    expect(small.result.fragmentCount).toBe(1);
  });

  it('rolls back the blocks of a duplicate and keeps writing after them', async () => {
    const a = pattern(5 * 131072 + 5, 7);
    const tree = [fileFromBytes('1', a), fileFromBytes('2', a), fileFromBytes('3', pattern(3 * 131072, 11)), fileFromBytes('4', 'end')];
    const { bytes } = await build(tree, { maxInFlight: 2 });
    const { out } = await listing(bytes);
    expect(out['2']!.data).toBe(a.toString('latin1'));
    expect(out['3']!.data).toBe(pattern(3 * 131072, 11).toString('latin1'));
    expect(out['4']!.data).toBe('end');
  });

  it('tail-end packing puts the last partial block of large files into a fragment', async () => {
    const tree = [fileFromBytes('a', pattern(131072 + 100)), fileFromBytes('b', pattern(131072 + 200, 5))];
    const plain = await build(tree);
    const tails = await build(tree, { tailEnds: true });
    expect(plain.result.fragmentCount).toBe(0);
    expect(tails.result.fragmentCount).toBe(1);
    expect((await listing(tails.bytes)).out['b']!.data).toBe(pattern(131072 + 200, 5).toString('latin1'));
    expect(tails.bytes.readUInt16LE(24) & 0x20).toBe(0x20);
  });

  it('writes a directory index for a listing over 8 KiB and finds every entry', async () => {
    const tree = Array.from({ length: 400 }, (_, i) => fileFromBytes(`big/${String(i).padStart(4, '0')}-${'n'.repeat(30)}`, String(i)));
    const { bytes } = await build(tree);
    const r = await SquashfsReader.open(bytes);
    const root = await r.root();
    const [big] = await r.list(root);
    expect(big!.inode.kind === 'dir' && big!.inode.index.length).toBeGreaterThan(0);
    const entries = await r.list(big!.inode);
    expect(entries).toHaveLength(400);
    expect((await r.readFile(entries[399]!.inode)).toString()).toBe('399');
  });

  it('applies the timestamp policy and all-root', async () => {
    const tree = [fileFromBytes('old', 'a', { mtime: 10, uid: 1000, gid: 1000 }), fileFromBytes('new', 'b', { mtime: 9000 })];
    const times = async (opts: Partial<SquashfsWriteOptions>) => {
      const r = await SquashfsReader.open((await build(tree, opts)).bytes);
      const t: Record<string, number> = {};
      for await (const { path, inode } of r.walk()) t[path || '/'] = inode.mtime;
      return { t, ids: r.idTable };
    };
    expect((await times({})).t).toEqual({ '/': 5000, new: 5000, old: 10 });
    expect((await times({ timestamps: 'set' })).t).toEqual({ '/': 5000, new: 5000, old: 5000 });
    expect((await times({ timestamps: 'keep' })).t).toEqual({ '/': 5000, new: 9000, old: 10 });
    expect((await times({})).ids).toEqual([0, 1000]);
    expect((await times({ allRoot: true })).ids).toEqual([0]);
  });

  it('writes the compressor options block only for non-default settings', async () => {
    expect(encodeCompressorOptions({ algorithm: 'zstd', level: 15 }, 131072)).toBeNull();
    expect(encodeCompressorOptions({ algorithm: 'zstd', level: 18 }, 131072)!.readUInt32LE(0)).toBe(18);
    expect(encodeCompressorOptions({ algorithm: 'xz' }, 131072)).toBeNull();
    expect(encodeCompressorOptions({ algorithm: 'xz', dictSize: 65536 }, 131072)!.readUInt32LE(0)).toBe(65536);
    expect(encodeCompressorOptions({ algorithm: 'gzip' }, 131072)).toBeNull();
    const { bytes } = await build([fileFromBytes('a', 'x')], { compression: { algorithm: 'zstd', level: 18 } });
    expect(bytes.readUInt16LE(24) & 0x400).toBe(0x400);
    expect(bytes.readUInt16LE(96)).toBe(0x8004);
    expect((await SquashfsReader.open(bytes)).compression).toEqual({ algorithm: 'zstd', level: 18 });
    const g = await build([fileFromBytes('a', pattern(50_000))], { compression: { algorithm: 'gzip' } });
    expect((await listing(g.bytes)).out['a']!.data).toBe(pattern(50_000).toString('latin1'));
  });

  it('keeps at most maxInFlight blocks in the compressor', async () => {
    const inner = await createInProcessCompressor(zstd, 131072);
    let now = 0;
    let peak = 0;
    const slow: SquashfsBlockCompressor = {
      compress: async (b) => {
        now++;
        peak = Math.max(peak, now);
        await new Promise((r) => setTimeout(r, 1));
        const out = await inner.compress(b);
        now--;
        return out;
      },
    };
    await build([fileFromBytes('a', pattern(40 * 131072))], { compressor: slow, maxInFlight: 3 });
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(4);
  });

  it('rejects bad trees and options with clear errors', async () => {
    await expect(build([fileFromBytes('a', 'x'), fileFromBytes('a', 'y')])).rejects.toMatchObject({ code: 'E_SQUASHFS_DUPLICATE' });
    await expect(build([fileFromBytes('a', 'x'), fileFromBytes('a/b', 'y')])).rejects.toThrow(/not a directory/);
    await expect(build([fileFromBytes('n'.repeat(257), 'x')])).rejects.toMatchObject({ code: 'E_SQUASHFS_NAME' });
    await expect(build([dirEntry('d'), { path: 'h', type: 'hardlink', mode: 0, uid: 0, gid: 0, mtime: 0, size: 0, linkTarget: 'd' }]))
      .rejects.toThrow(/points to a directory/);
    await expect(build([{ ...fileFromBytes('a', 'x'), xattrs: { 'system.posix_acl': Buffer.from('') } }])).rejects.toMatchObject({ code: 'E_SQUASHFS_XATTR' });
    await expect(build([{ ...fileFromBytes('a', 'abc'), size: 10 }])).rejects.toMatchObject({ code: 'E_SQUASHFS_SIZE_MISMATCH' });
    await expect(build([{ ...fileFromBytes('a', 'abcdef'), size: 2 }])).rejects.toMatchObject({ code: 'E_SQUASHFS_SIZE_MISMATCH' });
    await expect(build([fileFromBytes('a', 'x')], { blockSize: 3000 })).rejects.toMatchObject({ code: 'E_SQUASHFS_OPTIONS' });
    await expect(build([{ path: 'l', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, size: 0, linkTarget: 'x'.repeat(5000) }]))
      .rejects.toMatchObject({ code: 'E_SQUASHFS_SYMLINK' });
    const failing: SquashfsBlockCompressor = { compress: async () => { throw new ImagekitError('E_TEST_COMPRESS', 'io', 'boom'); } };
    await expect(build([fileFromBytes('a', pattern(500_000))], { compressor: failing })).rejects.toMatchObject({ code: 'E_TEST_COMPRESS' });
  });
});

describe('squashfs pieces', () => {
  it('encodes device numbers as Linux new_encode_dev', () => {
    expect(encodeDevice(1, 3)).toBe(0x103);
    expect(encodeDevice(259, 300000)).toBe(((300000 & 0xff) | (259 << 8) | ((300000 & ~0xff) << 12)) >>> 0);
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xfff }), fc.integer({ min: 0, max: 0xfffff }), (ma, mi) => {
      expect(decodeDevice(encodeDevice(ma, mi))).toEqual({ major: ma, minor: mi });
    }), { seed: 42, numRuns: 200 });
  });

  it('starts a new directory run at 256 entries, on an inode block change and past s16 deltas', () => {
    const child = (i: number, block = 0, number = i + 1) => ({ name: Buffer.from(`n${String(i).padStart(3, '0')}`), inodeBlock: block, inodeOffset: i, inodeNumber: number, type: 2 });
    const runs = (l: ReturnType<typeof encodeListing>, n: number) => {
      // count headers by walking the listing
      let at = 0;
      let headers = 0;
      let seen = 0;
      while (seen < n) {
        const count = l.bytes.readUInt32LE(at) + 1;
        headers++;
        at += 12;
        for (let k = 0; k < count; k++) at += 8 + l.bytes.readUInt16LE(at + 6) + 1;
        seen += count;
      }
      return headers;
    };
    expect(runs(encodeListing(Array.from({ length: 300 }, (_, i) => child(i))), 300)).toBe(2);
    expect(runs(encodeListing([child(0, 0), child(1, 0), child(2, 77)]), 3)).toBe(2);
    expect(runs(encodeListing([child(0, 0, 1), child(1, 0, 40000)]), 2)).toBe(2);
  });
});

describe('squashfs reader on damaged images', () => {
  it('gives ImagekitError (never a hang or a crash) for truncated or bit-flipped images', async () => {
    const tree: FileEntry[] = [fileFromBytes('a/b', pattern(200_000)), fileFromBytes('c', 'hello'), dirEntry('d'),
      { ...fileFromBytes('x', 'y'), xattrs: { 'user.a': Buffer.from('b') } }];
    const { bytes } = await build(tree);
    const readAll = async (img: Uint8Array) => {
      const r = await SquashfsReader.open(img);
      for await (const { inode } of r.walk()) {
        if (inode.kind === 'file') await r.readFile(inode, 1 << 22);
        await r.xattrs(inode);
      }
    };
    await readAll(bytes);
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: bytes.byteLength - 1 }), fc.integer({ min: 1, max: 255 }), fc.boolean(),
      async (at, xor, truncate) => {
        const img = Buffer.from(bytes);
        if (truncate) {
          await readAll(img.subarray(0, at)).catch((e) => expect(e).toBeInstanceOf(ImagekitError));
        } else {
          img[at]! ^= xor;
          await readAll(img).catch((e) => expect(e).toBeInstanceOf(ImagekitError));
        }
      }), { seed: 42, numRuns: 300 });
  });
});
