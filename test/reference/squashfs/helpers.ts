/** Shared pieces for the squashfs reference tests: a source tree on disk, tar parsing, image writing. */
import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { SparseFileSink } from '../../../src/core/sink.js';
import type { FileTree } from '../../../src/core/file-tree.js';
import {
  createInProcessCompressor, writeSquashfs, type SquashfsBlockCompressor, type SquashfsCompression, type SquashfsWriteOptions,
} from '../../../src/formats/squashfs/index.js';

export const SDE = 1_700_000_000;

/** Deterministic pseudo-random bytes (xorshift), compressible enough to exercise real blocks. */
export function pseudoRandom(n: number, seed: number, text = false): Buffer {
  const b = Buffer.alloc(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = text ? 97 + ((x >>> 0) % 26) : (x >>> 0) % 7 === 0 ? x & 0xff : (x >>> 8) & 0x0f;
  }
  return b;
}

/** A tree with every feature the writer has, laid out on disk. */
export function makeSourceTree(root: string): void {
  const w = (p: string, data: Buffer | string) => {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), data);
  };
  mkdirSync(root, { recursive: true });
  w('etc/small.txt', 'hello squashfs\n');
  w('etc/empty', '');
  w('etc/one', 'x');
  w('data/exact-128k', pseudoRandom(131072, 1));
  w('data/exact-256k', pseudoRandom(262144, 2));
  w('data/odd-300000', pseudoRandom(300000, 3));
  w('data/sparse', Buffer.concat([pseudoRandom(1000, 4), Buffer.alloc(3 * 131072), pseudoRandom(5000, 5)]));
  w('data/all-zero', Buffer.alloc(2 * 131072));
  w('data/dup-a', pseudoRandom(200000, 6));
  w('data/dup-b', pseudoRandom(200000, 6));
  w('data/dup-small-a', 'same small content');
  w('data/dup-small-b', 'same small content');
  w('data/incompressible', (() => {
    const b = Buffer.alloc(150000);
    let x = 12345;
    for (let i = 0; i < b.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      b[i] = x >>> 24;
    }
    return b;
  })());
  w('uni/café-中文-😀', 'unicode name');
  w(`uni/${'n'.repeat(255)}`, 'long name');
  let deep = 'deep';
  for (let i = 0; i < 25; i++) deep += `/d${i}`;
  w(`${deep}/leaf`, 'deep leaf');
  mkdirSync(join(root, 'empty-dir'));
  mkdirSync(join(root, 'private'));
  chmodSync(join(root, 'private'), 0o700);
  w('bin/setuid', 'suid');
  chmodSync(join(root, 'bin/setuid'), 0o4755);
  symlinkSync('../etc/small.txt', join(root, 'bin/link'));
  symlinkSync('/' + 'long/'.repeat(800) + 'target', join(root, 'bin/long-link'));
  linkSync(join(root, 'etc/small.txt'), join(root, 'bin/hardlink'));
  execFileSync('mkfifo', [join(root, 'bin/fifo')]);
  // A directory large enough to need a directory index (listing > 8 KiB).
  for (let i = 0; i < 600; i++) w(`big/entry-${String(i).padStart(5, '0')}-${'x'.repeat(i % 40)}`, `file ${i}\n`);
  execFileSync('sh', ['-c', `find . -exec touch -h -d @${SDE - 1000} {} +`], { cwd: root });
  execFileSync('touch', ['-h', '-d', `@${SDE + 5000}`, join(root, 'etc/small.txt')]);
}

export async function writeImage(tree: FileTree, path: string, compression: SquashfsCompression, extra: Partial<SquashfsWriteOptions> = {},
  compressor?: SquashfsBlockCompressor) {
  const sink = await SparseFileSink.create(path);
  try {
    return await writeSquashfs(tree, sink, {
      compression,
      compressor: compressor ?? await createInProcessCompressor(compression, extra.blockSize ?? 131072),
      mkfsTime: SDE,
      allRoot: true,
      ...extra,
    });
  } finally {
    await sink.close();
  }
}

export interface TarMember {
  name: string;
  type: string;
  mode: number;
  size: number;
  linkname: string | null;
  data: Buffer;
}

export async function parseTar(bytes: Buffer): Promise<TarMember[]> {
  const out: TarMember[] = [];
  const ex = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      const parts: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        parts.push(c as Buffer);
      });
      stream.on('end', () => {
        out.push({ name: h.name.replace(/\/$/, ''), type: h.type ?? 'file', mode: h.mode ?? 0, size: h.size ?? 0, linkname: h.linkname ?? null, data: Buffer.concat(parts) });
        next();
      });
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  Readable.from([bytes]).pipe(ex);
  await done;
  return out;
}
