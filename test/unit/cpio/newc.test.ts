import fc from 'fast-check';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../src/core/errors.js';
import { dirEntry, fileFromBytes, type FileEntry } from '../../../src/core/file-tree.js';
import {
  decodeNewcHeader, encodeNewcHeader, newcBytes, readNewcAll, TRAILER_NAME,
} from '../../../src/formats/cpio/index.js';

const chunked = (bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> => (async function* () {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
})();

describe('newc header', () => {
  it('encodes uppercase hex and pads header+name to 4 bytes', () => {
    const h = encodeNewcHeader({ ino: 0xab, mode: 0o100644, uid: 0, gid: 0, nlink: 1, mtime: 1234, filesize: 5,
      devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0, check: 0 }, Buffer.from('abc'));
    expect(h.toString('latin1', 0, 22)).toBe('070701000000AB000081A4');
    expect(h.byteLength % 4).toBe(0);
    expect(h.byteLength).toBe(116); // 110 + 4 (name+NUL) + 2 padding
    const d = decodeNewcHeader(h);
    expect(d).toMatchObject({ ino: 0xab, mode: 0o100644, mtime: 1234, filesize: 5, namesize: 4, crc: false });
  });

  it('rejects a bad magic and non-hex fields', () => {
    const h = encodeNewcHeader({ ino: 1, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: 0,
      devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0, check: 0 }, Buffer.from('x'));
    const bad = Buffer.from(h);
    bad.write('070707', 0, 'latin1');
    expect(() => decodeNewcHeader(bad)).toThrow(/magic/);
    const bad2 = Buffer.from(h);
    bad2.write('zz', 10, 'latin1');
    expect(() => decodeNewcHeader(bad2)).toThrow(/not hex/);
  });

  it('refuses fields that do not fit 32 bits', () => {
    expect(() => encodeNewcHeader({ ino: 1, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 2 ** 32, filesize: 0,
      devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0, check: 0 }, Buffer.from('x'))).toThrow(ImagekitError);
  });
});

describe('newc writer', () => {
  const tree: FileEntry[] = [
    dirEntry('d', { mtime: 7 }),
    dirEntry('d/e', { mtime: 7 }),
    fileFromBytes('d/e/f', 'x\n', { mtime: 9, mode: 0o600 }),
    { path: 'd/p', type: 'fifo', mode: 0o644, uid: 5, gid: 6, mtime: 1, size: 0 },
    { path: 'dev', type: 'char', mode: 0o600, uid: 0, gid: 0, mtime: 1, size: 0, devMajor: 1, devMinor: 3 },
    { path: 'l', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 1, size: 0, linkTarget: 'd/e/f' },
  ];

  it('writes renumbered inodes, directory link counts, forced owner and mtime, trailer and 512 padding', async () => {
    const bytes = await newcBytes(tree, { owner: { uid: 0, gid: 0 }, mtime: 42 });
    expect(bytes.byteLength % 512).toBe(0);
    const members = await readNewcAll(bytes);
    expect(members.map((m) => [m.name, m.type, m.header.ino, m.header.nlink, m.header.uid, m.header.mtime])).toEqual([
      ['d', 'dir', 0, 3, 0, 42],
      ['d/e', 'dir', 1, 2, 0, 42],
      ['d/e/f', 'file', 2, 1, 0, 42],
      ['d/p', 'fifo', 3, 1, 0, 42],
      ['dev', 'char', 4, 1, 0, 42],
      ['l', 'symlink', 5, 1, 0, 42],
    ]);
    expect(members[2]!.data.toString()).toBe('x\n');
    expect(members[2]!.permissions).toBe(0o600);
    expect(members[4]!.header).toMatchObject({ rdevmajor: 1, rdevminor: 3, devmajor: 0, devminor: 0 });
    expect(members[5]!.data.toString()).toBe('d/e/f');
    expect(bytes.includes(Buffer.from(TRAILER_NAME))).toBe(true);
  });

  it('keeps the entry owner and mtime without options, and can skip the block padding', async () => {
    const bytes = await newcBytes(tree, { blockSize: 1 });
    expect(bytes.byteLength % 4).toBe(0);
    const members = await readNewcAll(bytes);
    expect(members[3]!.header).toMatchObject({ uid: 5, gid: 6, mtime: 1 });
  });

  it('gives hard links one inode, writes the group where its last link is listed, data on that one', async () => {
    const t: FileEntry[] = [
      fileFromBytes('a', 'hello'),
      { path: 'b', type: 'hardlink', mode: 0, uid: 0, gid: 0, mtime: 0, size: 0, linkTarget: 'a' },
      fileFromBytes('c', 'other'),
      { path: 'z', type: 'hardlink', mode: 0, uid: 0, gid: 0, mtime: 0, size: 0, linkTarget: 'b' },
    ];
    const m = await readNewcAll(await newcBytes(t));
    expect(m.map((x) => [x.name, x.header.ino, x.header.nlink, x.header.filesize])).toEqual([
      ['c', 1, 1, 5], ['a', 0, 3, 0], ['b', 0, 3, 0], ['z', 0, 3, 5],
    ]);
    expect(m[3]!.data.toString()).toBe('hello');
  });

  it('fails clearly on bad input', async () => {
    await expect(newcBytes([fileFromBytes('a', 'x'), fileFromBytes('a', 'y')])).rejects.toThrow(/duplicate/);
    await expect(newcBytes([{ path: 'h', type: 'hardlink', mode: 0, uid: 0, gid: 0, mtime: 0, size: 0, linkTarget: 'nope' }]))
      .rejects.toThrow(/missing member/);
    const lying: FileEntry = { ...fileFromBytes('a', 'abc'), size: 5 };
    await expect(newcBytes([lying])).rejects.toMatchObject({ code: 'E_CPIO_SIZE_MISMATCH' });
    const longer: FileEntry = { ...fileFromBytes('a', 'abcdef'), size: 2 };
    await expect(newcBytes([longer])).rejects.toMatchObject({ code: 'E_CPIO_SIZE_MISMATCH' });
  });

  it('streams content: the writer pulls chunks as they are consumed', async () => {
    let pulled = 0;
    const big: FileEntry = {
      path: 'big', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 64 * 65536,
      open: () => Readable.from((function* () {
        for (let i = 0; i < 64; i++) {
          pulled++;
          yield Buffer.alloc(65536, i);
        }
      })()),
    };
    const { newcArchive } = await import('../../../src/formats/cpio/index.js');
    const it = newcArchive([big]);
    await it.next(); // header
    await it.next(); // first chunk
    expect(pulled).toBeLessThan(8);
    let n = 0;
    for await (const c of it) n += c.byteLength;
    expect(pulled).toBe(64);
    expect(n).toBeGreaterThan(63 * 65536);
  });
});

describe('newc reader', () => {
  it('rejects truncated and corrupt archives with clear errors', async () => {
    const good = await newcBytes([fileFromBytes('a', 'hello world')]);
    await expect(readNewcAll(good.subarray(0, 50))).rejects.toMatchObject({ code: 'E_CPIO_TRUNCATED' });
    await expect(readNewcAll(good.subarray(0, 120))).rejects.toMatchObject({ code: 'E_CPIO_TRUNCATED' });
    const noTrailer = good.subarray(0, good.indexOf(Buffer.from('070701', 'latin1'), 10));
    await expect(readNewcAll(noTrailer)).rejects.toThrow(/without TRAILER/);
    const hugeName = Buffer.from(good);
    hugeName.write('FFFFFFFF', 6 + 11 * 8, 'latin1');
    await expect(readNewcAll(hugeName)).rejects.toMatchObject({ code: 'E_CPIO_NAME' });
    await expect(readNewcAll(Buffer.alloc(0))).rejects.toThrow(/empty/);
  });

  it('reads concatenated archives with zero padding between them', async () => {
    const a = await newcBytes([fileFromBytes('one', '1')]);
    const b = await newcBytes([fileFromBytes('two', '22')]);
    const both = Buffer.concat([a, Buffer.alloc(1024), b]);
    expect((await readNewcAll(both)).map((m) => m.name)).toEqual(['one']);
    expect((await readNewcAll(both, { concatenated: true })).map((m) => m.name)).toEqual(['one', 'two']);
  });

  it('round-trips random trees through any chunking (property)', async () => {
    const name = fc.stringMatching(/^[a-zA-Z0-9._\u00e9\u4e2d-]{1,12}$/);
    const entry = fc.record({
      name,
      kind: fc.constantFrom('file', 'dir', 'symlink', 'fifo'),
      data: fc.uint8Array({ maxLength: 300 }),
      mode: fc.integer({ min: 0, max: 0o7777 }),
      mtime: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    });
    await fc.assert(fc.asyncProperty(fc.uniqueArray(entry, { selector: (e) => e.name, maxLength: 20 }), fc.integer({ min: 1, max: 700 }), async (list, chunk) => {
      const t: FileEntry[] = list.map((e) => {
        if (e.kind === 'file') return fileFromBytes(e.name, e.data, { mode: e.mode, mtime: e.mtime });
        if (e.kind === 'dir') return dirEntry(e.name, { mode: e.mode, mtime: e.mtime });
        if (e.kind === 'symlink') return { path: e.name, type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: e.mtime, size: 0, linkTarget: Buffer.from(e.data).toString('hex') || 'x' };
        return { path: e.name, type: 'fifo', mode: e.mode, uid: 0, gid: 0, mtime: e.mtime, size: 0 };
      });
      const bytes = await newcBytes(t);
      const back = await readNewcAll(chunked(bytes, chunk));
      expect(back.map((m) => m.name)).toEqual(t.map((e) => e.path));
      back.forEach((m, i) => {
        const e = t[i]!;
        expect(m.type).toBe(e.type);
        expect(m.header.mtime).toBe(e.mtime);
        if (e.type === 'file') expect(Buffer.compare(m.data, Buffer.from(list[i]!.data))).toBe(0);
        if (e.type === 'symlink') expect(m.data.toString()).toBe(e.linkTarget);
      });
    }), { seed: 42, numRuns: 60 });
  });
});
