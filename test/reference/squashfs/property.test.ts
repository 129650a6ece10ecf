/**
 * Property: random trees (unicode names, deep directories, empty files, exact block multiples, many
 * small files, long symlinks, hard links) round-trip through sqfs2tar — a reader we did not write.
 */
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirEntry, fileFromBytes, type FileEntry } from '../../../src/core/file-tree.js';
import { missingTools, tempDir } from '../../helpers/tools.js';
import { parseTar, writeImage } from './helpers.js';

const skip = missingTools('sqfs2tar');
const BLOCK = 4096;

const nameArb = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 })
  .filter((s) => !s.includes('/') && !s.includes('\0') && s !== '.' && s !== '..' && Buffer.byteLength(s) <= 255);

const contentArb = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.constantFrom(BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK, 3 * BLOCK + 17).chain((n) =>
    fc.constantFrom('zero', 'ramp', 'byte').map((kind) => {
      const b = Buffer.alloc(n);
      if (kind === 'ramp') for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
      if (kind === 'byte') b.fill(0x5a);
      return b;
    })),
);

type Spec = { path: string[]; kind: 'file' | 'dir' | 'symlink' | 'hardlink'; content: Buffer; target: string };

const specArb = fc.record({
  path: fc.array(nameArb, { minLength: 1, maxLength: 6 }),
  kind: fc.constantFrom('file', 'file', 'file', 'dir', 'symlink', 'hardlink'),
  content: contentArb,
  target: fc.string({ minLength: 1, maxLength: 3000 }).map((s) => s.replace(/\0/g, 'x')),
}) as fc.Arbitrary<Spec>;

/** Turn specs into a valid FileTree: later paths that collide with earlier ones are dropped. */
function toTree(specs: Spec[]): FileEntry[] {
  const kinds = new Map<string, string>();
  const out: FileEntry[] = [];
  const files: string[] = [];
  for (const s of specs) {
    const path = s.path.join('/');
    let ok = !kinds.has(path);
    for (let i = 1; i < s.path.length && ok; i++) {
      const k = kinds.get(s.path.slice(0, i).join('/'));
      if (k && k !== 'dir') ok = false;
    }
    if (ok && s.kind !== 'dir') {
      // nothing may live below a non-directory
      for (const k of kinds.keys()) if (k.startsWith(path + '/')) ok = false;
    }
    if (!ok) continue;
    for (let i = 1; i < s.path.length; i++) kinds.set(s.path.slice(0, i).join('/'), 'dir');
    if (s.kind === 'hardlink' && files.length === 0) continue;
    kinds.set(path, s.kind);
    if (s.kind === 'file') {
      out.push(fileFromBytes(path, s.content, { mode: 0o640 }));
      files.push(path);
    } else if (s.kind === 'dir') out.push(dirEntry(path, { mode: 0o750 }));
    else if (s.kind === 'symlink') out.push({ path, type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, size: 0, linkTarget: s.target });
    else out.push({ path, type: 'hardlink', mode: 0o640, uid: 0, gid: 0, mtime: 0, size: 0, linkTarget: files[s.content.length % files.length]! });
  }
  return out;
}

describe.skipIf(skip)('random trees through sqfs2tar', () => {
  let dir = '';
  let cleanup = () => {};
  beforeAll(() => ({ dir, cleanup } = tempDir('imagekit-sqfs-prop-')));
  afterAll(() => cleanup());

  it('every entry comes back with its type, mode, content and link target', async () => {
    let run = 0;
    await fc.assert(fc.asyncProperty(fc.array(specArb, { minLength: 1, maxLength: 40 }), fc.boolean(), async (specs, tailEnds) => {
      const tree = toTree(specs);
      const image = join(dir, `p${run++}.sqsh`);
      await writeImage(tree, image, { algorithm: 'zstd', level: 3 }, { blockSize: BLOCK, tailEnds, allRoot: false });
      const members = await parseTar(execFileSync('sqfs2tar', ['--no-skip', image], { maxBuffer: 1 << 28 }));
      rmSync(image);
      const byName = new Map(members.map((m) => [m.name, m]));
      const fileEntries = new Map(tree.filter((e) => e.type === 'file').map((e) => [e.path, e]));
      // sqfs2tar writes the first name of a multiply-linked inode with the data, later ones as links.
      const dataOf = (name: string): Buffer => {
        const m = byName.get(name)!;
        return m.type === 'link' ? byName.get(m.linkname!)!.data : m.data;
      };
      for (const e of tree) {
        const m = byName.get(e.path);
        expect(m, e.path).toBeDefined();
        if (e.type === 'file' || e.type === 'hardlink') {
          const source = e.type === 'file' ? e : fileEntries.get(e.linkTarget!)!;
          expect(Buffer.compare(dataOf(e.path), await readAll(source)), e.path).toBe(0);
          expect(m!.mode & 0o7777).toBe(0o640);
        } else if (e.type === 'symlink') {
          expect(m!.linkname).toBe(e.linkTarget);
        } else if (e.type === 'dir') {
          expect(m!.type).toBe('directory');
          expect(m!.mode & 0o7777).toBe(0o750);
        }
      }
    }), { seed: 42, numRuns: 30 });
  });
});

async function readAll(e: FileEntry): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of e.open!()) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
