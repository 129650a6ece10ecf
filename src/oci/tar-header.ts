/**
 * The 512-byte tar header (POSIX ustar, with GNU and PAX extensions) as a pure codec: decode a block
 * into fields, encode fields into blocks. Layer tars use all three dialects (talos-imager.md §2.2:
 * the flattened export is PAX). Stream plumbing lives in tar-scan.ts and tar-writer.ts.
 */
import { invalidInput, unsupported } from '../core/errors.js';

export const BLOCK = 512;

// Field offsets and widths (POSIX.1-2001 ustar).
const NAME = 0, NAME_LEN = 100;
const MODE = 100;
const UID = 108;
const GID = 116;
const SIZE = 124, SIZE_LEN = 12;
const MTIME = 136;
const CHKSUM = 148;
const TYPEFLAG = 156;
const LINKNAME = 157, LINKNAME_LEN = 100;
const MAGIC = 257;
const VERSION = 263;
const UNAME = 265, UNAME_LEN = 32;
const GNAME = 297;
const DEVMAJOR = 329;
const DEVMINOR = 337;
const PREFIX = 345, PREFIX_LEN = 155;

export type TarType =
  | 'file'
  | 'hardlink'
  | 'symlink'
  | 'char'
  | 'block'
  | 'dir'
  | 'fifo'
  | 'pax' // per-entry PAX extended header ('x')
  | 'pax-global' // 'g'
  | 'gnu-longname' // 'L'
  | 'gnu-longlink' // 'K'
  | 'other';

const typeByFlag: Record<string, TarType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
  x: 'pax', X: 'pax', g: 'pax-global', L: 'gnu-longname', K: 'gnu-longlink',
};
const flagByType: Partial<Record<TarType, string>> = {
  file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6', pax: 'x', 'pax-global': 'g', 'gnu-longname': 'L', 'gnu-longlink': 'K',
};

export interface TarHeader {
  name: string;
  type: TarType;
  /** The raw type flag character (for messages about unknown types). */
  flag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devMajor: number;
  devMinor: number;
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function cstring(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  const bytes = b.subarray(off, end);
  // Names are bytes; decode as UTF-8 where valid, else byte-preserving latin1.
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return latin1.decode(bytes);
  }
}

/** Octal (NUL/space terminated) or GNU base-256 (high bit of the first byte) number. */
export function decodeNumber(b: Uint8Array, off: number, len: number, field: string): number {
  if (b[off]! & 0x80) {
    if (b[off] === 0xff) throw invalidInput('E_TAR_HEADER', `tar header: negative ${field}`);
    let v = b[off]! & 0x7f;
    for (let i = 1; i < len; i++) {
      v = v * 256 + b[off + i]!;
      if (v > Number.MAX_SAFE_INTEGER) throw invalidInput('E_TAR_HEADER', `tar header: ${field} too large`);
    }
    return v;
  }
  let i = off;
  const end = off + len;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let v = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) throw invalidInput('E_TAR_HEADER', `tar header: ${field} is not octal`);
    v = v * 8 + (c - 0x30);
    digits++;
  }
  void digits;
  return v;
}

function checksum(b: Uint8Array): { unsigned: number; signed: number } {
  let u = 0;
  let s = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= CHKSUM && i < CHKSUM + 8 ? 0x20 : b[i]!;
    u += c;
    s += c > 127 ? c - 256 : c;
  }
  return { unsigned: u, signed: s };
}

export function isZeroBlock(b: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

/** Decode one header block. Throws E_TAR_HEADER on a bad checksum or field. */
export function decodeHeader(b: Uint8Array): TarHeader {
  if (b.byteLength < BLOCK) throw invalidInput('E_TAR_TRUNCATED', 'tar: truncated header block');
  const stored = decodeNumber(b, CHKSUM, 8, 'checksum');
  const sum = checksum(b);
  if (stored !== sum.unsigned && stored !== sum.signed) throw invalidInput('E_TAR_HEADER', 'tar header: checksum mismatch (not a tar, or corrupt)');
  const flag = String.fromCharCode(b[TYPEFLAG]!);
  const magic = latin1.decode(b.subarray(MAGIC, MAGIC + 6));
  const version = latin1.decode(b.subarray(VERSION, VERSION + 2));
  const ustar = magic === 'ustar\0' && version === '00';
  let name = cstring(b, NAME, NAME_LEN);
  if (ustar) {
    const prefix = cstring(b, PREFIX, PREFIX_LEN);
    if (prefix) name = `${prefix}/${name}`;
  }
  let type: TarType = typeByFlag[flag] ?? 'other';
  // Old (v7) archives mark directories by a trailing slash on a regular file.
  if (type === 'file' && flag === '\0' && name.endsWith('/')) type = 'dir';
  return {
    name,
    type,
    flag,
    mode: decodeNumber(b, MODE, 8, 'mode') & 0o7777,
    uid: decodeNumber(b, UID, 8, 'uid'),
    gid: decodeNumber(b, GID, 8, 'gid'),
    size: decodeNumber(b, SIZE, SIZE_LEN, 'size'),
    mtime: decodeNumber(b, MTIME, 12, 'mtime'),
    linkname: cstring(b, LINKNAME, LINKNAME_LEN),
    uname: cstring(b, UNAME, UNAME_LEN),
    gname: cstring(b, GNAME, 32),
    devMajor: ustar || magic === 'ustar ' ? decodeNumber(b, DEVMAJOR, 8, 'devmajor') : 0,
    devMinor: ustar || magic === 'ustar ' ? decodeNumber(b, DEVMINOR, 8, 'devminor') : 0,
  };
}

/** PAX extended header records: `"<len> <key>=<value>\n"`, values kept as bytes (xattrs are binary). */
export function parsePax(data: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let i = 0;
  while (i < data.byteLength) {
    if (data[i] === 0) break; // padding
    let sp = i;
    while (sp < data.byteLength && sp - i < 20 && data[sp] !== 0x20) sp++;
    if (data[sp] !== 0x20) throw invalidInput('E_TAR_PAX', 'tar: malformed PAX record length');
    const len = Number(latin1.decode(data.subarray(i, sp)));
    if (!Number.isSafeInteger(len) || len <= sp - i + 1 || i + len > data.byteLength || data[i + len - 1] !== 0x0a) {
      throw invalidInput('E_TAR_PAX', 'tar: malformed PAX record');
    }
    const rec = data.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw invalidInput('E_TAR_PAX', 'tar: PAX record without a key');
    out.set(utf8.decode(rec.subarray(0, eq)), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

/** Apply PAX overrides to a header (the standard keys), returning xattrs separately. */
export function applyPax(h: TarHeader, pax: Map<string, Uint8Array>): { xattrs: Record<string, Uint8Array> } {
  const xattrs: Record<string, Uint8Array> = {};
  const num = (k: string, v: Uint8Array, frac = false): number => {
    const s = latin1.decode(v);
    const re = frac ? /^-?\d{1,15}(?:\.\d*)?$/ : /^\d{1,16}$/;
    if (!re.test(s)) throw invalidInput('E_TAR_PAX', `tar: PAX ${k}=${JSON.stringify(s.slice(0, 40))} is not a number`);
    const n = frac ? Math.floor(Number(s)) : Number(s);
    if (!Number.isSafeInteger(n)) throw invalidInput('E_TAR_PAX', `tar: PAX ${k} out of range`);
    return n;
  };
  for (const [k, v] of pax) {
    switch (k) {
      case 'path': h.name = utf8.decode(v); break;
      case 'linkpath': h.linkname = utf8.decode(v); break;
      case 'size': h.size = num(k, v); break;
      case 'uid': h.uid = num(k, v); break;
      case 'gid': h.gid = num(k, v); break;
      case 'mtime': h.mtime = num(k, v, true); break;
      case 'uname': h.uname = utf8.decode(v); break;
      case 'gname': h.gname = utf8.decode(v); break;
      default:
        if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice('SCHILY.xattr.'.length)] = v;
        else if (k.startsWith('GNU.sparse.')) throw unsupported('E_TAR_SPARSE', `tar: GNU sparse file ${JSON.stringify(h.name)} is not supported`);
    }
  }
  return { xattrs };
}

// ---- encoding ------------------------------------------------------------------------------------

const utf8enc = new TextEncoder();

function putString(b: Uint8Array, off: number, len: number, s: string): boolean {
  const bytes = utf8enc.encode(s);
  if (bytes.byteLength > len) return false;
  b.set(bytes, off);
  return true;
}

function putOctal(b: Uint8Array, off: number, len: number, v: number): boolean {
  const s = v.toString(8);
  if (s.length > len - 1) {
    if (len < 12) return false;
    // GNU base-256 for large sizes (8 GiB and more).
    b[off] = 0x80;
    let x = v;
    for (let i = off + len - 1; i > off; i--) {
      b[i] = x % 256;
      x = Math.floor(x / 256);
    }
    return true;
  }
  putString(b, off, len, s.padStart(len - 1, '0'));
  return true;
}

export interface EncodeFields {
  name: string;
  type: TarType;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: number;
  linkname?: string;
  uname?: string;
  gname?: string;
  devMajor?: number;
  devMinor?: number;
  xattrs?: Record<string, Uint8Array>;
}

function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const kv = Buffer.concat([utf8enc.encode(` ${key}=`), value, utf8enc.encode('\n')]);
  let len = kv.byteLength + 1;
  while (String(len).length + kv.byteLength !== len) len = String(len).length + kv.byteLength;
  return Buffer.concat([utf8enc.encode(String(len)), kv]);
}

function pad(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}

function rawHeader(f: EncodeFields, name: string, linkname: string, size: number, uid: number, gid: number, mtime: number): Uint8Array {
  const b = new Uint8Array(BLOCK);
  putString(b, NAME, NAME_LEN, name);
  putOctal(b, MODE, 8, (f.mode ?? (f.type === 'dir' ? 0o755 : 0o644)) & 0o7777);
  putOctal(b, UID, 8, uid);
  putOctal(b, GID, 8, gid);
  putOctal(b, SIZE, SIZE_LEN, size);
  putOctal(b, MTIME, 12, mtime);
  b[TYPEFLAG] = (flagByType[f.type] ?? '0').charCodeAt(0);
  putString(b, LINKNAME, LINKNAME_LEN, linkname);
  putString(b, MAGIC, 6, 'ustar\0');
  putString(b, VERSION, 2, '00');
  putString(b, UNAME, UNAME_LEN, f.uname ?? '');
  putString(b, GNAME, 32, f.gname ?? '');
  if (f.type === 'char' || f.type === 'block') {
    putOctal(b, DEVMAJOR, 8, f.devMajor ?? 0);
    putOctal(b, DEVMINOR, 8, f.devMinor ?? 0);
  }
  b.fill(0x20, CHKSUM, CHKSUM + 8);
  const sum = checksum(b).unsigned;
  putString(b, CHKSUM, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return b;
}

/**
 * Encode the header block(s) of one entry: a PAX extended header first when a field does not fit
 * ustar (long names, xattrs, large ids), then the ustar header. Data and padding are the caller's.
 */
export function encodeHeader(f: EncodeFields): Uint8Array {
  const size = f.type === 'file' ? (f.size ?? 0) : 0;
  const uid = f.uid ?? 0;
  const gid = f.gid ?? 0;
  const mtime = Math.max(0, Math.floor(f.mtime ?? 0));
  const records: Uint8Array[] = [];
  const nameBytes = utf8enc.encode(f.name).byteLength;
  let name = f.name;
  if (nameBytes > NAME_LEN) {
    records.push(paxRecord('path', utf8enc.encode(f.name)));
    // The ustar field keeps an ASCII stand-in; readers take the PAX `path`.
    name = f.name.replace(/[^\x20-\x7e]/g, '_').slice(0, NAME_LEN);
  }
  let linkname = f.linkname ?? '';
  if (utf8enc.encode(linkname).byteLength > LINKNAME_LEN) {
    records.push(paxRecord('linkpath', utf8enc.encode(linkname)));
    // A stand-in keeps the ustar field non-empty: libarchive mistypes hard links whose field is empty.
    linkname = linkname.replace(/[^\x20-\x7e]/g, '_').slice(0, LINKNAME_LEN);
  }
  if (uid > 0o7777777) records.push(paxRecord('uid', utf8enc.encode(String(uid))));
  if (gid > 0o7777777) records.push(paxRecord('gid', utf8enc.encode(String(gid))));
  for (const k of Object.keys(f.xattrs ?? {}).sort()) records.push(paxRecord(`SCHILY.xattr.${k}`, f.xattrs![k]!));
  const header = rawHeader(f, name, linkname, size, Math.min(uid, 0o7777777), Math.min(gid, 0o7777777), mtime);
  if (records.length === 0) return header;
  const paxData = Buffer.concat(records);
  const paxName = `PaxHeaders.0/${(f.name.split('/').pop() ?? '').slice(0, 80)}`;
  const paxHeader = rawHeader({ name: paxName, type: 'pax', mode: 0o644 }, paxName.replace(/[^\x20-\x7e]/g, '_'), '', paxData.byteLength, 0, 0, mtime);
  return Buffer.concat([paxHeader, paxData, new Uint8Array(pad(paxData.byteLength)), header]);
}

export function paddingFor(size: number): number {
  return pad(size);
}

/** Two zero blocks: the end of an archive. */
export const tarTrailer = new Uint8Array(BLOCK * 2);
