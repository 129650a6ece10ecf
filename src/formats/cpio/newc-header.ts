/**
 * The newc ("SVR4 no CRC") cpio header: `070701` then 13 fields of 8 uppercase hex digits, then the
 * NUL-terminated name, the header+name padded to 4 bytes, the data padded to 4 bytes
 * (talos-imager.md §4.6). Pure encode/decode; stream plumbing lives in newc-writer/newc-reader.
 */
import { invalidInput } from '../../core/errors.js';

export const NEWC_MAGIC = '070701';
/** `070702` is the same layout with a checksum field; readers accept it. */
export const NEWC_CRC_MAGIC = '070702';
export const NEWC_HEADER_SIZE = 110;
export const TRAILER_NAME = 'TRAILER!!!';

/** File-type bits of `mode` (S_IFMT and friends). */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

export interface NewcHeader {
  ino: number;
  /** Type and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  filesize: number;
  devmajor: number;
  devminor: number;
  rdevmajor: number;
  rdevminor: number;
  /** Name length including the terminating NUL. */
  namesize: number;
  check: number;
}

const FIELDS: Array<keyof NewcHeader> = [
  'ino', 'mode', 'uid', 'gid', 'nlink', 'mtime', 'filesize',
  'devmajor', 'devminor', 'rdevmajor', 'rdevminor', 'namesize', 'check',
];

const MAX_FIELD = 0xffffffff;

export const pad4 = (n: number): number => (4 - (n % 4)) % 4;

/** Header + name + padding to a multiple of 4. `name` is the raw path bytes (no NUL). */
export function encodeNewcHeader(header: Omit<NewcHeader, 'namesize'>, name: Uint8Array): Buffer {
  const namesize = name.byteLength + 1;
  const total = NEWC_HEADER_SIZE + namesize;
  const out = Buffer.alloc(total + pad4(total));
  out.write(NEWC_MAGIC, 0, 'latin1');
  const full: NewcHeader = { ...header, namesize };
  let off = 6;
  for (const field of FIELDS) {
    const v = full[field];
    if (!Number.isInteger(v) || v < 0 || v > MAX_FIELD) {
      throw invalidInput('E_CPIO_FIELD_RANGE', `cpio ${field} out of range for ${JSON.stringify(Buffer.from(name).toString('utf8'))}: ${v}`);
    }
    // GNU cpio writes uppercase hex.
    out.write(v.toString(16).toUpperCase().padStart(8, '0'), off, 'latin1');
    off += 8;
  }
  out.set(name, NEWC_HEADER_SIZE);
  // The NUL terminator and padding are already zero.
  return out;
}

/** Decode the fixed 110-byte part; throws on a bad magic or a non-hex field. */
export function decodeNewcHeader(bytes: Uint8Array, at = 0): NewcHeader & { crc: boolean } {
  if (bytes.byteLength - at < NEWC_HEADER_SIZE) throw invalidInput('E_CPIO_TRUNCATED', 'cpio header truncated');
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + at, NEWC_HEADER_SIZE).toString('latin1');
  const magic = text.slice(0, 6);
  if (magic !== NEWC_MAGIC && magic !== NEWC_CRC_MAGIC) {
    throw invalidInput('E_CPIO_MAGIC', `not a newc cpio header (magic ${JSON.stringify(magic)})`);
  }
  const header = { crc: magic === NEWC_CRC_MAGIC } as NewcHeader & { crc: boolean };
  let off = 6;
  for (const field of FIELDS) {
    const hex = text.slice(off, off + 8);
    if (!/^[0-9a-fA-F]{8}$/.test(hex)) throw invalidInput('E_CPIO_FIELD', `cpio header field ${field} is not hex: ${JSON.stringify(hex)}`);
    header[field] = parseInt(hex, 16);
    off += 8;
  }
  return header;
}
