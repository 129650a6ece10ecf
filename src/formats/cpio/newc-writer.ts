/**
 * Streaming newc writer with GNU `cpio -H newc --create --reproducible -R +0:+0` semantics
 * (talos-imager.md §4.6): device numbers of the containing
 * file system written as 0, owner forced by `owner`, `TRAILER!!!`, output padded to 512 bytes.
 * Inodes are numbered from 0 in listing order; the members of a hard-link group share the number of
 * the first one and are written together where the last one is listed, the data on that last one.
 *
 * File content is pulled from `entry.open()` chunk by chunk and passed through without copying, so a
 * large member (a 100 MB squashfs) is never buffered.
 */
import { Readable } from 'node:stream';
import { invalidInput } from '../../core/errors.js';
import type { FileEntry, FileType } from '../../core/file-tree.js';
import {
  encodeNewcHeader, pad4, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, TRAILER_NAME,
} from './newc-header.js';

export interface NewcWriteOptions {
  /** Every member's mtime (SOURCE_DATE_EPOCH); default: the entry's own mtime. */
  mtime?: number;
  /** Owner written for every member (GNU `-R +0:+0` is `{ uid: 0, gid: 0 }`); default: the entry's. */
  owner?: { uid: number; gid: number };
  /** Pad the whole archive to a multiple of this many bytes (GNU cpio: 512). 1 disables. Default 512. */
  blockSize?: number;
}

const TYPE_BITS: Record<Exclude<FileType, 'hardlink'>, number> = {
  file: S_IFREG,
  dir: S_IFDIR,
  symlink: S_IFLNK,
  char: S_IFCHR,
  block: S_IFBLK,
  fifo: S_IFIFO,
};

const ZEROS = Buffer.alloc(512);

interface Planned {
  entry: FileEntry;
  /** The entry whose type/content this member has (itself unless a hard link). */
  source: FileEntry;
  name: Buffer;
  ino: number;
  nlink: number;
  /** Whether this member carries the content (false for all but the last link of a group). */
  carriesData: boolean;
}

function entryName(entry: FileEntry): Buffer {
  const name = entry.path === '' ? '.' : entry.path;
  if (name.includes('\0')) throw invalidInput('E_CPIO_NAME', `cpio member name contains NUL: ${JSON.stringify(name)}`);
  return Buffer.from(name, 'utf8');
}

/** Work out inode numbers, link counts and which link carries the data, before any byte is written. */
function plan(entries: readonly FileEntry[]): Planned[] {
  const byPath = new Map<string, FileEntry>();
  for (const e of entries) {
    if (byPath.has(e.path)) throw invalidInput('E_CPIO_DUPLICATE', `duplicate cpio member ${JSON.stringify(e.path)}`);
    byPath.set(e.path, e);
  }
  const resolve = (e: FileEntry): FileEntry => {
    let cur = e;
    for (let hops = 0; cur.type === 'hardlink'; hops++) {
      const next = cur.linkTarget === undefined ? undefined : byPath.get(cur.linkTarget);
      if (!next || hops > entries.length) {
        throw invalidInput('E_CPIO_HARDLINK', `hard link ${JSON.stringify(e.path)} points to a missing member ${JSON.stringify(cur.linkTarget)}`);
      }
      cur = next;
    }
    if (e.type === 'hardlink' && cur.type === 'dir') throw invalidInput('E_CPIO_HARDLINK', `hard link ${JSON.stringify(e.path)} points to a directory`);
    return cur;
  };

  // Hard-link groups keyed by their source entry; members in archive order.
  const sources = entries.map(resolve);
  const linked = new Set<FileEntry>();
  entries.forEach((e, i) => {
    if (e.type === 'hardlink') linked.add(sources[i]!);
  });
  const groups = new Map<FileEntry, number[]>();
  sources.forEach((src, i) => {
    if (!linked.has(src)) return;
    const g = groups.get(src) ?? [];
    g.push(i);
    groups.set(src, g);
  });

  // Directory link counts: 2 + direct subdirectories present in the listing (as on disk).
  const subdirs = new Map<string, number>();
  for (const e of entries) {
    if (e.type !== 'dir' || e.path === '') continue;
    const slash = e.path.lastIndexOf('/');
    const parent = slash < 0 ? '' : e.path.slice(0, slash);
    subdirs.set(parent, (subdirs.get(parent) ?? 0) + 1);
  }

  // Inode numbers in listing order from 0 (GNU `--renumber-inodes`); a group takes its first member's.
  let nextIno = 0;
  const groupIno = new Map<FileEntry, number>();
  const planned = entries.map((entry, i): Planned => {
    const source = sources[i]!;
    const group = groups.get(source);
    let ino: number;
    let nlink: number;
    let carriesData = true;
    if (group) {
      if (!groupIno.has(source)) groupIno.set(source, nextIno++);
      ino = groupIno.get(source)!;
      nlink = group.length;
      carriesData = group[group.length - 1] === i;
    } else {
      ino = nextIno++;
      nlink = source.type === 'dir' ? 2 + (subdirs.get(entry.path) ?? 0) : 1;
    }
    return { entry, source, name: entryName(entry), ino, nlink, carriesData };
  });

  // GNU cpio holds back the members of a link group until its last link is listed, then writes them
  // all there (data on the last one).
  const ordered: Planned[] = [];
  planned.forEach((p, i) => {
    const group = groups.get(p.source);
    if (!group) ordered.push(p);
    else if (group[group.length - 1] === i) for (const j of group) ordered.push(planned[j]!);
  });
  return ordered;
}

/**
 * The archive as a sequence of chunks (headers, content passed through, padding, trailer).
 * Content streams are opened one at a time, in order.
 */
export async function* newcArchive(entries: readonly FileEntry[], options: NewcWriteOptions = {}): AsyncGenerator<Buffer> {
  const blockSize = options.blockSize ?? 512;
  if (!Number.isInteger(blockSize) || blockSize < 1) throw invalidInput('E_CPIO_OPTIONS', `invalid cpio block size ${blockSize}`);
  const planned = plan(entries);
  let written = 0;

  for (const p of planned) {
    const { entry, source } = p;
    const type = source.type as Exclude<FileType, 'hardlink'>;
    let filesize = 0;
    let body: Buffer | null = null;
    if (type === 'symlink') {
      body = Buffer.from(source.linkTarget ?? '', 'utf8');
      filesize = body.byteLength;
    } else if (type === 'file' && p.carriesData) {
      filesize = source.size;
    }
    if (!Number.isSafeInteger(filesize) || filesize > 0xffffffff) {
      throw invalidInput('E_CPIO_TOO_LARGE', `${JSON.stringify(entry.path)} is larger than newc allows (4 GiB)`);
    }
    const isDev = type === 'char' || type === 'block';
    const header = encodeNewcHeader({
      ino: p.ino,
      mode: TYPE_BITS[type] | (source.mode & 0o7777),
      uid: options.owner ? options.owner.uid : source.uid,
      gid: options.owner ? options.owner.gid : source.gid,
      nlink: p.nlink,
      mtime: options.mtime ?? entry.mtime,
      filesize,
      devmajor: 0,
      devminor: 0,
      rdevmajor: isDev ? (source.devMajor ?? 0) : 0,
      rdevminor: isDev ? (source.devMinor ?? 0) : 0,
      check: 0,
    }, p.name);
    yield header;
    written += header.byteLength;

    if (body) {
      if (body.byteLength) yield body;
    } else if (filesize > 0) {
      if (!source.open) throw invalidInput('E_CPIO_NO_CONTENT', `${JSON.stringify(entry.path)} has no content source`);
      let got = 0;
      for await (const chunk of source.open() as AsyncIterable<Uint8Array | string>) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        got += buf.byteLength;
        if (got > filesize) break;
        if (buf.byteLength) yield buf;
      }
      if (got !== filesize) {
        throw invalidInput('E_CPIO_SIZE_MISMATCH', `${JSON.stringify(entry.path)}: content is ${got > filesize ? 'longer' : 'shorter'} than its declared size ${filesize}`);
      }
    }
    written += filesize;
    const pad = pad4(filesize);
    if (pad) yield ZEROS.subarray(0, pad);
    written += pad;
  }

  const trailer = encodeNewcHeader({
    ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: 0,
    devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0, check: 0,
  }, Buffer.from(TRAILER_NAME, 'latin1'));
  yield trailer;
  written += trailer.byteLength;

  let tail = (blockSize - (written % blockSize)) % blockSize;
  while (tail > 0) {
    const n = Math.min(tail, ZEROS.byteLength);
    yield Buffer.alloc(n);
    tail -= n;
  }
}

/** The archive as a Node stream (backpressure handled by `Readable.from`). */
export function newcStream(entries: readonly FileEntry[], options: NewcWriteOptions = {}): Readable {
  return Readable.from(newcArchive(entries, options), { objectMode: false });
}

/** The whole archive in memory (small archives: early microcode, tests). */
export async function newcBytes(entries: readonly FileEntry[], options: NewcWriteOptions = {}): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of newcArchive(entries, options)) parts.push(c);
  return Buffer.concat(parts);
}
