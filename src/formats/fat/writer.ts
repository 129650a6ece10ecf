/**
 * One-pass FAT writer: format and populate a FAT12/16/32 filesystem from a FileTree straight into a
 * RandomAccessSink, the way `mkfs.vfat -F 32 -n EFI --invariant` + `mcopy -s -p -Q -m` build Talos's
 * ESP (talos-imager.md §9.4), but deterministic by construction:
 *
 * - geometry as mkfs.fat 4.2 chooses it (geometry.ts);
 * - entries sorted by name (UTF-8 byte order), short names assigned in that order (short-name.ts);
 * - every timestamp = SOURCE_DATE_EPOCH (clamped to the FAT range), volume ID from the caller or from
 *   the ReproContext seed — never the clock;
 * - every directory and file is one contiguous cluster run, directories first, then files, so the
 *   FAT is a list of runs and the whole filesystem is written in increasing offset order (a
 *   compressing sink can take it), with holes — not zeros — for free space;
 * - file content is streamed from `FileEntry.open()` into place; only directory tables and the used
 *   prefix of the FAT are held in memory.
 */
import { assembly, invalidInput } from '../../core/errors.js';
import type { FileEntry, FileTree } from '../../core/file-tree.js';
import type { ProgressSink } from '../../core/progress.js';
import { seededBytes, type ReproContext } from '../../core/repro.js';
import type { RandomAccessSink } from '../../core/sink.js';
import { encodeBootSector, encodeFsInfo } from './boot-sector.js';
import {
  ATTR_ARCHIVE,
  ATTR_DIRECTORY,
  ATTR_READ_ONLY,
  ATTR_VOLUME_ID,
  DIR_ENTRY_SIZE,
  encodeLongEntries,
  encodeShortEntry,
  longEntryCount,
} from './dir-entry.js';
import { toDosTime, type DosTime } from './dos-time.js';
import { encodeFatPrefix, type ClusterRun } from './fat-table.js';
import { clusterOffset, planFatGeometry, type FatGeometry, type FatType } from './geometry.js';
import { NO_NAME, padVolumeLabel } from './label.js';
import { checkLongName, derivedShortName, exactShortName, foldName, type ShortName } from './short-name.js';

export interface FatWriteOptions {
  /** Bytes of the filesystem: the partition size. */
  size: number;
  /** Logical sector size (mkfs `-S`). Default 512. */
  sectorSize?: number;
  /** FAT width (mkfs `-F`). Default: mkfs.fat's choice (FAT32 from 512 MiB, else FAT12/16). */
  fatType?: FatType;
  /** Sectors per cluster (mkfs `-s`). Default: mkfs.fat's choice for the size. */
  sectorsPerCluster?: number;
  /** Volume label (mkfs `-n`), ≤ 11 characters. Default: none ("NO NAME"). */
  label?: string;
  /** Volume ID (serial). Default: 4 bytes derived from the ReproContext seed and the label. */
  volumeId?: number;
  /** Boot sector "hidden sectors" (partition start LBA). Default 0, as mkfs.vfat on an image file. */
  hiddenSectors?: number;
  /** Use each entry's own mtime instead of SOURCE_DATE_EPOCH. Default false. */
  preserveMtimes?: boolean;
  repro: ReproContext;
  progress?: ProgressSink;
  /** Step name for progress events. Default "fat". */
  progressStep?: string;
}

export interface FatWriteResult {
  geometry: FatGeometry;
  volumeId: number;
  label: string | null;
  files: number;
  directories: number;
  usedClusters: number;
  freeClusters: number;
}

interface Node {
  name: string;
  path: string;
  entry?: FileEntry;
  short?: ShortName;
  run: ClusterRun;
}
interface DirNode extends Node {
  kind: 'dir';
  children: Map<string, DirNode | FileNode>;
  sorted: (DirNode | FileNode)[];
  bytes: number;
  parent: DirNode | null;
}
interface FileNode extends Node {
  kind: 'file';
  entry: FileEntry;
}

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** The default volume ID: derived from the seed and label, never random. */
export function defaultVolumeId(repro: ReproContext, label: string | undefined): number {
  return seededBytes(repro, `fat-volume-id\0${label ?? ''}`, 4).readUInt32LE(0);
}

function buildTree(tree: FileTree): DirNode {
  const root: DirNode = { kind: 'dir', name: '', path: '', children: new Map(), sorted: [], bytes: 0, parent: null, run: { first: 0, count: 0 } };
  const dirFor = (segments: string[], upTo: number, what: string): DirNode => {
    let d = root;
    for (let i = 0; i < upTo; i++) {
      const name = segments[i]!;
      const key = foldName(name);
      const existing = d.children.get(key);
      if (existing) {
        if (existing.kind !== 'dir') throw invalidInput('E_FAT_TREE', `${what}: ${JSON.stringify(existing.path)} is a file, not a directory`);
        if (existing.name !== name) throw invalidInput('E_FAT_NAME_CONFLICT', `${what}: ${JSON.stringify(segments.slice(0, i + 1).join('/'))} and ${JSON.stringify(existing.path)} differ only in case`);
        d = existing;
      } else {
        const path = segments.slice(0, i + 1).join('/');
        checkLongName(name, path);
        const nd: DirNode = { kind: 'dir', name, path, children: new Map(), sorted: [], bytes: 0, parent: d, run: { first: 0, count: 0 } };
        d.children.set(key, nd);
        d = nd;
      }
    }
    return d;
  };
  for (const entry of tree) {
    const what = `FAT tree entry ${JSON.stringify(entry.path)}`;
    const segments = entry.path.split('/');
    if (entry.path === '' || segments.some((s) => s === '' || s === '.' || s === '..')) {
      if (entry.type === 'dir' && (entry.path === '' || entry.path === '.')) continue; // the root itself
      throw invalidInput('E_FAT_TREE', `${what}: not a clean relative path`);
    }
    if (entry.type !== 'file' && entry.type !== 'dir') {
      throw invalidInput('E_FAT_TREE', `${what}: a ${entry.type} cannot be stored on FAT (only files and directories)`);
    }
    const parent = dirFor(segments, segments.length - 1, what);
    const name = segments[segments.length - 1]!;
    checkLongName(name, what);
    const key = foldName(name);
    const existing = parent.children.get(key);
    if (entry.type === 'dir') {
      if (existing) {
        if (existing.kind !== 'dir' || existing.entry) throw invalidInput('E_FAT_TREE', `${what}: the path appears twice`);
        if (existing.name !== name) throw invalidInput('E_FAT_NAME_CONFLICT', `${what}: differs only in case from ${JSON.stringify(existing.path)}`);
        existing.entry = entry;
      } else {
        parent.children.set(key, { kind: 'dir', name, path: entry.path, entry, children: new Map(), sorted: [], bytes: 0, parent, run: { first: 0, count: 0 } });
      }
    } else {
      if (existing) {
        throw invalidInput(existing.name === name ? 'E_FAT_TREE' : 'E_FAT_NAME_CONFLICT', `${what}: ${existing.name === name ? 'the path appears twice' : `differs only in case from ${JSON.stringify(existing.path)}`}`);
      }
      if (!Number.isSafeInteger(entry.size) || entry.size < 0 || entry.size > 0xffffffff) {
        throw invalidInput('E_FAT_FILE_SIZE', `${what}: size ${entry.size} does not fit FAT (max 4 GiB − 1)`);
      }
      if (entry.size > 0 && !entry.open) throw invalidInput('E_FAT_TREE', `${what}: a non-empty file without content`);
      parent.children.set(key, { kind: 'file', name, path: entry.path, entry, run: { first: 0, count: 0 } });
    }
  }
  return root;
}

/** Sort children, give them short names (exact ones first so derived ones never steal them), size the table. */
function layoutDirectory(d: DirNode, isRoot: boolean, hasLabel: boolean): void {
  d.sorted = [...d.children.values()].sort((a, b) => utf8Order(a.name, b.name));
  const taken = new Set<string>();
  if (!isRoot) taken.add('.          ').add('..         ');
  const pending: (DirNode | FileNode)[] = [];
  for (const c of d.sorted) {
    const exact = exactShortName(c.name);
    if (exact) {
      c.short = exact;
      taken.add(exact.raw);
    } else {
      pending.push(c);
    }
  }
  for (const c of pending) {
    c.short = derivedShortName(c.name, taken);
    taken.add(c.short.raw);
  }
  let entries = isRoot ? (hasLabel ? 1 : 0) : 2;
  for (const c of d.sorted) entries += 1 + (c.short!.needsLongName ? longEntryCount(c.name) : 0);
  if (entries > 65536) throw invalidInput('E_FAT_DIR_FULL', `FAT directory ${JSON.stringify(d.path || '/')} needs ${entries} entries (max 65536)`);
  d.bytes = entries * DIR_ENTRY_SIZE;
}

function encodeDirectory(d: DirNode, out: Buffer, at: number, ctx: { label: string | null; stamp: (e?: FileEntry) => DosTime }): void {
  const end = at + d.bytes;
  const own = ctx.stamp(d.entry);
  if (d.parent === null) {
    if (ctx.label !== null) {
      encodeShortEntry({ raw: ctx.label, attributes: ATTR_VOLUME_ID, caseBits: 0, firstCluster: 0, size: 0, created: own, modified: own }, out, at);
      at += DIR_ENTRY_SIZE;
    }
  } else {
    const parentCluster = d.parent.parent === null ? 0 : d.parent.run.first;
    encodeShortEntry({ raw: '.          ', attributes: ATTR_DIRECTORY, caseBits: 0, firstCluster: d.run.first, size: 0, created: own, modified: own }, out, at);
    encodeShortEntry({ raw: '..         ', attributes: ATTR_DIRECTORY, caseBits: 0, firstCluster: parentCluster, size: 0, created: own, modified: own }, out, at + 32);
    at += 64;
  }
  for (const c of d.sorted) {
    const s = c.short!;
    if (s.needsLongName) at = encodeLongEntries(c.name, s.raw, out, at);
    const t = ctx.stamp(c.entry);
    const readOnly = c.entry && (c.entry.mode & 0o222) === 0 ? ATTR_READ_ONLY : 0;
    encodeShortEntry(
      {
        raw: s.raw,
        attributes: (c.kind === 'dir' ? ATTR_DIRECTORY : ATTR_ARCHIVE) | readOnly,
        caseBits: s.caseBits,
        firstCluster: c.run.first,
        size: c.kind === 'file' ? c.entry.size : 0,
        created: t,
        modified: t,
      },
      out,
      at,
    );
    at += DIR_ENTRY_SIZE;
  }
  if (at !== end) throw assembly('E_FAT_INTERNAL', `directory ${d.path} encoded ${at - (end - d.bytes)} of ${d.bytes} bytes`);
}

/** Keeps writes in increasing order and turns every gap into a declared hole. */
class OrderedWriter {
  private pos: number;
  constructor(private readonly sink: RandomAccessSink, start: number, readonly end: number) {
    this.pos = start;
  }
  async gapTo(offset: number): Promise<void> {
    if (offset < this.pos) throw assembly('E_FAT_INTERNAL', `FAT writer went backwards (${offset} < ${this.pos})`);
    if (offset > this.pos) await this.sink.hole(this.pos, offset - this.pos);
    this.pos = offset;
  }
  async write(offset: number, bytes: Uint8Array): Promise<void> {
    await this.gapTo(offset);
    if (offset + bytes.byteLength > this.end) throw assembly('E_FAT_INTERNAL', `FAT write past the end of the filesystem`);
    await this.sink.write(offset, bytes);
    this.pos = offset + bytes.byteLength;
  }
}

/** Small chunks are gathered into writes of about this size (fewer positioned-write calls). */
const WRITE_BATCH = 1 << 20;

async function streamFile(w: OrderedWriter, offset: number, f: FileNode): Promise<void> {
  const size = f.entry.size;
  if (size === 0) return;
  let done = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    await w.write(offset + done - pendingBytes, buf);
    pending = [];
    pendingBytes = 0;
  };
  const src = f.entry.open!() as AsyncIterable<Uint8Array | string>;
  for await (const raw of src) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    if (chunk.byteLength === 0) continue;
    if (done + chunk.byteLength > size) {
      throw assembly('E_FAT_SIZE_MISMATCH', `FAT file ${JSON.stringify(f.path)}: content is longer than its declared size ${size}`);
    }
    done += chunk.byteLength;
    if (chunk.byteLength >= WRITE_BATCH && pendingBytes === 0) {
      await w.write(offset + done - chunk.byteLength, chunk);
      continue;
    }
    pending.push(chunk);
    pendingBytes += chunk.byteLength;
    if (pendingBytes >= WRITE_BATCH) await flush();
  }
  await flush();
  if (done !== size) throw assembly('E_FAT_SIZE_MISMATCH', `FAT file ${JSON.stringify(f.path)}: content is ${done} bytes, declared ${size}`);
}

/**
 * Format a FAT filesystem of `options.size` bytes at `offset` in `sink` and fill it with `tree`.
 * Writes strictly in increasing offset order within `[offset, offset + size)`; free space is
 * declared as holes.
 */
export async function writeFat(sink: RandomAccessSink, offset: number, tree: FileTree, options: FatWriteOptions): Promise<FatWriteResult> {
  const g = planFatGeometry({
    size: options.size,
    sectorSize: options.sectorSize,
    fatType: options.fatType,
    sectorsPerCluster: options.sectorsPerCluster,
  });
  const label = options.label !== undefined && options.label !== '' ? padVolumeLabel(options.label) : null;
  const volumeId = options.volumeId ?? defaultVolumeId(options.repro, options.label);
  if (!Number.isInteger(volumeId) || volumeId < 0 || volumeId > 0xffffffff) throw invalidInput('E_FAT_VOLUME_ID', `FAT volume ID ${volumeId} is not a 32-bit value`);
  const hidden = options.hiddenSectors ?? 0;
  if (!Number.isInteger(hidden) || hidden < 0 || hidden > 0xffffffff) throw invalidInput('E_FAT_SIZE', `hidden sectors ${hidden} is not a 32-bit value`);
  const sde = options.repro.sourceDateEpoch;
  const stamp = (e?: FileEntry): DosTime => toDosTime(options.preserveMtimes && e ? e.mtime : sde);

  // Plan: tree → directories (BFS) → short names and sizes → cluster runs.
  const root = buildTree(tree);
  const dirs: DirNode[] = [root];
  for (let i = 0; i < dirs.length; i++) {
    layoutDirectory(dirs[i]!, i === 0, label !== null);
    for (const c of dirs[i]!.sorted) if (c.kind === 'dir') dirs.push(c);
  }
  const cs = g.clusterSize;
  let next = 2;
  const runs: ClusterRun[] = [];
  const allocate = (n: Node, bytes: number) => {
    n.run = { first: bytes > 0 ? next : 0, count: Math.ceil(bytes / cs) };
    next += n.run.count;
    if (n.run.count) runs.push(n.run);
  };
  if (g.fatType === 32) {
    allocate(root, Math.max(root.bytes, 1));
  } else if (root.bytes > g.rootEntries * DIR_ENTRY_SIZE) {
    throw invalidInput('E_FAT_DIR_FULL', `FAT${g.fatType} root directory holds ${g.rootEntries} entries; the tree needs ${root.bytes / DIR_ENTRY_SIZE}`);
  }
  for (const d of dirs.slice(1)) allocate(d, d.bytes);
  const files: FileNode[] = [];
  for (const d of dirs) for (const c of d.sorted) if (c.kind === 'file') files.push(c);
  let totalBytes = 0;
  for (const f of files) {
    allocate(f, f.entry.size);
    totalBytes += f.entry.size;
  }
  const used = next - 2;
  if (used > g.clusterCount) {
    throw invalidInput(
      'E_FAT_FULL',
      `the tree needs ${used} clusters of ${cs} bytes but the ${options.size}-byte FAT${g.fatType} filesystem has ${g.clusterCount}`,
    );
  }
  const free = g.clusterCount - used;

  // Encode the metadata.
  const ss = g.sectorSize;
  const ctx = { label, stamp };
  const dirStart = g.fatType === 32 ? 0 : 1;
  const dirBytes = dirs.slice(dirStart).reduce((s, d) => s + d.run.count * cs, 0);
  const dirBuf = Buffer.alloc(dirBytes);
  const firstDirCluster = dirs[dirStart]?.run.first ?? 0;
  for (const d of dirs.slice(dirStart)) encodeDirectory(d, dirBuf, (d.run.first - firstDirCluster) * cs, ctx);
  const boot = encodeBootSector({ geometry: g, volumeId, label: label ?? NO_NAME, hiddenSectors: hidden });
  const reservedHead = Buffer.alloc((g.fatType === 32 ? Math.max(g.fsInfoSector, g.backupBootSector + 1) + 1 : 1) * ss);
  boot.copy(reservedHead, 0);
  if (g.fatType === 32) {
    const info = encodeFsInfo(ss, free, free > 0 ? next : 0xffffffff);
    info.copy(reservedHead, g.fsInfoSector * ss);
    if (g.backupBootSector) {
      boot.copy(reservedHead, g.backupBootSector * ss);
      info.copy(reservedHead, (g.backupBootSector + g.fsInfoSector) * ss);
    }
  }
  const fat = encodeFatPrefix(g.fatType, g.media, runs, ss);

  // Write, in increasing offset order.
  const end = offset + options.size;
  const w = new OrderedWriter(sink, offset, end);
  await w.write(offset, reservedHead);
  for (let i = 0; i < g.fatCount; i++) await w.write(offset + (g.reservedSectors + i * g.fatSectors) * ss, fat);
  if (g.fatType !== 32) {
    const rootBuf = Buffer.alloc(g.rootDirSectors * ss);
    encodeDirectory(root, rootBuf, 0, ctx);
    await w.write(offset + (g.reservedSectors + g.fatCount * g.fatSectors) * ss, rootBuf);
  }
  if (dirBuf.length) await w.write(offset + clusterOffset(g, firstDirCluster), dirBuf);
  const step = options.progressStep ?? 'fat';
  let done = 0;
  for (const f of files) {
    await streamFile(w, offset + clusterOffset(g, f.run.first), f);
    done += f.entry.size;
    options.progress?.({ type: 'bytes', step, done, total: totalBytes });
  }
  await w.gapTo(end);
  return { geometry: g, volumeId, label: label?.trimEnd() ?? null, files: files.length, directories: dirs.length - 1, usedClusters: used, freeClusters: free };
}
