/**
 * The in-memory directory tree the writer works from: built from a FileTree (any order), with missing
 * parent directories added, children sorted by name bytes (as the format requires), and hard links
 * resolved to the inode they share. Only metadata is held; file content stays behind `open()`.
 */
import { invalidInput, unsupported } from '../../core/errors.js';
import type { FileEntry } from '../../core/file-tree.js';
import { MAX_NAME_BYTES, MAX_SYMLINK_BYTES } from './constants.js';
import type { FileData } from './data-writer.js';
import type { InodeKind } from './inode.js';

export interface TreeInode {
  kind: InodeKind;
  /** The entry that defines this inode (for hard links: the link target). */
  entry: FileEntry;
  /** Number of directory entries naming this inode (files, symlinks, devices). */
  links: number;
  number: number;
  /** Inode reference once written. */
  ref?: { block: number; offset: number };
  data?: FileData;
  /** Directory only. */
  dir?: TreeDir;
}

export interface TreeDir {
  children: TreeNode[];
  parent: TreeDir | null;
  inode: TreeInode;
  /** Listing location once written. */
  listing?: { block: number; offset: number; fileSize: number; index: Array<{ index: number; start: number; name: Buffer }> };
}

export interface TreeNode {
  name: Buffer;
  inode: TreeInode;
}

const KIND: Record<Exclude<FileEntry['type'], 'hardlink'>, InodeKind> = {
  file: 'file', dir: 'dir', symlink: 'symlink', char: 'char', block: 'block', fifo: 'fifo',
};

export interface BuildOptions {
  /** mtime of directories the tree implies but does not list. */
  impliedDirMtime: number;
}

function checkPath(path: string): string[] {
  if (path.includes('\0')) throw invalidInput('E_SQUASHFS_PATH', `path contains NUL: ${JSON.stringify(path)}`);
  const segs = path.split('/').filter((s) => s !== '' && s !== '.');
  for (const s of segs) {
    if (s === '..') throw invalidInput('E_SQUASHFS_PATH', `path escapes the tree: ${JSON.stringify(path)}`);
    if (Buffer.byteLength(s) > MAX_NAME_BYTES) throw invalidInput('E_SQUASHFS_NAME', `name longer than ${MAX_NAME_BYTES} bytes in ${JSON.stringify(path)}`);
  }
  return segs;
}

export function buildTree(entries: readonly FileEntry[], opts: BuildOptions): TreeDir {
  const dirEntry = (path: string): FileEntry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: opts.impliedDirMtime, size: 0 });
  const mkDir = (entry: FileEntry, parent: TreeDir | null): TreeDir => {
    const inode: TreeInode = { kind: 'dir', entry, links: 1, number: 0 };
    const dir: TreeDir = { children: [], parent, inode };
    inode.dir = dir;
    return dir;
  };
  const root = mkDir(dirEntry(''), null);
  /** Path → node, and which directories were implied (may still be defined later). */
  const nodes = new Map<string, TreeNode>();
  const implied = new Set<TreeInode>();
  implied.add(root.inode);
  const hardlinks: Array<{ node: TreeNode; path: string; target: string }> = [];
  const childIndex = new Map<TreeDir, Map<string, TreeNode>>();

  const childrenOf = (d: TreeDir) => {
    let m = childIndex.get(d);
    if (!m) childIndex.set(d, (m = new Map()));
    return m;
  };

  const ensureDir = (segs: string[]): TreeDir => {
    let cur = root;
    for (let i = 0; i < segs.length; i++) {
      const name = segs[i]!;
      const existing = childrenOf(cur).get(name);
      if (existing) {
        if (!existing.inode.dir) throw invalidInput('E_SQUASHFS_PATH', `${JSON.stringify(segs.slice(0, i + 1).join('/'))} is not a directory but has children`);
        cur = existing.inode.dir;
        continue;
      }
      const path = segs.slice(0, i + 1).join('/');
      const d = mkDir(dirEntry(path), cur);
      implied.add(d.inode);
      const node: TreeNode = { name: Buffer.from(name, 'utf8'), inode: d.inode };
      childrenOf(cur).set(name, node);
      cur.children.push(node);
      nodes.set(path, node);
      cur = d;
    }
    return cur;
  };

  for (const entry of entries) {
    const segs = checkPath(entry.path);
    if (segs.length === 0) {
      if (entry.type !== 'dir') throw invalidInput('E_SQUASHFS_PATH', `the root entry must be a directory, got ${entry.type}`);
      if (!implied.delete(root.inode)) throw invalidInput('E_SQUASHFS_DUPLICATE', 'the root directory is listed twice');
      root.inode.entry = entry;
      continue;
    }
    const path = segs.join('/');
    const parent = ensureDir(segs.slice(0, -1));
    const name = segs[segs.length - 1]!;
    const existing = childrenOf(parent).get(name);
    if (existing) {
      if (entry.type === 'dir' && existing.inode.dir && implied.delete(existing.inode)) {
        existing.inode.entry = entry;
        continue;
      }
      throw invalidInput('E_SQUASHFS_DUPLICATE', `${JSON.stringify(path)} is listed twice`);
    }
    let node: TreeNode;
    if (entry.type === 'dir') {
      node = { name: Buffer.from(name, 'utf8'), inode: mkDir(entry, parent).inode };
    } else if (entry.type === 'hardlink') {
      node = { name: Buffer.from(name, 'utf8'), inode: undefined as unknown as TreeInode };
      hardlinks.push({ node, path, target: entry.linkTarget ?? '' });
    } else {
      const kind = KIND[entry.type];
      if (!kind) throw unsupported('E_SQUASHFS_TYPE', `${JSON.stringify(path)}: unsupported file type ${String(entry.type)}`);
      if (kind === 'symlink' && Buffer.byteLength(entry.linkTarget ?? '') > MAX_SYMLINK_BYTES) {
        throw invalidInput('E_SQUASHFS_SYMLINK', `${JSON.stringify(path)}: symlink target longer than ${MAX_SYMLINK_BYTES} bytes`);
      }
      if (kind === 'symlink' && !entry.linkTarget) throw invalidInput('E_SQUASHFS_SYMLINK', `${JSON.stringify(path)}: empty symlink target`);
      node = { name: Buffer.from(name, 'utf8'), inode: { kind, entry, links: 1, number: 0 } };
    }
    childrenOf(parent).set(name, node);
    parent.children.push(node);
    nodes.set(path, node);
  }

  for (const h of hardlinks) {
    let target = nodes.get(checkPath(h.target).join('/'));
    const seen = new Set<TreeNode>();
    while (target && !target.inode) {
      // A link to a link: follow it.
      if (seen.has(target)) break;
      seen.add(target);
      const next = hardlinks.find((x) => x.node === target);
      target = next ? nodes.get(checkPath(next.target).join('/')) : undefined;
    }
    if (!target || !target.inode) throw invalidInput('E_SQUASHFS_HARDLINK', `hard link ${JSON.stringify(h.path)} points to a missing entry ${JSON.stringify(h.target)}`);
    if (target.inode.kind === 'dir') throw invalidInput('E_SQUASHFS_HARDLINK', `hard link ${JSON.stringify(h.path)} points to a directory`);
    h.node.inode = target.inode;
    target.inode.links++;
  }

  const sortDir = (d: TreeDir) => {
    d.children.sort((a, b) => Buffer.compare(a.name, b.name));
    for (const c of d.children) if (c.inode.dir) sortDir(c.inode.dir);
  };
  sortDir(root);
  return root;
}
