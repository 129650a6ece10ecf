/**
 * Inodes (squashfs-tools-ng doc/format.adoc "Inode Table"). The writer picks the basic form whenever
 * it can hold the inode and the extended form otherwise, as mksquashfs does:
 * - directory: extended when it has xattrs, a directory index, or a listing over 64 KiB;
 * - file: extended when it has xattrs, hard links, sparse blocks, or a size/start beyond 4 GiB;
 * - symlink/device/fifo/socket: extended when it has xattrs.
 * Every inode starts with the common header: type, permissions, uid index, gid index, mtime, number.
 */
import { invalidInput } from '../../core/errors.js';
import { INVALID_XATTR, InodeType } from './constants.js';

export type InodeKind = 'dir' | 'file' | 'symlink' | 'block' | 'char' | 'fifo' | 'socket';

export interface InodeHeader {
  permissions: number;
  uidIndex: number;
  gidIndex: number;
  mtime: number;
  number: number;
}

export interface DirIndexEntry {
  /** Byte offset of a directory header inside the listing. */
  index: number;
  /** Directory-table-relative start of the metadata piece holding that header. */
  start: number;
  /** Name of the first entry after that header. */
  name: Buffer;
}

export type InodeRecord = InodeHeader & (
  | { kind: 'dir'; blockIndex: number; blockOffset: number; nlink: number; fileSize: number; parent: number; xattr: number; index: DirIndexEntry[] }
  | { kind: 'file'; blocksStart: number; fragment: number; fragmentOffset: number; fileSize: number; blockSizes: number[]; sparse: number; nlink: number; xattr: number }
  | { kind: 'symlink'; nlink: number; target: Buffer; xattr: number }
  | { kind: 'block' | 'char'; nlink: number; device: number; xattr: number }
  | { kind: 'fifo' | 'socket'; nlink: number; xattr: number }
);

const BASIC: Record<InodeKind, number> = {
  dir: InodeType.dir, file: InodeType.file, symlink: InodeType.symlink, block: InodeType.block,
  char: InodeType.char, fifo: InodeType.fifo, socket: InodeType.socket,
};

/** The basic type number, which directory entries always carry. */
export function basicType(kind: InodeKind): number {
  return BASIC[kind];
}

const U32 = 0xffffffff;

/** Linux `new_encode_dev`: major in bits 8–19, minor in bits 0–7 and 20–31. */
export function encodeDevice(major: number, minor: number): number {
  if (!Number.isInteger(major) || major < 0 || major > 0xfff || !Number.isInteger(minor) || minor < 0 || minor > 0xfffff) {
    throw invalidInput('E_SQUASHFS_DEVICE', `device number ${major}:${minor} out of range`);
  }
  return ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0;
}

export function decodeDevice(dev: number): { major: number; minor: number } {
  return { major: (dev & 0xfff00) >>> 8, minor: (dev & 0xff) | ((dev >>> 12) & 0xfff00) };
}

function header(b: Buffer, type: number, h: InodeHeader): void {
  b.writeUInt16LE(type, 0);
  b.writeUInt16LE(h.permissions & 0o7777, 2);
  b.writeUInt16LE(h.uidIndex, 4);
  b.writeUInt16LE(h.gidIndex, 6);
  b.writeUInt32LE(h.mtime >>> 0, 8);
  b.writeUInt32LE(h.number, 12);
}

export function encodeInode(inode: InodeRecord): Buffer {
  switch (inode.kind) {
    case 'dir': {
      const ext = inode.xattr !== INVALID_XATTR || inode.index.length > 0 || inode.fileSize > 0xffff;
      if (!ext) {
        const b = Buffer.alloc(32);
        header(b, InodeType.dir, inode);
        b.writeUInt32LE(inode.blockIndex, 16);
        b.writeUInt32LE(inode.nlink, 20);
        b.writeUInt16LE(inode.fileSize, 24);
        b.writeUInt16LE(inode.blockOffset, 26);
        b.writeUInt32LE(inode.parent, 28);
        return b;
      }
      if (inode.index.length > 0xffff) throw invalidInput('E_SQUASHFS_LIMIT', 'directory index too large');
      const parts: Buffer[] = [];
      const b = Buffer.alloc(40);
      header(b, InodeType.extDir, inode);
      b.writeUInt32LE(inode.nlink, 16);
      b.writeUInt32LE(inode.fileSize, 20);
      b.writeUInt32LE(inode.blockIndex, 24);
      b.writeUInt32LE(inode.parent, 28);
      b.writeUInt16LE(inode.index.length, 32);
      b.writeUInt16LE(inode.blockOffset, 34);
      b.writeUInt32LE(inode.xattr, 36);
      parts.push(b);
      for (const e of inode.index) {
        const ib = Buffer.alloc(12);
        ib.writeUInt32LE(e.index, 0);
        ib.writeUInt32LE(e.start, 4);
        ib.writeUInt32LE(e.name.byteLength - 1, 8);
        parts.push(ib, e.name);
      }
      return Buffer.concat(parts);
    }
    case 'file': {
      const n = inode.blockSizes.length;
      const ext = inode.xattr !== INVALID_XATTR || inode.nlink !== 1 || inode.sparse !== 0 || inode.fileSize > U32 || inode.blocksStart > U32;
      if (!ext) {
        const b = Buffer.alloc(32 + 4 * n);
        header(b, InodeType.file, inode);
        b.writeUInt32LE(inode.blocksStart, 16);
        b.writeUInt32LE(inode.fragment, 20);
        b.writeUInt32LE(inode.fragmentOffset, 24);
        b.writeUInt32LE(inode.fileSize, 28);
        inode.blockSizes.forEach((s, i) => b.writeUInt32LE(s, 32 + 4 * i));
        return b;
      }
      const b = Buffer.alloc(56 + 4 * n);
      header(b, InodeType.extFile, inode);
      b.writeBigUInt64LE(BigInt(inode.blocksStart), 16);
      b.writeBigUInt64LE(BigInt(inode.fileSize), 24);
      b.writeBigUInt64LE(BigInt(inode.sparse), 32);
      b.writeUInt32LE(inode.nlink, 40);
      b.writeUInt32LE(inode.fragment, 44);
      b.writeUInt32LE(inode.fragmentOffset, 48);
      b.writeUInt32LE(inode.xattr, 52);
      inode.blockSizes.forEach((s, i) => b.writeUInt32LE(s, 56 + 4 * i));
      return b;
    }
    case 'symlink': {
      const ext = inode.xattr !== INVALID_XATTR;
      const b = Buffer.alloc(24 + inode.target.byteLength + (ext ? 4 : 0));
      header(b, ext ? InodeType.extSymlink : InodeType.symlink, inode);
      b.writeUInt32LE(inode.nlink, 16);
      b.writeUInt32LE(inode.target.byteLength, 20);
      inode.target.copy(b, 24);
      if (ext) b.writeUInt32LE(inode.xattr, 24 + inode.target.byteLength);
      return b;
    }
    case 'block':
    case 'char': {
      const ext = inode.xattr !== INVALID_XATTR;
      const b = Buffer.alloc(ext ? 28 : 24);
      const type = inode.kind === 'block' ? (ext ? InodeType.extBlock : InodeType.block) : (ext ? InodeType.extChar : InodeType.char);
      header(b, type, inode);
      b.writeUInt32LE(inode.nlink, 16);
      b.writeUInt32LE(inode.device, 20);
      if (ext) b.writeUInt32LE(inode.xattr, 24);
      return b;
    }
    case 'fifo':
    case 'socket': {
      const ext = inode.xattr !== INVALID_XATTR;
      const b = Buffer.alloc(ext ? 24 : 20);
      const type = inode.kind === 'fifo' ? (ext ? InodeType.extFifo : InodeType.fifo) : (ext ? InodeType.extSocket : InodeType.socket);
      header(b, type, inode);
      b.writeUInt32LE(inode.nlink, 16);
      if (ext) b.writeUInt32LE(inode.xattr, 20);
      return b;
    }
  }
}

/** A decoded inode plus its on-disk type number. */
export type DecodedInode = InodeRecord & { type: number };

/**
 * Decode one inode, pulling bytes through `read` (which follows metadata pieces). `blockSize` is
 * needed to know how many block sizes a file inode carries.
 */
export async function decodeInode(read: (n: number) => Promise<Buffer>, blockSize: number): Promise<DecodedInode> {
  const h = await read(16);
  const type = h.readUInt16LE(0);
  const common = {
    type,
    permissions: h.readUInt16LE(2),
    uidIndex: h.readUInt16LE(4),
    gidIndex: h.readUInt16LE(6),
    mtime: h.readUInt32LE(8),
    number: h.readUInt32LE(12),
  };
  const blockCount = (size: number, fragment: number): number => {
    const n = fragment === 0xffffffff ? Math.ceil(size / blockSize) : Math.floor(size / blockSize);
    if (n > 1 << 22) throw invalidInput('E_SQUASHFS_CORRUPT', `file inode ${common.number} claims ${n} blocks`);
    return n;
  };
  const sizes = async (n: number): Promise<number[]> => {
    const b = await read(4 * n);
    return Array.from({ length: n }, (_, i) => b.readUInt32LE(4 * i));
  };
  switch (type) {
    case InodeType.dir: {
      const b = await read(16);
      return { ...common, kind: 'dir', blockIndex: b.readUInt32LE(0), nlink: b.readUInt32LE(4), fileSize: b.readUInt16LE(8),
        blockOffset: b.readUInt16LE(10), parent: b.readUInt32LE(12), xattr: INVALID_XATTR, index: [] };
    }
    case InodeType.extDir: {
      const b = await read(24);
      const count = b.readUInt16LE(16);
      const index: DirIndexEntry[] = [];
      for (let i = 0; i < count; i++) {
        const ib = await read(12);
        const len = ib.readUInt32LE(8) + 1;
        if (len > 256) throw invalidInput('E_SQUASHFS_CORRUPT', `directory index name of ${len} bytes`);
        index.push({ index: ib.readUInt32LE(0), start: ib.readUInt32LE(4), name: await read(len) });
      }
      return { ...common, kind: 'dir', nlink: b.readUInt32LE(0), fileSize: b.readUInt32LE(4), blockIndex: b.readUInt32LE(8),
        parent: b.readUInt32LE(12), blockOffset: b.readUInt16LE(18), xattr: b.readUInt32LE(20), index };
    }
    case InodeType.file: {
      const b = await read(16);
      const fragment = b.readUInt32LE(4);
      const fileSize = b.readUInt32LE(12);
      return { ...common, kind: 'file', blocksStart: b.readUInt32LE(0), fragment, fragmentOffset: b.readUInt32LE(8), fileSize,
        blockSizes: await sizes(blockCount(fileSize, fragment)), sparse: 0, nlink: 1, xattr: INVALID_XATTR };
    }
    case InodeType.extFile: {
      const b = await read(40);
      const fileSize = Number(b.readBigUInt64LE(8));
      const fragment = b.readUInt32LE(28);
      if (!Number.isSafeInteger(fileSize)) throw invalidInput('E_SQUASHFS_CORRUPT', 'file size out of range');
      return { ...common, kind: 'file', blocksStart: Number(b.readBigUInt64LE(0)), fileSize, sparse: Number(b.readBigUInt64LE(16)),
        nlink: b.readUInt32LE(24), fragment, fragmentOffset: b.readUInt32LE(32), xattr: b.readUInt32LE(36),
        blockSizes: await sizes(blockCount(fileSize, fragment)) };
    }
    case InodeType.symlink:
    case InodeType.extSymlink: {
      const b = await read(8);
      const len = b.readUInt32LE(4);
      if (len > 65535) throw invalidInput('E_SQUASHFS_CORRUPT', `symlink target of ${len} bytes`);
      const target = await read(len);
      const xattr = type === InodeType.extSymlink ? (await read(4)).readUInt32LE(0) : INVALID_XATTR;
      return { ...common, kind: 'symlink', nlink: b.readUInt32LE(0), target, xattr };
    }
    case InodeType.block:
    case InodeType.char:
    case InodeType.extBlock:
    case InodeType.extChar: {
      const ext = type >= InodeType.extDir;
      const b = await read(ext ? 12 : 8);
      const kind = type === InodeType.block || type === InodeType.extBlock ? 'block' : 'char';
      return { ...common, kind, nlink: b.readUInt32LE(0), device: b.readUInt32LE(4), xattr: ext ? b.readUInt32LE(8) : INVALID_XATTR };
    }
    case InodeType.fifo:
    case InodeType.socket:
    case InodeType.extFifo:
    case InodeType.extSocket: {
      const ext = type >= InodeType.extDir;
      const b = await read(ext ? 8 : 4);
      const kind = type === InodeType.fifo || type === InodeType.extFifo ? 'fifo' : 'socket';
      return { ...common, kind, nlink: b.readUInt32LE(0), xattr: ext ? b.readUInt32LE(4) : INVALID_XATTR };
    }
    default:
      throw invalidInput('E_SQUASHFS_CORRUPT', `unknown inode type ${type}`);
  }
}
