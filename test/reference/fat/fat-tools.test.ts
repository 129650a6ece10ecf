/**
 * FAT images we write, as dosfstools and mtools see them: `fsck.vfat -n -v` finds nothing to fix,
 * `minfo` reports our geometry, `mdir` shows our names, and `mcopy -s` reads every file back byte
 * for byte (random trees with awkward names, fixed seed). Short names are compared with the ones
 * mtools itself generates for the same names.
 */
import fc from 'fast-check';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dirEntry, fileFromBytes, type FileTree } from '../../../src/core/file-tree.js';
import { SparseFileSink } from '../../../src/core/sink.js';
import { writeFat, type FatType, type FatWriteOptions } from '../../../src/formats/fat/index.js';
import { missingTools, runTool, tempDir } from '../../helpers/tools.js';

const tmp = tempDir('imagekit-fat-');
afterAll(() => tmp.cleanup());
const skip = missingTools('fsck.vfat', 'mcopy', 'mdir', 'minfo', 'mkfs.vfat');
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1', LC_ALL: 'C.UTF-8' };
const repro = { sourceDateEpoch: 1700000000, seed: 'fat-tools' };
const MiB = 1024 * 1024;

let n = 0;
async function build(tree: FileTree, opts: Partial<FatWriteOptions> & { size: number }) {
  const path = join(tmp.dir, `fat-${n++}.img`);
  const sink = await SparseFileSink.create(path);
  const result = await writeFat(sink, 0, tree, { repro, label: 'EFI', ...opts });
  await sink.close();
  return { path, result };
}

function fsckClean(path: string) {
  const r = runTool('fsck.vfat', ['-n', '-v', path]);
  expect(r.status, r.stdout + r.stderr).toBe(0);
  expect(r.stdout + r.stderr).not.toMatch(/differ|wrong|truncat|reclaim|share|invalid|correct|orphan|bad|free cluster summary wrong/i);
  return r.stdout;
}

/** Read everything back with mcopy into a fresh directory; return path → content (dirs: null). */
function readBack(img: string): Map<string, Buffer | null> {
  const out = join(tmp.dir, `out-${n++}`);
  mkdirSync(out);
  const r = runTool('mcopy', ['-s', '-n', '-i', img, '::*', out + '/'], { env });
  const found = new Map<string, Buffer | null>();
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const q = rel ? `${rel}/${name}` : name;
      if (statSync(p).isDirectory()) {
        found.set(q, null);
        walk(p, q);
      } else {
        found.set(q, readFileSync(p));
      }
    }
  };
  walk(out, '');
  if (found.size > 0) expect(r.status, r.stderr).toBe(0);
  return found;
}

function expected(tree: FileTree, contents: Map<string, Buffer>): Map<string, Buffer | null> {
  const m = new Map<string, Buffer | null>();
  for (const e of tree) {
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) m.set(parts.slice(0, i).join('/'), null);
    m.set(e.path, e.type === 'dir' ? null : contents.get(e.path)!);
  }
  return m;
}

/** Names: letters of both cases, digits, spaces, dots, symbols 8.3 cannot hold, some non-ASCII. */
const nameArb = fc
  .array(fc.constantFrom(...'aAbBzZ019 .-_~+,;=[]()!#$%&\'@^`{}éßЖ中'.split('')), { minLength: 1, maxLength: 30 })
  .map((a) => a.join(''))
  .filter((s) => s !== '.' && s !== '..' && !/[. ]$/.test(s));

const treeArb = fc
  .array(
    fc.record({
      dir: fc.array(nameArb, { maxLength: 3 }),
      name: nameArb,
      isDir: fc.boolean(),
      size: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 300_000 })),
      seed: fc.integer({ min: 0, max: 255 }),
    }),
    { minLength: 1, maxLength: 25 },
  )
  .map((items) => {
    // keep only items whose path is case-insensitively unique and never both a file and a directory
    const tree: FileTree = [];
    const contents = new Map<string, Buffer>();
    const seen = new Map<string, { path: string; kind: 'file' | 'dir' }>();
    for (const it of items) {
      const parts = [...it.dir, it.name];
      const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
      const ok = prefixes.every((p, i) => {
        const have = seen.get(p.toUpperCase());
        const last = i === parts.length - 1;
        if (!have) return true;
        return !last && have.path === p && have.kind === 'dir';
      });
      if (!ok) continue;
      prefixes.forEach((p, i) => seen.set(p.toUpperCase(), { path: p, kind: i === parts.length - 1 && !it.isDir ? 'file' : 'dir' }));
      const path = prefixes[prefixes.length - 1]!;
      if (it.isDir) {
        tree.push(dirEntry(path));
      } else {
        const data = Buffer.alloc(it.size);
        for (let i = 0; i < data.length; i++) data[i] = (i * 31 + it.seed * 7 + (i >> 8)) & 0xff;
        contents.set(path, data);
        tree.push(fileFromBytes(path, data));
      }
    }
    return { tree, contents };
  });

describe.skipIf(skip)('FAT vs fsck.vfat and mtools', () => {
  it('Talos ESP (FAT32, 4 KiB clusters): fsck clean, minfo geometry, mcopy read-back', async () => {
    const uki = Buffer.alloc(5 * MiB + 123);
    for (let i = 0; i < uki.length; i += 4096) uki[i] = i & 0xff;
    const tree: FileTree = [
      fileFromBytes('loader/loader.conf', '# systemd-boot configuration\n\ntimeout 10\n'),
      fileFromBytes('EFI/Linux/Talos-v1.14.0.efi', uki),
      fileFromBytes('EFI/boot/BOOTX64.efi', Buffer.alloc(140891, 0x4d)),
    ];
    const { path, result } = await build(tree, { size: 2101 * MiB, fatType: 32, volumeId: 0x1234abcd });
    expect(result.geometry.clusterSize).toBe(4096);
    expect(statSync(path).blocks * 512).toBeLessThan(16 * MiB); // sparse: only metadata + content
    const out = fsckClean(path);
    expect(out).toContain('4096 bytes per cluster');
    expect(out).toContain('32 reserved sectors');
    const info = runTool('minfo', ['-i', path, '::'], { env });
    expect(info.stdout).toMatch(/serial number: 1234ABCD/i);
    expect(info.stdout).toContain('disk label="EFI        "');
    expect(info.stdout).toMatch(/cluster size: 8 sectors/);
    expect(info.stdout).toContain('backup boot sector=6');
    const dir = runTool('mdir', ['-/', '-a', '-i', path, '::'], { env });
    expect(dir.stdout).toContain('Volume Serial Number is 1234-ABCD');
    expect(dir.stdout).toMatch(/BOOTX64 +efi +140891 2023-11-14 +22:13/);
    expect(dir.stdout).toMatch(/TALOS-~1 EFI +5243003 .* Talos-v1\.14\.0\.efi/);
    expect(dir.stdout).toMatch(/LOADER~1 CON +41 .* loader\.conf/);
    const back = readBack(path);
    expect(back.get('EFI/Linux/Talos-v1.14.0.efi')?.equals(uki)).toBe(true);
    expect(back.get('loader/loader.conf')?.toString()).toBe('# systemd-boot configuration\n\ntimeout 10\n');
  });

  for (const [type, size, ss] of [[32, 100 * MiB, 512], [32, 260 * MiB, 4096], [16, 32 * MiB, 512], [12, 2 * MiB, 512]] as [FatType, number, number][]) {
    it(`random trees on FAT${type} ${size / MiB} MiB, ${ss}-byte sectors: fsck clean, mcopy equals the source`, async () => {
      await fc.assert(
        fc.asyncProperty(treeArb, async ({ tree, contents }) => {
          const total = [...contents.values()].reduce((s, b) => s + b.length, 0);
          if (total > size / 2) return;
          const { path } = await build(tree, { size, fatType: type, sectorSize: ss });
          fsckClean(path);
          const back = readBack(path);
          const want = expected(tree, contents);
          expect([...back.keys()].sort()).toEqual([...want.keys()].sort());
          for (const [p, c] of want) {
            if (c === null) expect(back.get(p), p).toBeNull();
            else expect(back.get(p)?.equals(c), p).toBe(true);
          }
        }),
        { seed: 42, numRuns: type === 32 && ss === 512 ? 12 : 5 },
      );
    });
  }

  it('short names match the ones mtools generates', async () => {
    const names = [
      'BOOTX64.efi', 'loader.conf', 'Talos-v1.14.0.efi', 'Talos-v1.14.1.efi', 'a b.txt', 'UPPER.TXT', 'lower.txt',
      '.hidden', 'x.y.z', 'verylongname.tar.gz', 'Mixed.Txt', 'ab+c.txt', 'ab[c.txt', 'abcdefgh.ijk', 'abcdefghi',
      'README', 'readme.md', 'a.b', 'A.B.C', 'with space', '~tilde', '__init__.py', 'ABCDEFGH~1', 'v1.2.3',
    ].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    // ours
    const { path } = await build(names.map((nm) => fileFromBytes(`d/${nm}`, nm)), { size: 100 * MiB, fatType: 32 });
    const ourDir = runTool('mdir', ['-/', '-a', '-i', path, '::/d'], { env }).stdout;
    // mtools': copy the same files, in the same (sorted) order, into a mkfs.vfat image
    const src = join(tmp.dir, `names-${n++}`);
    mkdirSync(src);
    for (const nm of names) writeFileSync(join(src, nm), nm);
    const img = join(tmp.dir, `mtools-${n++}.img`);
    expect(runTool('mkfs.vfat', ['-F', '32', '-n', 'EFI', '--invariant', '-C', img, String(100 * 1024)]).status).toBe(0);
    expect(runTool('mmd', ['-i', img, '::/d'], { env }).status).toBe(0);
    for (const nm of names) expect(runTool('mcopy', ['-i', img, join(src, nm), `::/d/${nm}`], { env }).status).toBe(0);
    const theirDir = runTool('mdir', ['-/', '-a', '-i', img, '::/d'], { env }).stdout;
    const shortOf = (listing: string) =>
      new Map(
        listing
          .split('\n')
          .filter((l) => /^\S/.test(l) && !/^(\.|Directory|Volume|Total| )/.test(l) && /\d{4}-\d\d-\d\d/.test(l))
          .map((l) => {
            const short = l.slice(0, 12).trimEnd();
            const long = l.slice(l.search(/\d+:\d\d/)).replace(/^\d+:\d\d\s*/, '');
            return [long || short.replace(/\s+/, '.'), short] as [string, string];
          }),
      );
    const ours = shortOf(ourDir);
    const theirs = shortOf(theirDir);
    expect(ours.size).toBe(names.length);
    expect(ours).toEqual(theirs);
  });
});
