/** The 96-byte superblock at offset 0 (squashfs-tools-ng doc/format.adoc "The Superblock"). */
import { invalidInput } from '../../core/errors.js';
import { CompressionId, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE, SQUASHFS_MAGIC, SUPERBLOCK_SIZE } from './constants.js';

export interface Superblock {
  inodeCount: number;
  modificationTime: number;
  blockSize: number;
  fragmentEntryCount: number;
  compressionId: number;
  flags: number;
  idCount: number;
  rootInodeRef: bigint;
  bytesUsed: bigint;
  idTableStart: bigint;
  xattrIdTableStart: bigint;
  inodeTableStart: bigint;
  directoryTableStart: bigint;
  fragmentTableStart: bigint;
  exportTableStart: bigint;
}

export function encodeSuperblock(sb: Superblock): Buffer {
  const b = Buffer.alloc(SUPERBLOCK_SIZE);
  b.writeUInt32LE(SQUASHFS_MAGIC, 0);
  b.writeUInt32LE(sb.inodeCount, 4);
  b.writeUInt32LE(sb.modificationTime, 8);
  b.writeUInt32LE(sb.blockSize, 12);
  b.writeUInt32LE(sb.fragmentEntryCount, 16);
  b.writeUInt16LE(sb.compressionId, 20);
  b.writeUInt16LE(Math.log2(sb.blockSize), 22);
  b.writeUInt16LE(sb.flags, 24);
  b.writeUInt16LE(sb.idCount, 26);
  b.writeUInt16LE(4, 28);
  b.writeUInt16LE(0, 30);
  b.writeBigUInt64LE(sb.rootInodeRef, 32);
  b.writeBigUInt64LE(sb.bytesUsed, 40);
  b.writeBigUInt64LE(sb.idTableStart, 48);
  b.writeBigUInt64LE(sb.xattrIdTableStart, 56);
  b.writeBigUInt64LE(sb.inodeTableStart, 64);
  b.writeBigUInt64LE(sb.directoryTableStart, 72);
  b.writeBigUInt64LE(sb.fragmentTableStart, 80);
  b.writeBigUInt64LE(sb.exportTableStart, 88);
  return b;
}

export function decodeSuperblock(bytes: Uint8Array): Superblock {
  if (bytes.byteLength < SUPERBLOCK_SIZE) throw invalidInput('E_SQUASHFS_TRUNCATED', 'squashfs image is shorter than its superblock');
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, SUPERBLOCK_SIZE);
  if (b.readUInt32LE(0) !== SQUASHFS_MAGIC) throw invalidInput('E_SQUASHFS_MAGIC', 'not a squashfs image (bad magic)');
  const major = b.readUInt16LE(28);
  const minor = b.readUInt16LE(30);
  if (major !== 4 || minor !== 0) throw invalidInput('E_SQUASHFS_VERSION', `unsupported squashfs version ${major}.${minor}`);
  const blockSize = b.readUInt32LE(12);
  const blockLog = b.readUInt16LE(22);
  if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || 1 << blockLog !== blockSize) {
    throw invalidInput('E_SQUASHFS_BLOCK_SIZE', `invalid squashfs block size ${blockSize} (log ${blockLog})`);
  }
  const compressionId = b.readUInt16LE(20);
  if (!Object.values(CompressionId).includes(compressionId as never)) {
    throw invalidInput('E_SQUASHFS_COMPRESSION', `unknown squashfs compressor id ${compressionId}`);
  }
  return {
    inodeCount: b.readUInt32LE(4),
    modificationTime: b.readUInt32LE(8),
    blockSize,
    fragmentEntryCount: b.readUInt32LE(16),
    compressionId,
    flags: b.readUInt16LE(24),
    idCount: b.readUInt16LE(26),
    rootInodeRef: b.readBigUInt64LE(32),
    bytesUsed: b.readBigUInt64LE(40),
    idTableStart: b.readBigUInt64LE(48),
    xattrIdTableStart: b.readBigUInt64LE(56),
    inodeTableStart: b.readBigUInt64LE(64),
    directoryTableStart: b.readBigUInt64LE(72),
    fragmentTableStart: b.readBigUInt64LE(80),
    exportTableStart: b.readBigUInt64LE(88),
  };
}
