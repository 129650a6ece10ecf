/**
 * Our squashfs images read by tools nobody here wrote: unsquashfs (squashfs-tools 4.5), sqfs2tar,
 * rdsquashfs and sqfsdiff (squashfs-tools-ng), and compared with mksquashfs's own image of the same tree.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileTreeFromDirectory } from '../../../src/boot/extensions/directory-tree.js';
import type { FileTree } from '../../../src/core/file-tree.js';
import { defaultBlockCompressor } from '../../../src/boot/extensions/index.js';
import type { SquashfsCompression } from '../../../src/formats/squashfs/index.js';
import { missingTools, runTool, tempDir } from '../../helpers/tools.js';
import { makeSourceTree, parseTar, SDE, writeImage } from './helpers.js';

const skip = missingTools('mksquashfs', 'unsquashfs', 'sqfs2tar', 'rdsquashfs', 'sqfsdiff', 'mkfifo');
const env = { ...process.env, SOURCE_DATE_EPOCH: String(SDE), TZ: 'UTC', LC_ALL: 'C' };

/** unsquashfs -lls without the header lines, with the extraction dir prefix removed. */
function lls(image: string): string[] {
  const r = runTool('unsquashfs', ['-lls', '-UTC', image], { env });
  expect(r.status, r.stderr).toBe(0);
  // Directory sizes are listing sizes, which depend on the inode layout: blank them.
  return r.stdout.split('\n').filter((l) => /^[-dlcbps]/.test(l)).map((l) => l.replace(' squashfs-root', ' '))
    .map((l) => (l.startsWith('d') ? l.replace(/^(\S+ \S+)\s+\d+/, '$1 <dir>') : l));
}

function superInfo(image: string): string {
  const r = runTool('unsquashfs', ['-s', image], { env });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe.skipIf(skip)('squashfs images against squashfs-tools and squashfs-tools-ng', () => {
  let dir = '';
  let cleanup = () => {};
  let src = '';
  let tree: FileTree = [];
  beforeAll(async () => {
    ({ dir, cleanup } = tempDir('imagekit-sqfs-'));
    src = join(dir, 'src');
    makeSourceTree(src);
    tree = await fileTreeFromDirectory(src, { includeRoot: true });
  });
  afterAll(() => cleanup());

  const cases: Array<[string, SquashfsCompression, string[]]> = [
    ['zstd-18', { algorithm: 'zstd', level: 18 }, ['-comp', 'zstd', '-Xcompression-level', '18']],
    ['gzip', { algorithm: 'gzip' }, ['-comp', 'gzip']],
    // Talos < 1.8: `-comp xz -Xdict-size 100%` (dictionary = block size, CRC32)
    ['xz', { algorithm: 'xz', dictSize: 131072 }, ['-comp', 'xz', '-Xdict-size', '100%']],
  ];

  for (const [label, compression, mkArgs] of cases) {
    describe(label, () => {
      let ours = '';
      let ref = '';
      beforeAll(async () => {
        ours = join(dir, `ours-${label}.sqsh`);
        ref = join(dir, `ref-${label}.sqsh`);
        // The worker-pool compressors of src/compress, as the pipeline uses them.
        const compressor = await defaultBlockCompressor(compression, 131072);
        try {
          await writeImage(tree, ours, compression, {}, compressor);
        } finally {
          await compressor.close?.();
        }
        const r = runTool('mksquashfs', [src, ref, '-all-root', '-noappend', '-no-progress', ...mkArgs], { env });
        expect(r.status, r.stderr).toBe(0);
      });

      it('unsquashfs -s reports what mksquashfs reports', () => {
        const a = superInfo(ours).split('\n').filter((l) => !/Filesystem size/.test(l));
        const b = superInfo(ref).split('\n').filter((l) => !/Filesystem size/.test(l));
        expect(a.slice(1)).toEqual(b.slice(1));
        expect(superInfo(ours)).toContain({ gzip: 'Compression gzip', xz: 'Compression xz', 'zstd-18': 'compression-level 18' }[label]);
      });

      it('unsquashfs -lls lists the same names, modes, owners, sizes, times and link targets as mksquashfs', () => {
        const a = lls(ours);
        expect(a.length).toBeGreaterThan(600);
        expect(a).toEqual(lls(ref));
      });

      it('sqfsdiff finds no difference with mksquashfs (contents, timestamps, inode numbers)', () => {
        const r = runTool('sqfsdiff', ['-T', '-I', '-a', ref, '-b', ours]);
        expect(r.stdout + r.stderr).toBe('');
        expect(r.status).toBe(0);
      });

      it('sqfs2tar extracts every file byte for byte as in the source tree', async () => {
        const tarBytes = execFileSync('sqfs2tar', [ours], { maxBuffer: 1 << 28 });
        const members = await parseTar(tarBytes);
        const byName = new Map(members.map((m) => [m.name, m]));
        let files = 0;
        for (const e of tree) {
          if (e.path === '') continue;
          const m = byName.get(e.path);
          expect(m, e.path).toBeDefined();
          const st = lstatSync(join(src, e.path));
          if (e.type === 'file') {
            expect(m!.type).toBe('file');
            expect(Buffer.compare(m!.data, readFileSync(join(src, e.path))), e.path).toBe(0);
            files++;
          } else if (e.type === 'symlink') {
            expect(m!.linkname).toBe(readlinkSync(join(src, e.path)));
          } else if (e.type === 'hardlink') {
            expect(m!.type).toBe('link');
          }
          expect(m!.mode & 0o7777, e.path).toBe(st.mode & 0o7777);
        }
        expect(files).toBeGreaterThan(600);
      });

      it('rdsquashfs unpacks a tree identical to the source (diff -r)', () => {
        const out = join(dir, `unpack-${label}`);
        const r = runTool('rdsquashfs', ['-u', '/', '-p', out, '-C', ours]);
        expect(r.status, r.stderr).toBe(0);
        const d = runTool('diff', ['-r', '--no-dereference', '-x', 'fifo', src, out]);
        expect(d.stdout + d.stderr).toBe('');
        expect(statSync(join(out, 'private')).mode & 0o777).toBe(0o700);
      });

      it('finds files through the large directory and reports the extended directory inode', () => {
        const cat = runTool('rdsquashfs', ['-c', '/big/entry-00599-' + 'x'.repeat(599 % 40), ours]);
        expect(cat.stdout).toBe('file 599\n');
        const st = runTool('rdsquashfs', ['-s', '/big', ours]);
        expect(st.stdout).toMatch(/Inode type: extended directory/);
        expect(st.stdout).toMatch(/Directory index entries: [1-9]/);
      });

      it('is no more than 2 % larger than the mksquashfs image', () => {
        const a = statSync(ours).size;
        const b = statSync(ref).size;
        console.log(`${label}: ours ${a} bytes, mksquashfs ${b} bytes`);
        expect(a).toBeLessThanOrEqual(b * 1.02);
      });
    });
  }
});
