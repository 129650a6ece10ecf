/**
 * A streaming tar writer (ustar headers, PAX where a field does not fit). Deterministic: the bytes
 * depend only on the entries given. Used for layers we build (test images, installer images) and
 * for exporting a flattened FileTree.
 */
import { Readable } from 'node:stream';
import { assembly } from '../core/errors.js';
import type { FileEntry, FileTree } from '../core/file-tree.js';
import { encodeHeader, paddingFor, tarTrailer, type EncodeFields } from './tar-header.js';

export interface TarWriteEntry extends EncodeFields {
  /** File content: bytes, or a factory of a stream of exactly `size` bytes. */
  data?: Uint8Array | (() => Readable | AsyncIterable<Uint8Array>);
}

async function* generate(entries: Iterable<TarWriteEntry> | AsyncIterable<TarWriteEntry>): AsyncGenerator<Uint8Array> {
  for await (const e of entries as AsyncIterable<TarWriteEntry>) {
    const data = e.data;
    const size = e.type === 'file' ? (data instanceof Uint8Array ? data.byteLength : (e.size ?? 0)) : 0;
    yield encodeHeader({ ...e, size });
    if (e.type !== 'file' || size === 0) continue;
    let written = 0;
    if (data instanceof Uint8Array) {
      yield data;
      written = data.byteLength;
    } else if (data) {
      for await (const chunk of data() as AsyncIterable<Uint8Array>) {
        const c = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        written += c.byteLength;
        if (written > size) throw assembly('E_TAR_SIZE', `tar: content of ${e.name} is longer than its ${size} bytes`);
        yield c;
      }
    }
    if (written !== size) throw assembly('E_TAR_SIZE', `tar: content of ${e.name} is ${written} bytes, expected ${size}`);
    const pad = paddingFor(size);
    if (pad) yield new Uint8Array(pad);
  }
  yield tarTrailer;
}

/** A tar archive of `entries` as a byte stream. */
export function tarStream(entries: Iterable<TarWriteEntry> | AsyncIterable<TarWriteEntry>): Readable {
  return Readable.from(generate(entries), { objectMode: false });
}

/** The whole archive in memory (small archives: tests, configs). */
export async function tarBytes(entries: Iterable<TarWriteEntry> | AsyncIterable<TarWriteEntry>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of generate(entries)) parts.push(c);
  return Buffer.concat(parts);
}

/** FileTree entries as tar entries (directories get a trailing slash, as tar writers do). */
export function fileEntryToTar(e: FileEntry): TarWriteEntry {
  const t: TarWriteEntry = {
    name: e.type === 'dir' ? `${e.path}/` : e.path,
    type: e.type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    mtime: e.mtime,
    size: e.type === 'file' ? e.size : 0,
  };
  if (e.linkTarget !== undefined) t.linkname = e.linkTarget;
  if (e.devMajor !== undefined) t.devMajor = e.devMajor;
  if (e.devMinor !== undefined) t.devMinor = e.devMinor;
  if (e.xattrs && Object.keys(e.xattrs).length) t.xattrs = e.xattrs;
  if (e.type === 'file' && e.open) t.data = e.open;
  return t;
}

/** A flattened tree as one tar stream (what `crane export` produces). */
export function fileTreeToTar(tree: FileTree): Readable {
  return tarStream(tree.map(fileEntryToTar));
}
