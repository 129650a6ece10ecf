/**
 * squashfs 4.0 writer: FileTree in, image out through a RandomAccessSink.
 *
 * Layout (the kernel insists on this order): superblock, compressor options (when not default), file
 * data and fragment blocks, inode table, directory table, fragment table, export table, id table,
 * xattr table; zero padding to 4 KiB. The superblock is written last, at offset 0.
 *
 * Data is written in a depth-first walk, entries by name (as mksquashfs reads files). Inodes and
 * listings are then written bottom-up: for each directory, first its subdirectories' contents, then
 * the inodes of all its entries in name order, then its listing; the root inode comes last. So the
 * entries of one directory have consecutive inode numbers and consecutive inodes, which keeps
 * listings to one run per metadata piece. Inode numbers are given as mksquashfs gives them: pre-order
 * by name, the root last (= inode count), and the root's parent is `inode count + 1`.
 *
 * Reproducible: nothing depends on the clock, the host or the input order beyond what the tree says;
 * `mkfsTime` and the timestamp policy come from the caller (SOURCE_DATE_EPOCH).
 */
import { invalidInput } from '../../core/errors.js';
import type { FileTree } from '../../core/file-tree.js';
import type { ProgressSink } from '../../core/progress.js';
import type { RandomAccessSink } from '../../core/sink.js';
import {
  compressionId, encodeCompressorOptionsBlock, normalizeCompression, type SquashfsBlockCompressor, type SquashfsCompression,
} from './compressor.js';
import {
  DEFAULT_BLOCK_SIZE, DEVICE_BLOCK_SIZE, Flag, INVALID_FRAGMENT, INVALID_TABLE, INVALID_XATTR, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE,
  SUPERBLOCK_SIZE,
} from './constants.js';
import { DataWriter, type FileData } from './data-writer.js';
import { encodeListing } from './directory.js';
import { encodeExportRecords } from './export-table.js';
import { encodeFragmentRecords } from './fragment-table.js';
import { IdTable } from './id-table.js';
import { basicType, encodeDevice, encodeInode, type InodeRecord } from './inode.js';
import { MetadataWriter, packLookupTable } from './metadata-block.js';
import { encodeSuperblock } from './superblock.js';
import { buildTree, type TreeDir, type TreeInode } from './tree.js';
import { XattrTable } from './xattr-table.js';

export interface SquashfsWriteOptions {
  compression: SquashfsCompression;
  /** Compresses blocks; a worker pool makes the writer parallel. */
  compressor: SquashfsBlockCompressor;
  /** Data block size, a power of two in 4 KiB..1 MiB. Default 128 KiB. */
  blockSize?: number;
  /** Superblock modification time (SOURCE_DATE_EPOCH). */
  mkfsTime: number;
  /**
   * Inode timestamps: `set` gives every inode `mkfsTime`; `clamp` keeps each entry's mtime but caps it
   * at `mkfsTime` (what mksquashfs does under SOURCE_DATE_EPOCH); `keep` writes them unchanged.
   * Default `clamp`.
   */
  timestamps?: 'set' | 'clamp' | 'keep';
  /** Every inode owned by 0:0 (mksquashfs `-all-root`). Default false. */
  allRoot?: boolean;
  /** Fragment blocks for small files. Default true. */
  fragments?: boolean;
  /** Pack tail ends of larger files into fragments too (mksquashfs `-tailends`). Default false, as mksquashfs. */
  tailEnds?: boolean;
  /** Store duplicate files once. Default true. */
  duplicates?: boolean;
  /** Write the NFS export table. Default true, as mksquashfs. */
  exportable?: boolean;
  /** Blocks compressed at once. Default 16. */
  maxInFlight?: number;
  progress?: ProgressSink;
}

export interface SquashfsWriteResult {
  /** Bytes used by the file system (the superblock's field). */
  bytesUsed: number;
  /** Image size after padding to 4 KiB. */
  size: number;
  inodeCount: number;
  fragmentCount: number;
}

const STEP = 'squashfs';

export async function writeSquashfs(tree: FileTree, sink: RandomAccessSink, options: SquashfsWriteOptions): Promise<SquashfsWriteResult> {
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (!Number.isInteger(blockSize) || blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || (blockSize & (blockSize - 1)) !== 0) {
    throw invalidInput('E_SQUASHFS_OPTIONS', `squashfs block size must be a power of two in 4 KiB..1 MiB, got ${blockSize}`);
  }
  const mkfsTime = options.mkfsTime;
  if (!Number.isInteger(mkfsTime) || mkfsTime < 0 || mkfsTime > 0xffffffff) throw invalidInput('E_SQUASHFS_OPTIONS', `squashfs mkfs time out of range: ${mkfsTime}`);
  const compression = normalizeCompression(options.compression, blockSize);
  const compressor = options.compressor;
  const timestamps = options.timestamps ?? 'clamp';
  const fragments = options.fragments ?? true;
  const tailEnds = options.tailEnds ?? false;
  const duplicates = options.duplicates ?? true;
  const exportable = options.exportable ?? true;
  const progress = options.progress;

  const root = buildTree(tree, { impliedDirMtime: mkfsTime });
  const totalBytes = tree.reduce((n, e) => n + (e.type === 'file' ? e.size : 0), 0);
  progress?.({ type: 'step-start', step: STEP, total: totalBytes });

  // 1. Data, depth-first by name.
  const optionsBlock = encodeCompressorOptionsBlock(compression, blockSize);
  const dataStart = SUPERBLOCK_SIZE + (optionsBlock?.byteLength ?? 0);
  let done = 0;
  const data = new DataWriter(sink, dataStart, compressor, {
    blockSize, fragments, tailEnds, duplicates, maxInFlight: options.maxInFlight ?? 16,
    onBytes: progress ? (n) => progress({ type: 'bytes', step: STEP, done: (done += n), total: totalBytes }) : undefined,
  });
  const writeData = async (dir: TreeDir): Promise<void> => {
    for (const child of dir.children) {
      const ino = child.inode;
      if (ino.dir) await writeData(ino.dir);
      else if (ino.kind === 'file' && !ino.data) ino.data = await data.addFile(ino.entry);
    }
  };
  await writeData(root);
  const { end: dataEnd, fragments: fragmentTable } = await data.finish();

  // 2. Inode numbers: pre-order by name, the root last — exactly as mksquashfs numbers them.
  let next = 1;
  const numberDir = (dir: TreeDir): void => {
    for (const c of dir.children) {
      if (c.inode.number === 0) c.inode.number = next++;
      if (c.inode.dir) numberDir(c.inode.dir);
    }
  };
  numberDir(root);
  root.inode.number = next++;
  const inodeCount = next - 1;

  // 3. Ids, xattr ids and timestamps, in inode-number order so both tables are deterministic.
  const ids = new IdTable();
  const xattrs = new XattrTable();
  const byNumber: TreeInode[] = new Array(inodeCount);
  const collect = (dir: TreeDir): void => {
    byNumber[dir.inode.number - 1] = dir.inode;
    for (const c of dir.children) {
      byNumber[c.inode.number - 1] = c.inode;
      if (c.inode.dir) collect(c.inode.dir);
    }
  };
  collect(root);
  const meta = byNumber.map((ino) => {
    const e = ino.entry;
    const uid = options.allRoot ? 0 : e.uid;
    const gid = options.allRoot ? 0 : e.gid;
    const mtime = timestamps === 'set' ? mkfsTime : timestamps === 'clamp' ? Math.min(e.mtime, mkfsTime) : e.mtime;
    if (!Number.isInteger(mtime) || mtime < 0 || mtime > 0xffffffff) throw invalidInput('E_SQUASHFS_TIME', `${JSON.stringify(e.path)}: mtime out of range (${e.mtime})`);
    const hasXattrs = e.xattrs && Object.keys(e.xattrs).length > 0;
    return {
      uidIndex: ids.indexOf(uid),
      gidIndex: ids.indexOf(gid),
      mtime,
      xattr: hasXattrs ? xattrs.idOf(e.xattrs!) : INVALID_XATTR,
    };
  });

  // 4. Inode and directory tables.
  const inodeTable = new MetadataWriter(compressor);
  const dirTable = new MetadataWriter(compressor);
  const exportRefs: bigint[] = new Array(inodeCount);

  const fileRecord = (ino: TreeInode): InodeRecord => {
    const m = meta[ino.number - 1]!;
    const h = { permissions: ino.entry.mode, uidIndex: m.uidIndex, gidIndex: m.gidIndex, mtime: m.mtime, number: ino.number, xattr: m.xattr };
    switch (ino.kind) {
      case 'file': {
        // `sparse` stays 0: a FileTree cannot say whether its source was sparse, and mksquashfs
        // reports non-sparse sources as non-sparse (basic inode) even when zero blocks are skipped.
        let d: FileData = ino.data!;
        while (d.duplicateOf) d = d.duplicateOf;
        const empty = d.size === 0;
        return { ...h, kind: 'file', blocksStart: empty ? 0 : d.blocksStart, fragment: d.fragment, fragmentOffset: d.fragment === INVALID_FRAGMENT ? 0 : d.fragmentOffset,
          fileSize: ino.data!.size, blockSizes: d.blockSizes, sparse: 0, nlink: ino.links };
      }
      case 'symlink':
        return { ...h, kind: 'symlink', nlink: ino.links, target: Buffer.from(ino.entry.linkTarget ?? '', 'utf8') };
      case 'char':
      case 'block':
        return { ...h, kind: ino.kind, nlink: ino.links, device: encodeDevice(ino.entry.devMajor ?? 0, ino.entry.devMinor ?? 0) };
      case 'fifo':
      case 'socket':
        return { ...h, kind: ino.kind, nlink: ino.links };
      case 'dir': {
        const dir = ino.dir!;
        const l = dir.listing!;
        const subdirs = dir.children.filter((c) => c.inode.dir).length;
        const parent = dir.parent ? dir.parent.inode.number : inodeCount + 1;
        return { ...h, kind: 'dir', blockIndex: l.block, blockOffset: l.offset, nlink: 2 + subdirs, fileSize: l.fileSize, parent, index: l.index };
      }
    }
  };

  const writeInode = async (ino: TreeInode): Promise<void> => {
    const ref = inodeTable.ref;
    ino.ref = ref;
    exportRefs[ino.number - 1] = (BigInt(ref.block) << 16n) | BigInt(ref.offset);
    await inodeTable.append(encodeInode(fileRecord(ino)));
  };

  const writeTables = async (dir: TreeDir): Promise<void> => {
    for (const c of dir.children) if (c.inode.dir) await writeTables(c.inode.dir);
    for (const c of dir.children) if (!c.inode.ref) await writeInode(c.inode);
    const listing = encodeListing(dir.children.map((c) => ({
      name: c.name,
      inodeBlock: c.inode.ref!.block,
      inodeOffset: c.inode.ref!.offset,
      inodeNumber: c.inode.number,
      type: basicType(c.inode.kind),
    })));
    const startPos = dirTable.position;
    const { block, offset } = dirTable.ref;
    await dirTable.append(listing.bytes);
    dir.listing = {
      block, offset,
      fileSize: listing.bytes.byteLength + 3,
      index: listing.index.map((i) => ({ index: i.offset, start: dirTable.blockStartAt(startPos + i.offset), name: i.name })),
    };
  };
  await writeTables(root);
  await writeInode(root.inode);
  const rootRef = (BigInt(root.inode.ref!.block) << 16n) | BigInt(root.inode.ref!.offset);

  // 5. Everything after the data, in the kernel's order.
  let pos = dataEnd;
  const put = async (bytes: Uint8Array) => {
    if (bytes.byteLength) await sink.write(pos, bytes);
    pos += bytes.byteLength;
  };
  const inodeTableStart = pos;
  for (const p of await inodeTable.finish()) await put(p);
  const directoryTableStart = pos;
  for (const p of await dirTable.finish()) await put(p);

  let fragmentTableStart = INVALID_TABLE;
  if (fragmentTable.length > 0) {
    const t = await packLookupTable(encodeFragmentRecords(fragmentTable), pos, compressor);
    await put(t.bytes);
    fragmentTableStart = BigInt(t.listOffset);
  } else if (fragments) {
    // mksquashfs points an empty fragment table at the current position.
    fragmentTableStart = BigInt(pos);
  }
  let exportTableStart = INVALID_TABLE;
  if (exportable) {
    const t = await packLookupTable(encodeExportRecords(exportRefs), pos, compressor);
    await put(t.bytes);
    exportTableStart = BigInt(t.listOffset);
  }
  const idt = await packLookupTable(ids.encodeRecords(), pos, compressor);
  await put(idt.bytes);
  let xattrIdTableStart = INVALID_TABLE;
  if (xattrs.count > 0) {
    const x = await xattrs.pack(pos, compressor);
    await put(x.bytes);
    xattrIdTableStart = BigInt(x.headerOffset);
  }
  const bytesUsed = pos;
  const size = Math.ceil(bytesUsed / DEVICE_BLOCK_SIZE) * DEVICE_BLOCK_SIZE;
  if (size > bytesUsed) await sink.write(bytesUsed, Buffer.alloc(size - bytesUsed));
  await sink.setSize(size);

  let flags = 0;
  if (!fragments) flags |= Flag.noFragments;
  if (tailEnds) flags |= Flag.alwaysFragments;
  if (duplicates) flags |= Flag.duplicates;
  if (exportable) flags |= Flag.exportable;
  if (optionsBlock) flags |= Flag.compressorOptions;
  const sb = encodeSuperblock({
    inodeCount,
    modificationTime: mkfsTime,
    blockSize,
    fragmentEntryCount: fragmentTable.length,
    compressionId: compressionId(compression),
    flags,
    idCount: ids.count,
    rootInodeRef: rootRef,
    bytesUsed: BigInt(bytesUsed),
    idTableStart: BigInt(idt.listOffset),
    xattrIdTableStart,
    inodeTableStart: BigInt(inodeTableStart),
    directoryTableStart: BigInt(directoryTableStart),
    fragmentTableStart,
    exportTableStart,
  });
  await sink.write(0, optionsBlock ? Buffer.concat([sb, optionsBlock]) : sb);
  progress?.({ type: 'step-done', step: STEP, detail: `${inodeCount} inodes, ${bytesUsed} bytes` });
  return { bytesUsed, size, inodeCount, fragmentCount: fragmentTable.length };
}
