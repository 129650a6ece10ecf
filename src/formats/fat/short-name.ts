/**
 * Long names and their 8.3 short names (fatgen103 §7; the Windows/mtools "basis name" and "~N"
 * numeric tail). A name that is a valid 8.3 name apart from case gets no long-name entries: an
 * all-lower base or extension is recorded in the NT case bits (0x08, 0x10), as mtools and Linux do.
 * Anything else (mixed case, too long, several dots, characters a short name cannot hold) gets VFAT
 * long-name entries and a short name derived from it: upper-cased, spaces and extra dots dropped,
 * invalid characters replaced by `_`, truncated to 8+3, and — when that lost information — a `~N`
 * tail with the smallest N that is free in the directory.
 */
import { invalidInput } from '../../core/errors.js';

export const CASE_LOWER_BASE = 0x08;
export const CASE_LOWER_EXT = 0x10;
export const MAX_LONG_NAME = 255;

/** Characters a short name may hold besides A–Z and 0–9 (fatgen103 §6.1). */
const SHORT_SPECIALS = new Set("$%'-_@~`!(){}^#&");
/** Characters a long name may not hold (besides controls). */
const LONG_FORBIDDEN = new Set('"*/:<>?\\|');

export function checkLongName(name: string, what: string): void {
  if (name === '' || name === '.' || name === '..') throw invalidInput('E_FAT_NAME', `${what}: ${JSON.stringify(name)} is not a valid FAT name`);
  if (name.length > MAX_LONG_NAME) throw invalidInput('E_FAT_NAME', `${what}: name is longer than ${MAX_LONG_NAME} UTF-16 units`);
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || LONG_FORBIDDEN.has(ch)) {
      throw invalidInput('E_FAT_NAME', `${what}: name ${JSON.stringify(name)} holds a character FAT cannot store (${JSON.stringify(ch)})`);
    }
  }
  if (/[. ]$/.test(name)) throw invalidInput('E_FAT_NAME', `${what}: name ${JSON.stringify(name)} ends with a dot or space, which FAT drops`);
}

/** Key for case-insensitive name equality inside one directory. */
export function foldName(name: string): string {
  return name.toUpperCase();
}

const isShortChar = (ch: string) => (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || SHORT_SPECIALS.has(ch);
const hasLower = (s: string) => /[a-z]/.test(s);
const hasUpper = (s: string) => /[A-Z]/.test(s);

export interface ShortName {
  /** The 11 bytes (8 + 3, space padded), latin1. */
  raw: string;
  /** NT case bits for byte 12. */
  caseBits: number;
  /** Whether long-name entries must precede it. */
  needsLongName: boolean;
}

/** The short name when `name` is 8.3 up to case, without long-name entries; otherwise null. */
export function exactShortName(name: string): ShortName | null {
  const dot = name.lastIndexOf('.');
  const base = dot < 0 ? name : name.slice(0, dot);
  const ext = dot < 0 ? '' : name.slice(dot + 1);
  if (base.length < 1 || base.length > 8 || ext.length > 3 || (dot >= 0 && ext.length === 0)) return null;
  // ASCII only: toUpperCase of other letters can change length (ß → SS) or need a code page.
  for (const ch of base + ext) if (!isShortChar(ch) && !(ch >= 'a' && ch <= 'z')) return null;
  const raw = base.toUpperCase().padEnd(8, ' ') + ext.toUpperCase().padEnd(3, ' ');
  if (raw.charCodeAt(0) === 0xe5) return null;
  const mixed = (hasLower(base) && hasUpper(base)) || (hasLower(ext) && hasUpper(ext));
  if (mixed) return { raw, caseBits: 0, needsLongName: true };
  return { raw, caseBits: (hasLower(base) ? CASE_LOWER_BASE : 0) | (hasLower(ext) ? CASE_LOWER_EXT : 0), needsLongName: false };
}

function basisPart(s: string): { text: string; lossy: boolean } {
  let text = '';
  let lossy = false;
  for (const c of s) {
    const ch = c >= 'a' && c <= 'z' ? c.toUpperCase() : c;
    if (ch === ' ') {
      lossy = true;
    } else if (isShortChar(ch)) {
      text += ch;
    } else {
      text += '_';
      lossy = true;
    }
  }
  return { text, lossy };
}

/**
 * A short name for a long name that is not 8.3, unique among `taken` (the 11-byte short names already
 * in the directory). Windows/mtools basis-name rules with the `~N` tail.
 */
export function derivedShortName(name: string, taken: Set<string>): ShortName {
  let n = name.replace(/ /g, '');
  let lossy = n.length !== name.length;
  const stripped = n.replace(/^\.+/, '');
  if (stripped.length !== n.length) lossy = true;
  n = stripped;
  const dot = n.lastIndexOf('.');
  const baseSrc = dot < 0 ? n : n.slice(0, dot);
  const extSrc = dot < 0 ? '' : n.slice(dot + 1);
  if (baseSrc.includes('.')) lossy = true;
  const b = basisPart(baseSrc.replace(/\./g, ''));
  const e = basisPart(extSrc);
  lossy ||= b.lossy || e.lossy || b.text.length > 8 || e.text.length > 3;
  let base = b.text.slice(0, 8);
  const ext = e.text.slice(0, 3);
  if (base === '') {
    base = '_';
    lossy = true;
  }
  const make = (bs: string) => {
    const raw = bs.padEnd(8, ' ') + ext.padEnd(3, ' ');
    return raw.charCodeAt(0) === 0xe5 ? '\u0005' + raw.slice(1) : raw;
  };
  if (!lossy && !taken.has(make(base))) return { raw: make(base), caseBits: 0, needsLongName: true };
  for (let i = 1; i < 1_000_000; i++) {
    const tail = `~${i}`;
    const raw = make(base.slice(0, 8 - tail.length) + tail);
    if (!taken.has(raw)) return { raw, caseBits: 0, needsLongName: true };
  }
  throw invalidInput('E_FAT_NAME', `no free short name for ${JSON.stringify(name)}`);
}

/** The checksum of a short name that each long-name entry carries (fatgen103 §7). */
export function shortNameChecksum(raw: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + raw[i]!) & 0xff;
  return sum;
}
