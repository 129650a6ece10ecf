/**
 * Layer flattening (talos-imager.md §2.2, `crane.Export` → `mutate.Extract`, then the imager's
 * untar): layers are walked top-down and the first occurrence of a path wins; `.wh.<name>` hides
 * `<name>` (and its subtree) in lower layers, `.wh..wh..opq` hides everything below its directory in
 * lower layers (OCI image spec "Whiteouts"); a non-directory hides a lower subtree at its path.
 *
 * Paths are made safe as the imager's `safepath` does: cleaned as if rooted, so `/abs` and `../x`
 * land inside the tree (`abs`, `x`) and nothing escapes. Relative symlinks whose target climbs out
 * of the root are dropped (as `mutate.Extract` does); symlinks are never followed. A hardlink must
 * name a regular file of the final tree. Parents missing from the layers are synthesised (0755).
 *
 * The result is a FileTree whose files open lazily as byte ranges of the uncompressed layer tars
 * (layer-tar.ts says why), sorted so that every directory precedes its children.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { silentProgress, type ProgressSink } from '../core/progress.js';
import type { FileEntry, FileTree, FileType } from '../core/file-tree.js';
import type { BlobCache } from './blob-cache.js';
import type { Image } from './image.js';
import { isLayerMediaType } from './media-types.js';
import { layerTar, type LayerTar } from './layer-tar.js';
import { scanTarFile, type TarMember } from './tar-scan.js';

const whiteoutPrefix = '.wh.';
const opaqueMarker = '.wh..wh..opq';

export interface FlattenOptions {
  cache: BlobCache;
  progress?: ProgressSink;
  /** Keep only paths for which this returns true (their parent directories are kept too). */
  include?: (path: string) => boolean;
  /** Bound on one uncompressed layer (default 64 GiB). */
  maxLayerBytes?: number;
}

/** Clean a member name as if rooted at `/`: returns the relative path and whether `..` tried to climb out. */
export function cleanMemberPath(raw: string): { path: string; climbed: boolean } {
  const out: string[] = [];
  let climbed = false;
  for (const seg of raw.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) climbed = true;
      else out.pop();
      continue;
    }
    out.push(seg);
  }
  return { path: out.join('/'), climbed };
}

/** Does a relative symlink at `linkPath` pointing to `target` leave the root? */
export function symlinkEscapes(linkPath: string, target: string): boolean {
  if (target.startsWith('/')) return false;
  const parts = linkPath.split('/').slice(0, -1);
  for (const seg of target.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) return true;
      parts.pop();
    } else parts.push(seg);
  }
  return false;
}

function typeOf(m: TarMember): FileType | null {
  switch (m.header.type) {
    case 'file':
    case 'dir':
    case 'symlink':
    case 'hardlink':
    case 'char':
    case 'block':
    case 'fifo':
      return m.header.type;
    case 'other':
      return 'file'; // POSIX: unknown types are read as regular files
    default:
      return null;
  }
}

/** Component-wise path order: a directory sorts before everything below it. */
export function comparePaths(a: string, b: string): number {
  const as = a.split('/');
  const bs = b.split('/');
  const n = Math.min(as.length, bs.length);
  for (let i = 0; i < n; i++) {
    if (as[i] !== bs[i]) return as[i]! < bs[i]! ? -1 : 1;
  }
  return as.length - bs.length;
}

interface Slot {
  entry: FileEntry;
  implicit: boolean; // a directory synthesised for a child, replaceable by a real directory entry
}

function ancestors(path: string): string[] {
  const out: string[] = [];
  let i = path.indexOf('/');
  while (i >= 0) {
    out.push(path.slice(0, i));
    i = path.indexOf('/', i + 1);
  }
  return out;
}

function fileOpener(tar: LayerTar, offset: number, size: number): () => Readable {
  if (size === 0) return () => Readable.from([]);
  return () => createReadStream(tar.path, { start: offset, end: offset + size - 1, highWaterMark: 256 * 1024 });
}

/** Flatten uncompressed layer tars (bottom layer first, as in a manifest). */
export async function flattenLayerTars(tars: LayerTar[], opts: Pick<FlattenOptions, 'progress' | 'include'> = {}): Promise<FileTree> {
  const progress = opts.progress ?? silentProgress;
  const slots = new Map<string, Slot>();
  // State left by upper layers for lower ones: whited-out paths (with their subtrees), and paths
  // whose lower descendants are hidden: opaque directories, and every path an upper layer held as a
  // non-directory — even when a still higher layer replaced that entry again, the lower subtree was
  // destroyed in between (overlay semantics; umoci agrees, go-containerregistry's Extract does not).
  const deleted = new Set<string>();
  const hideBelow = new Set<string>();
  const warn = (message: string) => progress({ type: 'warning', message });

  const hiddenByUpper = (path: string): boolean => {
    if (deleted.has(path)) return true;
    for (const a of ancestors(path)) {
      if (deleted.has(a) || hideBelow.has(a)) return true;
      const s = slots.get(a);
      if (s && s.entry && s.entry.type !== 'dir') return true;
    }
    return false;
  };

  for (let li = tars.length - 1; li >= 0; li--) {
    const tar = tars[li]!;
    const layerWhiteouts: string[] = [];
    const layerOpaque: string[] = [];
    const layerNonDirs: string[] = [];
    for await (const m of scanTarFile(tar.path, { start: tar.start, end: tar.end, what: tar.what })) {
      const { path, climbed } = cleanMemberPath(m.header.name);
      if (climbed) warn(`${tar.what}: entry ${JSON.stringify(m.header.name)} climbs out of the root; placed at ${JSON.stringify(path)}`);
      if (path === '') continue; // the root directory itself
      const slash = path.lastIndexOf('/');
      const dir = slash >= 0 ? path.slice(0, slash) : '';
      const base = path.slice(slash + 1);
      if (base === opaqueMarker) {
        layerOpaque.push(dir);
        continue;
      }
      if (base.startsWith(whiteoutPrefix)) {
        if (base.startsWith(whiteoutPrefix + whiteoutPrefix)) continue; // other AUFS metadata (.wh..wh.plnk …)
        const name = base.slice(whiteoutPrefix.length);
        if (name) layerWhiteouts.push(dir ? `${dir}/${name}` : name);
        continue;
      }
      const type = typeOf(m);
      if (type === null) continue;
      if (type !== 'dir') layerNonDirs.push(path);
      if (hiddenByUpper(path)) continue;
      const existing = slots.get(path);
      if (existing) {
        // First occurrence wins; only a synthesised directory yields, and only to a real directory.
        if (!(existing.implicit && type === 'dir')) continue;
      }
      const h = m.header;
      const entry: FileEntry = { path, type, mode: h.mode & 0o7777, uid: h.uid, gid: h.gid, mtime: h.mtime, size: 0 };
      if (Object.keys(m.xattrs).length) entry.xattrs = m.xattrs;
      if (type === 'file') {
        entry.size = h.size;
        entry.open = fileOpener(tar, m.dataOffset, h.size);
      } else if (type === 'symlink') {
        if (symlinkEscapes(path, h.linkname)) {
          warn(`${tar.what}: symlink ${path} -> ${h.linkname} escapes the root; dropped`);
          continue;
        }
        entry.linkTarget = h.linkname;
      } else if (type === 'hardlink') {
        const t = cleanMemberPath(h.linkname);
        if (t.climbed || t.path === '') {
          warn(`${tar.what}: hard link ${path} -> ${h.linkname} escapes the root; dropped`);
          continue;
        }
        entry.linkTarget = t.path;
      } else if (type === 'char' || type === 'block') {
        entry.devMajor = h.devMajor;
        entry.devMinor = h.devMinor;
      }
      slots.set(path, { entry, implicit: false });
      // Parents this layer implies: directories that hide lower non-directories at their path.
      for (const a of ancestors(path)) {
        if (!slots.has(a)) slots.set(a, { entry: { path: a, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 }, implicit: true });
      }
    }
    // Whiteouts, opaque markers and this layer's non-directories act on lower layers only.
    for (const w of layerWhiteouts) deleted.add(w);
    for (const o of layerOpaque) hideBelow.add(o);
    for (const p of layerNonDirs) hideBelow.add(p);
  }

  const files = new Map<string, FileEntry>();
  for (const [path, s] of slots) files.set(path, s.entry);
  // Drop entries below a non-directory (reachable only through a symlink) and dangling hard links.
  for (const path of [...files.keys()]) {
    if (ancestors(path).some((a) => files.get(a)?.type !== 'dir')) files.delete(path);
  }
  for (const [path, e] of files) {
    if (e.type !== 'hardlink') continue;
    let target = files.get(e.linkTarget!);
    const seen = new Set<string>([path]);
    while (target && target.type === 'hardlink' && !seen.has(target.path)) {
      seen.add(target.path);
      target = files.get(target.linkTarget!);
    }
    if (!target || target.type !== 'file') {
      warn(`hard link ${path} -> ${e.linkTarget} has no regular file to link to; dropped`);
      files.delete(path);
      continue;
    }
    e.linkTarget = target.path;
  }
  let out = [...files.values()];
  if (opts.include) {
    const keep = new Set<string>();
    for (const e of out) {
      if (!opts.include(e.path)) continue;
      keep.add(e.path);
      for (const a of ancestors(e.path)) keep.add(a);
      if (e.type === 'hardlink') keep.add(e.linkTarget!);
    }
    out = out.filter((e) => keep.has(e.path));
  }
  return out.sort((a, b) => comparePaths(a.path, b.path));
}

/** Flatten an image's layers into a FileTree (uncompressed layers are materialised in the cache). */
export async function flattenImage(image: Image, opts: FlattenOptions): Promise<FileTree> {
  const tars: LayerTar[] = [];
  const layers = image.layers.filter((l) => isLayerMediaType(l.descriptor.mediaType));
  if (layers.length === 0 && image.layers.length === 1) {
    // An image whose single layer is not a layer media type: upstream copies it raw; as a tree it
    // is still a tar in practice (e.g. artifacts pushed with a custom type).
    layers.push(image.layers[0]!);
  }
  // Two layers at a time: zlib inflates on the thread pool while the main thread hashes and writes.
  let next = 0;
  const worker = async () => {
    while (next < layers.length) {
      const i = next++;
      tars[i] = await layerTar(image.blobs, layers[i]!, opts.cache, `layer ${i + 1}/${layers.length} (${layers[i]!.descriptor.digest}) of ${image.name}`, opts.progress, opts.maxLayerBytes);
    }
  };
  await Promise.all([worker(), worker()]);
  return flattenLayerTars(tars, opts);
}

/**
 * What the imager's untar makes of a flattened tree on disk (talos-imager.md §2.2): directories
 * get mode|0700; hard links, devices and fifos become regular files holding the entry's data (so
 * empty); ownership and mtimes are not restored (uid/gid 0, `mtime` given by the caller).
 */
export function imagerUntarView(tree: FileTree, mtime: number): FileTree {
  return tree.map((e) => {
    const base = { path: e.path, uid: 0, gid: 0, mtime, ...(e.xattrs ? { xattrs: e.xattrs } : {}) };
    switch (e.type) {
      case 'dir':
        return { ...base, type: 'dir', mode: e.mode | 0o700, size: 0 };
      case 'symlink':
        return { ...base, type: 'symlink', mode: e.mode, size: 0, linkTarget: e.linkTarget! };
      case 'file':
        return { ...base, type: 'file', mode: e.mode, size: e.size, ...(e.open ? { open: e.open } : {}) };
      default:
        return { ...base, type: 'file', mode: e.mode, size: 0, open: () => Readable.from([]) };
    }
  });
}
