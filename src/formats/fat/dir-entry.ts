/**
 * 32-byte directory entries (fatgen103 §6) and VFAT long-name entries (§7). A long name is stored as
 * ⌈len/13⌉ entries of 13 UTF-16 units in reverse order (the last one flagged 0x40) right before its
 * short entry, each carrying the short name's checksum; the final piece is NUL-terminated and
 * 0xFFFF-padded.
 */
import type { DosTime } from './dos-time.js';
import { shortNameChecksum } from './short-name.js';

export const DIR_ENTRY_SIZE = 32;
export const ATTR_READ_ONLY = 0x01;
export const ATTR_HIDDEN = 0x02;
export const ATTR_SYSTEM = 0x04;
export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;
export const ATTR_LONG_NAME = 0x0f;
export const LFN_LAST = 0x40;
export const DELETED = 0xe5;

/** Positions of the 13 UTF-16 units in a long-name entry. */
const LFN_UNIT_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

export interface ShortEntryFields {
  /** 11 bytes, latin1. */
  raw: string;
  attributes: number;
  caseBits: number;
  firstCluster: number;
  size: number;
  created: DosTime;
  modified: DosTime;
}

export function encodeShortEntry(f: ShortEntryFields, out: Buffer, at: number): void {
  out.write(f.raw, at, 11, 'latin1');
  out[at + 11] = f.attributes;
  out[at + 12] = f.caseBits;
  out[at + 13] = f.created.centiseconds;
  out.writeUInt16LE(f.created.time, at + 14);
  out.writeUInt16LE(f.created.date, at + 16);
  out.writeUInt16LE(f.modified.date, at + 18); // last access date
  out.writeUInt16LE((f.firstCluster >>> 16) & 0xffff, at + 20);
  out.writeUInt16LE(f.modified.time, at + 22);
  out.writeUInt16LE(f.modified.date, at + 24);
  out.writeUInt16LE(f.firstCluster & 0xffff, at + 26);
  out.writeUInt32LE(f.size >>> 0, at + 28);
}

export const longEntryCount = (name: string) => Math.ceil(name.length / 13);

/** Write the long-name entries for `name` (in on-disk order) at `at`; returns the next offset. */
export function encodeLongEntries(name: string, shortRaw: string, out: Buffer, at: number): number {
  const checksum = shortNameChecksum(Buffer.from(shortRaw, 'latin1'));
  const count = longEntryCount(name);
  const units = new Uint16Array(count * 13).fill(0xffff);
  for (let i = 0; i < name.length; i++) units[i] = name.charCodeAt(i);
  if (name.length < units.length) units[name.length] = 0;
  for (let k = count; k >= 1; k--) {
    out[at] = k | (k === count ? LFN_LAST : 0);
    out[at + 11] = ATTR_LONG_NAME;
    out[at + 12] = 0;
    out[at + 13] = checksum;
    out.writeUInt16LE(0, at + 26);
    for (let j = 0; j < 13; j++) out.writeUInt16LE(units[(k - 1) * 13 + j]!, at + LFN_UNIT_OFFSETS[j]!);
    at += DIR_ENTRY_SIZE;
  }
  return at;
}

export interface RawLongPiece {
  ordinal: number;
  last: boolean;
  checksum: number;
  units: number[];
}

export function decodeLongPiece(b: Buffer, at: number): RawLongPiece {
  const units: number[] = [];
  for (const o of LFN_UNIT_OFFSETS) units.push(b.readUInt16LE(at + o));
  return { ordinal: b[at]! & 0x3f, last: (b[at]! & LFN_LAST) !== 0, checksum: b[at + 13]!, units };
}

export interface RawShortEntry {
  raw: Buffer;
  attributes: number;
  caseBits: number;
  firstCluster: number;
  size: number;
  modifiedDate: number;
  modifiedTime: number;
}

export function decodeShortEntry(b: Buffer, at: number, fat32: boolean): RawShortEntry {
  return {
    raw: b.subarray(at, at + 11),
    attributes: b[at + 11]!,
    caseBits: b[at + 12]!,
    firstCluster: (fat32 ? b.readUInt16LE(at + 20) << 16 : 0) + b.readUInt16LE(at + 26),
    size: b.readUInt32LE(at + 28),
    modifiedDate: b.readUInt16LE(at + 24),
    modifiedTime: b.readUInt16LE(at + 22),
  };
}

/** Display form of a short name, honouring the NT case bits: `BOOTX64.efi`. */
export function shortNameText(raw: Uint8Array, caseBits: number): string {
  const r = Buffer.from(raw);
  if (r[0] === 0x05) r[0] = DELETED;
  let base = r.subarray(0, 8).toString('latin1').replace(/ +$/, '');
  let ext = r.subarray(8, 11).toString('latin1').replace(/ +$/, '');
  if (caseBits & 0x08) base = base.toLowerCase();
  if (caseBits & 0x10) ext = ext.toLowerCase();
  return ext ? `${base}.${ext}` : base;
}
