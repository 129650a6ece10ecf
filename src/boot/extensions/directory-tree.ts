/**
 * A FileTree from a directory on disk (an unpacked extension, a test fixture). Entries come in a
 * sorted pre-order walk (never directory order); files with several links become one `file` and
 * `hardlink` entries pointing at it; content is opened lazily. Extended attributes are not read
 * (Node has no xattr API): labels travel in the FileTree from the OCI layer instead (talos-imager.md §2.2).
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError, unsupported } from '../../core/errors.js';
import type { FileEntry, FileTree } from '../../core/file-tree.js';

export interface DirectoryTreeOptions {
  /** Prefix for every path in the tree (e.g. `rootfs`). */
  prefix?: string;
  /** Include the directory itself as an entry (path `prefix`, or '' for the root). Default false. */
  includeRoot?: boolean;
}

export async function fileTreeFromDirectory(dir: string, options: DirectoryTreeOptions = {}): Promise<FileTree> {
  const out: FileEntry[] = [];
  const links = new Map<string, string>();
  const prefix = options.prefix ?? '';

  const entryFor = async (abs: string, path: string): Promise<FileEntry> => {
    let st;
    try {
      st = await lstat(abs, { bigint: true });
    } catch (err) {
      throw ioError('E_IO_LSTAT', `cannot read ${abs}: ${(err as Error).message}`, err);
    }
    const base = { path, mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), mtime: Number(st.mtimeMs / 1000n), size: 0 };
    if (st.isDirectory()) return { ...base, type: 'dir' };
    if (st.isSymbolicLink()) return { ...base, type: 'symlink', linkTarget: await readlink(abs) };
    if (st.isFIFO()) return { ...base, type: 'fifo' };
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      const rdev = st.rdev;
      return {
        ...base, type: st.isCharacterDevice() ? 'char' : 'block',
        devMajor: Number((rdev >> 8n) & 0xfffn), devMinor: Number((rdev & 0xffn) | ((rdev >> 12n) & 0xfff00n)),
      };
    }
    if (!st.isFile()) throw unsupported('E_FILE_TYPE', `${abs}: sockets and other special files are not supported`);
    if (st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first !== undefined) return { ...base, type: 'hardlink', linkTarget: first };
      links.set(key, path);
    }
    return { ...base, type: 'file', size: Number(st.size), open: () => createReadStream(abs, { highWaterMark: 1 << 20 }) };
  };

  const walk = async (abs: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(abs);
    } catch (err) {
      throw ioError('E_IO_READDIR', `cannot list ${abs}: ${(err as Error).message}`, err);
    }
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const childAbs = join(abs, name);
      const childRel = rel ? `${rel}/${name}` : name;
      const e = await entryFor(childAbs, childRel);
      out.push(e);
      if (e.type === 'dir') await walk(childAbs, childRel);
    }
  };

  if (options.includeRoot) out.push(await entryFor(dir, prefix));
  await walk(dir, prefix);
  return out;
}
