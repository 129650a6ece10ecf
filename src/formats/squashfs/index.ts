/** squashfs 4.0 writer and reader (talos-imager.md §4.5). */
export { writeSquashfs, type SquashfsWriteOptions, type SquashfsWriteResult } from './writer.js';
export {
  type SquashfsBlockCompressor, type SquashfsCompression, type SquashfsAlgorithm, encodeCompressorOptions, normalizeCompression,
} from './compressor.js';
export { createInProcessCompressor } from './in-process-compressor.js';
export { decodeSuperblock, type Superblock } from './superblock.js';
export { SquashfsReader, type SquashfsSource, type SquashfsDirEntry } from './reader.js';
export type { DecodedInode } from './inode.js';
