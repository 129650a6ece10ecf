/**
 * squashfs 4.0 constants (squashfs-tools-ng doc/format.adoc; kernel fs/squashfs/squashfs_fs.h).
 * Everything on disk is little-endian.
 */
export const SQUASHFS_MAGIC = 0x73717368; // "hsqs"
export const SUPERBLOCK_SIZE = 96;
/** Uncompressed size of a metadata block (inodes, directories, lookup tables). */
export const METADATA_SIZE = 8192;
/** Bit 15 of a metadata block header: stored uncompressed. */
export const METADATA_UNCOMPRESSED = 0x8000;
/** Bit 24 of a data/fragment block size word: stored uncompressed. */
export const DATA_UNCOMPRESSED = 1 << 24;
export const DEFAULT_BLOCK_SIZE = 131072;
export const MIN_BLOCK_SIZE = 4096;
export const MAX_BLOCK_SIZE = 1048576;
/** Images are padded to a multiple of this (mksquashfs default, the kernel's device block size). */
export const DEVICE_BLOCK_SIZE = 4096;
export const INVALID_FRAGMENT = 0xffffffff;
export const INVALID_XATTR = 0xffffffff;
/** Absent optional table (xattr, fragment, export) in the superblock. */
export const INVALID_TABLE = 0xffffffffffffffffn;
/** A directory header covers at most this many entries. */
export const DIR_RUN_MAX = 256;
/** Longest entry name (the on-disk size field is off by one; the kernel caps it at 256). */
export const MAX_NAME_BYTES = 256;
/** Longest symlink target we write (PATH_MAX − 1). */
export const MAX_SYMLINK_BYTES = 4095;

export const InodeType = {
  dir: 1,
  file: 2,
  symlink: 3,
  block: 4,
  char: 5,
  fifo: 6,
  socket: 7,
  extDir: 8,
  extFile: 9,
  extSymlink: 10,
  extBlock: 11,
  extChar: 12,
  extFifo: 13,
  extSocket: 14,
} as const;

/** Superblock flags (informational except COMPRESSOR_OPTIONS). */
export const Flag = {
  uncompressedInodes: 0x0001,
  uncompressedData: 0x0002,
  check: 0x0004,
  uncompressedFragments: 0x0008,
  noFragments: 0x0010,
  alwaysFragments: 0x0020,
  duplicates: 0x0040,
  exportable: 0x0080,
  uncompressedXattrs: 0x0100,
  noXattrs: 0x0200,
  compressorOptions: 0x0400,
  uncompressedIds: 0x0800,
} as const;

export const CompressionId = {
  gzip: 1,
  lzo: 2,
  lzma: 3,
  xz: 4,
  lz4: 5,
  zstd: 6,
} as const;

/** xattr key prefixes (the on-disk type field); bit 8 marks an out-of-line value. */
export const XATTR_PREFIXES = ['user.', 'trusted.', 'security.'] as const;
export const XATTR_VALUE_OOL = 0x100;
