/**
 * FileTree: what layer flattening produces and what the squashfs, FAT, cpio and ISO writers consume
 * (design.md "Seams"). Entries are ordered as produced; each writer applies its own sort rule.
 * Content is opened lazily so a tree can describe gigabytes without holding them.
 */
import { Readable } from 'node:stream';
import { invalidInput } from './errors.js';

export type FileType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface FileEntry {
  /** Relative POSIX path without leading `./` or `/`, no `..` segment, no empty segment. */
  path: string;
  type: FileType;
  /** Permission bits and set-id/sticky bits only (no S_IFMT type bits). */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. Writers replace it with SOURCE_DATE_EPOCH where the format asks. */
  mtime: number;
  /** Content length for `file`; 0 otherwise. */
  size: number;
  /** Symlink target (any string), or for `hardlink` the path of the entry it links to. */
  linkTarget?: string;
  /** Device numbers for char/block. */
  devMajor?: number;
  devMinor?: number;
  /** Extended attributes, e.g. `security.selinux` (talos-imager.md §4.5). */
  xattrs?: Record<string, Uint8Array>;
  /** Open the content (files only). May be called more than once. */
  open?: () => Readable;
}

export type FileTree = FileEntry[];

/** Make a safe relative path from a path read from input; reject anything escaping the root. */
export function safeRelativePath(raw: string): string {
  if (raw.includes('\0')) throw invalidInput('E_UNSAFE_PATH', `path contains a NUL byte: ${JSON.stringify(raw)}`);
  const parts: string[] = [];
  for (const seg of raw.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') throw invalidInput('E_UNSAFE_PATH', `path escapes the tree: ${JSON.stringify(raw)}`);
    parts.push(seg);
  }
  return parts.join('/');
}

/** Content helpers. */
export function bytesSource(data: Uint8Array): () => Readable {
  return () => Readable.from([Buffer.from(data.buffer, data.byteOffset, data.byteLength)], { objectMode: false });
}

export function fileFromBytes(path: string, data: Uint8Array | string, opts: Partial<FileEntry> = {}): FileEntry {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: bytes.byteLength, open: bytesSource(bytes), ...opts };
}

export function dirEntry(path: string, opts: Partial<FileEntry> = {}): FileEntry {
  return { path, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0, ...opts };
}

/** Read an entry's whole content (small files only: tests, manifests). */
export async function readEntry(entry: FileEntry): Promise<Buffer> {
  if (!entry.open) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const c of entry.open()) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}
