/**
 * A squashfs 4.0 reader for our own checks (tests, the kernel-modules step that needs files from a
 * base image). Random access through a `read(offset, length)` source; every offset, count and size
 * read from the image is bounded, so a corrupt image gives an `E_SQUASHFS_*` error, not a hang or a
 * huge allocation.
 */
import { invalidInput } from '../../core/errors.js';
import { decodeCompressorOptions, decompressBlock, type SquashfsAlgorithm, type SquashfsCompression } from './compressor.js';
import {
  DATA_UNCOMPRESSED, Flag, INVALID_FRAGMENT, INVALID_TABLE, INVALID_XATTR, METADATA_SIZE, METADATA_UNCOMPRESSED, SUPERBLOCK_SIZE,
  XATTR_PREFIXES, XATTR_VALUE_OOL,
} from './constants.js';
import { decodeListing } from './directory.js';
import { decodeFragmentRecord, FRAGMENT_ENTRY_SIZE, type FragmentEntry } from './fragment-table.js';
import { decodeInode, decodeDevice, type DecodedInode } from './inode.js';
import { MetadataReader } from './metadata-block.js';
import { decodeSuperblock, type Superblock } from './superblock.js';

export interface SquashfsSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export interface SquashfsDirEntry {
  name: string;
  rawName: Buffer;
  inode: DecodedInode;
}

const corrupt = (msg: string) => invalidInput('E_SQUASHFS_CORRUPT', `corrupt squashfs image: ${msg}`);

function memorySource(bytes: Uint8Array): SquashfsSource {
  return {
    size: bytes.byteLength,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
  };
}

export class SquashfsReader {
  private inodes!: MetadataReader;
  private dirs!: MetadataReader;
  private fragments: FragmentEntry[] = [];
  private ids: number[] = [];
  private xattrKv: MetadataReader | null = null;
  private xattrIds: Array<{ ref: bigint; count: number; size: number }> = [];
  private end = 0;

  private constructor(
    private readonly src: SquashfsSource,
    readonly superblock: Superblock,
    readonly compression: SquashfsCompression,
  ) {}

  get algorithm(): SquashfsAlgorithm {
    return this.compression.algorithm;
  }

  static async open(source: Uint8Array | SquashfsSource): Promise<SquashfsReader> {
    const src = source instanceof Uint8Array ? memorySource(source) : source;
    const sb = decodeSuperblock(await readExact(src, 0, SUPERBLOCK_SIZE));
    const end = Number(sb.bytesUsed);
    if (!Number.isSafeInteger(end) || end > src.size || end < SUPERBLOCK_SIZE) throw corrupt(`bytes used ${sb.bytesUsed} vs image size ${src.size}`);
    let opts: Uint8Array | null = null;
    if (sb.flags & Flag.compressorOptions) {
      const h = Buffer.from(await readExact(src, SUPERBLOCK_SIZE, 2)).readUInt16LE(0);
      const len = h & 0x7fff;
      if (!(h & METADATA_UNCOMPRESSED) || len > 64) throw corrupt('compressor options block');
      opts = await readExact(src, SUPERBLOCK_SIZE + 2, len);
    }
    const r = new SquashfsReader(src, sb, decodeCompressorOptions(sb.compressionId, opts, sb.blockSize));
    r.end = end;
    await r.init();
    return r;
  }

  private off(v: bigint, what: string): number {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < SUPERBLOCK_SIZE || n > this.end) throw corrupt(`${what} at ${v} outside the image`);
    return n;
  }

  private async loadPiece(offset: number, tableEnd: number): Promise<{ data: Buffer; next: number }> {
    if (offset + 2 > tableEnd) throw corrupt(`metadata piece at ${offset} past its table`);
    const h = Buffer.from(await readExact(this.src, offset, 2)).readUInt16LE(0);
    const len = h & 0x7fff;
    if (len === 0 || len > METADATA_SIZE || offset + 2 + len > tableEnd) throw corrupt(`metadata piece at ${offset} has size ${len}`);
    const raw = await readExact(this.src, offset + 2, len);
    const data = h & METADATA_UNCOMPRESSED ? Buffer.from(raw) : await decompressBlock(this.algorithm, raw, METADATA_SIZE);
    return { data, next: offset + 2 + len };
  }

  /** Read a lookup table of `count` records of `size` bytes whose location list is at `listAt`. */
  private async lookupTable(listAt: number, count: number, size: number): Promise<Buffer> {
    if (count === 0) return Buffer.alloc(0);
    const pieces = Math.ceil((count * size) / METADATA_SIZE);
    if (listAt + 8 * pieces > this.end) throw corrupt('lookup table location list past the end');
    const list = Buffer.from(await readExact(this.src, listAt, 8 * pieces));
    const parts: Buffer[] = [];
    for (let i = 0; i < pieces; i++) {
      const at = this.off(list.readBigUInt64LE(8 * i), 'lookup table piece');
      if (at >= listAt) throw corrupt('lookup table piece after its location list');
      parts.push((await this.loadPiece(at, listAt)).data);
    }
    const all = Buffer.concat(parts);
    if (all.byteLength < count * size) throw corrupt('lookup table shorter than its count');
    return all.subarray(0, count * size);
  }

  private async init(): Promise<void> {
    const sb = this.superblock;
    const inodeStart = this.off(sb.inodeTableStart, 'inode table');
    const dirStart = this.off(sb.directoryTableStart, 'directory table');
    if (dirStart < inodeStart) throw corrupt('directory table before the inode table');
    // The directory table ends where the next table begins.
    const after = [sb.fragmentTableStart, sb.exportTableStart, sb.idTableStart, sb.xattrIdTableStart]
      .filter((v) => v !== INVALID_TABLE).map((v) => this.off(v, 'table'));
    const dirEnd = Math.min(this.end, ...after.filter((v) => v >= dirStart));
    this.inodes = new MetadataReader((o) => this.loadPiece(o, dirStart), inodeStart, dirStart);
    this.dirs = new MetadataReader((o) => this.loadPiece(o, dirEnd), dirStart, dirEnd);

    if (sb.fragmentEntryCount > 0) {
      if (sb.fragmentEntryCount > 1 << 24) throw corrupt(`${sb.fragmentEntryCount} fragments`);
      const t = await this.lookupTable(this.off(sb.fragmentTableStart, 'fragment table'), sb.fragmentEntryCount, FRAGMENT_ENTRY_SIZE);
      for (let i = 0; i < sb.fragmentEntryCount; i++) this.fragments.push(decodeFragmentRecord(t, i * FRAGMENT_ENTRY_SIZE));
    }
    const idt = await this.lookupTable(this.off(sb.idTableStart, 'id table'), sb.idCount, 4);
    for (let i = 0; i < sb.idCount; i++) this.ids.push(idt.readUInt32LE(4 * i));

    if (sb.xattrIdTableStart !== INVALID_TABLE) {
      const at = this.off(sb.xattrIdTableStart, 'xattr table');
      const h = Buffer.from(await readExact(this.src, at, 16));
      const kvStart = this.off(h.readBigUInt64LE(0), 'xattr key/value area');
      const count = h.readUInt32LE(8);
      if (count > 1 << 24) throw corrupt(`${count} xattr ids`);
      const t = await this.lookupTable(at + 16, count, 16);
      for (let i = 0; i < count; i++) {
        this.xattrIds.push({ ref: t.readBigUInt64LE(16 * i), count: t.readUInt32LE(16 * i + 8), size: t.readUInt32LE(16 * i + 12) });
      }
      this.xattrKv = new MetadataReader((o) => this.loadPiece(o, at), kvStart, at);
    }
  }

  /** The id table (uids/gids). */
  get idTable(): readonly number[] {
    return this.ids;
  }

  get fragmentTable(): readonly FragmentEntry[] {
    return this.fragments;
  }

  async readInode(block: number, offset: number): Promise<DecodedInode> {
    let b = block;
    let o = offset;
    const read = async (n: number) => {
      const r = await this.inodes.read(b, o, n);
      b = r.block;
      o = r.offset;
      return r.bytes;
    };
    const inode = await decodeInode(read, this.superblock.blockSize);
    if (inode.number < 1 || inode.number > this.superblock.inodeCount) throw corrupt(`inode number ${inode.number}`);
    return inode;
  }

  async root(): Promise<DecodedInode> {
    const ref = this.superblock.rootInodeRef;
    const inode = await this.readInode(Number(ref >> 16n), Number(ref & 0xffffn));
    if (inode.kind !== 'dir') throw corrupt('root inode is not a directory');
    return inode;
  }

  uid(inode: DecodedInode): number {
    const v = this.ids[inode.uidIndex];
    if (v === undefined) throw corrupt(`uid index ${inode.uidIndex}`);
    return v;
  }

  gid(inode: DecodedInode): number {
    const v = this.ids[inode.gidIndex];
    if (v === undefined) throw corrupt(`gid index ${inode.gidIndex}`);
    return v;
  }

  async list(dir: DecodedInode): Promise<SquashfsDirEntry[]> {
    if (dir.kind !== 'dir') throw invalidInput('E_SQUASHFS_NOT_DIR', 'not a directory');
    if (dir.fileSize <= 3) return [];
    let b = dir.blockIndex;
    let o = dir.blockOffset;
    const read = async (n: number) => {
      const r = await this.dirs.read(b, o, n);
      b = r.block;
      o = r.offset;
      return r.bytes;
    };
    const entries = await decodeListing(read, dir.fileSize - 3);
    const out: SquashfsDirEntry[] = [];
    for (const e of entries) {
      const inode = await this.readInode(e.inodeBlock, e.inodeOffset);
      if (inode.number !== e.inodeNumber) throw corrupt(`directory entry ${e.name.toString()} names inode ${e.inodeNumber}, found ${inode.number}`);
      out.push({ name: e.name.toString('utf8'), rawName: e.name, inode });
    }
    return out;
  }

  /** Pre-order walk, entries sorted as stored; the root is yielded as ''. */
  async *walk(): AsyncGenerator<{ path: string; inode: DecodedInode }> {
    const root = await this.root();
    yield { path: '', inode: root };
    const seen = new Set<number>([root.number]);
    const visit = async function* (this: SquashfsReader, dir: DecodedInode, prefix: string, depth: number): AsyncGenerator<{ path: string; inode: DecodedInode }> {
      if (depth > 4096) throw corrupt('directory tree too deep');
      for (const e of await this.list(dir)) {
        const path = prefix ? `${prefix}/${e.name}` : e.name;
        yield { path, inode: e.inode };
        if (e.inode.kind === 'dir') {
          if (seen.has(e.inode.number)) throw corrupt(`directory loop at ${path}`);
          seen.add(e.inode.number);
          yield* visit.call(this, e.inode, path, depth + 1);
        }
      }
    };
    yield* visit.call(this, root, '', 0);
  }

  /** A file's content, block by block. */
  async *content(inode: DecodedInode): AsyncGenerator<Buffer> {
    if (inode.kind !== 'file') throw invalidInput('E_SQUASHFS_NOT_FILE', 'not a regular file');
    const bs = this.superblock.blockSize;
    let at = inode.blocksStart;
    let left = inode.fileSize;
    for (const word of inode.blockSizes) {
      const want = Math.min(bs, left);
      const size = word & ~DATA_UNCOMPRESSED;
      if (size === 0) {
        yield Buffer.alloc(want);
      } else {
        if (size > bs || at + size > this.end) throw corrupt(`data block at ${at} of ${size} bytes`);
        const raw = await readExact(this.src, at, size);
        const data = word & DATA_UNCOMPRESSED ? Buffer.from(raw) : await decompressBlock(this.algorithm, raw, bs);
        if (data.byteLength < want) throw corrupt(`data block at ${at} is short`);
        yield data.subarray(0, want);
        at += size;
      }
      left -= want;
    }
    if (left > 0) {
      if (inode.fragment === INVALID_FRAGMENT) throw corrupt('file is longer than its blocks and has no fragment');
      const f = this.fragments[inode.fragment];
      if (!f) throw corrupt(`fragment index ${inode.fragment}`);
      const size = f.sizeWord & ~DATA_UNCOMPRESSED;
      if (size > bs || f.start + size > this.end) throw corrupt(`fragment block at ${f.start}`);
      const raw = await readExact(this.src, f.start, size);
      const data = f.sizeWord & DATA_UNCOMPRESSED ? Buffer.from(raw) : await decompressBlock(this.algorithm, raw, bs);
      if (inode.fragmentOffset + left > data.byteLength) throw corrupt('tail end past its fragment block');
      yield data.subarray(inode.fragmentOffset, inode.fragmentOffset + left);
    }
  }

  async readFile(inode: DecodedInode, maxBytes = 256 * 1024 * 1024): Promise<Buffer> {
    if (inode.kind === 'file' && inode.fileSize > maxBytes) throw invalidInput('E_SQUASHFS_TOO_LARGE', `file of ${inode.fileSize} bytes exceeds ${maxBytes}`);
    const parts: Buffer[] = [];
    for await (const c of this.content(inode)) parts.push(c);
    return Buffer.concat(parts);
  }

  async xattrs(inode: DecodedInode): Promise<Record<string, Buffer>> {
    if (inode.xattr === INVALID_XATTR) return {};
    const id = this.xattrIds[inode.xattr];
    if (!id || !this.xattrKv) throw corrupt(`xattr index ${inode.xattr}`);
    let b = Number(id.ref >> 16n);
    let o = Number(id.ref & 0xffffn);
    const read = async (n: number) => {
      const r = await this.xattrKv!.read(b, o, n);
      b = r.block;
      o = r.offset;
      return r.bytes;
    };
    const out: Record<string, Buffer> = {};
    for (let i = 0; i < id.count && i < 65536; i++) {
      const k = await read(4);
      const type = k.readUInt16LE(0);
      const prefix = XATTR_PREFIXES[type & 0xff];
      if (!prefix) throw corrupt(`xattr prefix ${type}`);
      const name = (await read(k.readUInt16LE(2))).toString('utf8');
      const vsize = (await read(4)).readUInt32LE(0);
      if (vsize > 65536) throw corrupt(`xattr value of ${vsize} bytes`);
      let value = await read(vsize);
      if (type & XATTR_VALUE_OOL) {
        const ref = value.readBigUInt64LE(0);
        const r = await this.xattrKv.read(Number(ref >> 16n), Number(ref & 0xffffn), 4);
        const len = r.bytes.readUInt32LE(0);
        if (len > 65536) throw corrupt(`xattr value of ${len} bytes`);
        value = (await this.xattrKv.read(r.block, r.offset, len)).bytes;
      }
      out[prefix + name] = value;
    }
    return out;
  }

  /** Device numbers of a char/block inode. */
  static device(inode: DecodedInode): { major: number; minor: number } | null {
    return inode.kind === 'char' || inode.kind === 'block' ? decodeDevice(inode.device) : null;
  }
}

async function readExact(src: SquashfsSource, offset: number, length: number): Promise<Uint8Array> {
  if (offset < 0 || length < 0 || offset + length > src.size) throw corrupt(`read of ${length} bytes at ${offset} past the end (${src.size})`);
  const b = await src.read(offset, length);
  if (b.byteLength !== length) throw corrupt(`short read at ${offset}`);
  return b;
}
