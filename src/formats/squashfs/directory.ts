/**
 * Directory listings (squashfs-tools-ng doc/format.adoc "Directory Table", "Directory Index").
 *
 * A listing is a sequence of runs: a 12-byte header {count − 1, inode piece start, base inode number}
 * then up to 256 entries {offset in the inode piece, inode number − base (s16), basic type,
 * name length − 1, name}. Entries are sorted by name bytes. A new run starts when 256 entries are
 * reached, when the inodes move to another metadata piece, when the number delta leaves s16, or —
 * as mksquashfs does — when the bytes since the last index point would pass 8 KiB; that last case
 * also records a directory-index entry (offset of the new header and its first name) so lookups in
 * large directories can skip ahead.
 */
import { invalidInput } from '../../core/errors.js';
import { DIR_RUN_MAX, MAX_NAME_BYTES, METADATA_SIZE } from './constants.js';

export interface ListingChild {
  name: Buffer;
  /** Inode-table-relative start of the piece holding the child's inode. */
  inodeBlock: number;
  /** Offset of the inode inside that (uncompressed) piece. */
  inodeOffset: number;
  inodeNumber: number;
  /** Basic inode type (1–7). */
  type: number;
}

export interface EncodedListing {
  bytes: Buffer;
  /** Index points: header offset in `bytes` and the first name after it. */
  index: Array<{ offset: number; name: Buffer }>;
}

const HEADER_SIZE = 12;
const ENTRY_SIZE = 8;

export function encodeListing(children: readonly ListingChild[]): EncodedListing {
  const parts: Buffer[] = [];
  const index: EncodedListing['index'] = [];
  let len = 0;
  let indexBase = 0;
  let runHeader: Buffer | null = null;
  let runCount = 0;
  let runBlock = -1;
  let runBase = 0;

  const closeRun = () => {
    if (runHeader) runHeader.writeUInt32LE(runCount - 1, 0);
  };

  for (const c of children) {
    if (c.name.byteLength < 1 || c.name.byteLength > MAX_NAME_BYTES) {
      throw invalidInput('E_SQUASHFS_NAME', `entry name of ${c.name.byteLength} bytes (1..${MAX_NAME_BYTES} allowed): ${JSON.stringify(c.name.toString())}`);
    }
    const entrySize = ENTRY_SIZE + c.name.byteLength;
    const delta = c.inodeNumber - runBase;
    const pastIndex = runHeader !== null && len + entrySize - indexBase > METADATA_SIZE;
    if (!runHeader || runCount === DIR_RUN_MAX || c.inodeBlock !== runBlock || delta < -32768 || delta > 32767 || pastIndex) {
      if (pastIndex) {
        index.push({ offset: len, name: c.name });
        indexBase = len;
      }
      closeRun();
      runHeader = Buffer.alloc(HEADER_SIZE);
      runHeader.writeUInt32LE(c.inodeBlock, 4);
      runHeader.writeUInt32LE(c.inodeNumber, 8);
      parts.push(runHeader);
      len += HEADER_SIZE;
      runCount = 0;
      runBlock = c.inodeBlock;
      runBase = c.inodeNumber;
    }
    const e = Buffer.alloc(ENTRY_SIZE);
    e.writeUInt16LE(c.inodeOffset, 0);
    e.writeInt16LE(c.inodeNumber - runBase, 2);
    e.writeUInt16LE(c.type, 4);
    e.writeUInt16LE(c.name.byteLength - 1, 6);
    parts.push(e, c.name);
    len += entrySize;
    runCount++;
  }
  closeRun();
  return { bytes: Buffer.concat(parts), index };
}

export interface DecodedDirEntry {
  name: Buffer;
  inodeBlock: number;
  inodeOffset: number;
  inodeNumber: number;
  type: number;
}

/**
 * Decode a listing of `size` bytes (the inode's file size − 3), pulling bytes through `read`.
 * Bounded: counts and name lengths are checked against what is left.
 */
export async function decodeListing(read: (n: number) => Promise<Buffer>, size: number): Promise<DecodedDirEntry[]> {
  const out: DecodedDirEntry[] = [];
  let left = size;
  while (left > 0) {
    if (left < HEADER_SIZE) throw invalidInput('E_SQUASHFS_CORRUPT', 'directory listing ends inside a header');
    const h = await read(HEADER_SIZE);
    left -= HEADER_SIZE;
    const count = h.readUInt32LE(0) + 1;
    if (count > DIR_RUN_MAX) throw invalidInput('E_SQUASHFS_CORRUPT', `directory run of ${count} entries`);
    const block = h.readUInt32LE(4);
    const base = h.readUInt32LE(8);
    for (let i = 0; i < count; i++) {
      if (left < ENTRY_SIZE) throw invalidInput('E_SQUASHFS_CORRUPT', 'directory listing ends inside an entry');
      const e = await read(ENTRY_SIZE);
      const nameLen = e.readUInt16LE(6) + 1;
      left -= ENTRY_SIZE;
      if (nameLen > MAX_NAME_BYTES || nameLen > left) throw invalidInput('E_SQUASHFS_CORRUPT', `directory entry name of ${nameLen} bytes`);
      const name = await read(nameLen);
      left -= nameLen;
      if (name.includes(0x2f) || name.includes(0) || name.equals(Buffer.from('.')) || name.equals(Buffer.from('..'))) {
        throw invalidInput('E_SQUASHFS_CORRUPT', `unsafe directory entry name ${JSON.stringify(name.toString())}`);
      }
      out.push({ name, inodeBlock: block, inodeOffset: e.readUInt16LE(0), inodeNumber: base + e.readInt16LE(2), type: e.readUInt16LE(4) });
    }
  }
  return out;
}
