/**
 * Talos target versions (talos-imager.md §3).
 *
 * The imager parses `profile.version` with blang/semver's "tolerant" rules and keeps only
 * major.minor.patch, so `v1.14.0-beta.1` behaves as `1.14.0`. A version that does not parse is not
 * an error: every quirk then answers as for the latest Talos (with a few marked exceptions in
 * `quirks.ts`). This module is that parser plus a comparison.
 */

export interface TalosVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Pre-release identifiers as written (`beta`, `1`); dropped by the quirks. */
  readonly prerelease: readonly string[];
  /** Build metadata identifiers (`+…`); never compared. */
  readonly build: readonly string[];
}

/** Go `strings.TrimSpace`: the Unicode White_Space set, which differs from JS `\s` (U+0085 yes, U+FEFF no). */
const GO_SPACE = '\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

export function trimGoSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && GO_SPACE.includes(s[start]!)) start++;
  while (end > start && GO_SPACE.includes(s[end - 1]!)) end--;
  return s.slice(start, end);
}

const MAX_UINT64 = 18446744073709551615n;
const DIGITS = /^[0-9]*$/;
const ALPHANUM = /^[0-9A-Za-z-]*$/;

/** A decimal uint64 in strict semver form (no leading zero); null when invalid or out of range. */
function strictNumber(part: string): number | null {
  if (part === '' || !DIGITS.test(part)) return null;
  if (part.length > 1 && part[0] === '0') return null;
  const n = BigInt(part);
  if (n > MAX_UINT64) return null;
  // Components beyond 2^53 cannot be told apart as numbers; no Talos version comes near.
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(n);
}

/** Strict semver 2.0 parse as blang/semver `Parse` does it; null when invalid. */
export function parseStrictVersion(s: string): TalosVersion | null {
  if (s === '') return null;
  const firstDot = s.indexOf('.');
  const secondDot = firstDot < 0 ? -1 : s.indexOf('.', firstDot + 1);
  if (secondDot < 0) return null;
  const major = strictNumber(s.slice(0, firstDot));
  const minor = strictNumber(s.slice(firstDot + 1, secondDot));
  if (major === null || minor === null) return null;
  let rest = s.slice(secondDot + 1);
  let build: string[] = [];
  let prerelease: string[] = [];
  const plus = rest.indexOf('+');
  if (plus >= 0) {
    build = rest.slice(plus + 1).split('.');
    rest = rest.slice(0, plus);
  }
  const dash = rest.indexOf('-');
  if (dash >= 0) {
    prerelease = rest.slice(dash + 1).split('.');
    rest = rest.slice(0, dash);
  }
  const patch = strictNumber(rest);
  if (patch === null) return null;
  for (const pre of prerelease) {
    if (pre === '' || !ALPHANUM.test(pre)) return null;
    if (DIGITS.test(pre) && pre.length > 1 && pre[0] === '0') return null;
    if (DIGITS.test(pre) && BigInt(pre) > MAX_UINT64) return null;
  }
  for (const b of build) if (b === '' || !ALPHANUM.test(b)) return null;
  return { major, minor, patch, prerelease, build };
}

/**
 * Tolerant parse (blang/semver `ParseTolerant`): trim white space, drop one leading `v`, strip
 * leading zeros of each of the first three dot parts, and pad `1` / `1.2` with `.0`.
 */
export function parseTalosVersion(raw: string): TalosVersion | null {
  let s = trimGoSpace(raw);
  if (s.startsWith('v')) s = s.slice(1);
  const parts: string[] = [];
  let rest = s;
  while (parts.length < 2) {
    const dot = rest.indexOf('.');
    if (dot < 0) break;
    parts.push(rest.slice(0, dot));
    rest = rest.slice(dot + 1);
  }
  parts.push(rest);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.length > 1) {
      let q = p.replace(/^0+/, '');
      if (q === '' || !/^[0-9]/.test(q)) q = '0' + q;
      parts[i] = q;
    }
  }
  if (parts.length < 3) {
    if (/[+-]/.test(parts[parts.length - 1]!)) return null;
    while (parts.length < 3) parts.push('0');
  }
  return parseStrictVersion(parts.join('.'));
}

function comparePrerelease(a: string, b: string): number {
  const an = DIGITS.test(a);
  const bn = DIGITS.test(b);
  if (an && bn) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x === y ? 0 : x > y ? 1 : -1;
  }
  if (an) return -1;
  if (bn) return 1;
  return a === b ? 0 : a > b ? 1 : -1;
}

/** Semver precedence: -1, 0 or 1. Build metadata is ignored. */
export function compareVersions(a: TalosVersion, b: TalosVersion): number {
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (a[k] !== b[k]) return a[k] > b[k] ? 1 : -1;
  }
  if (a.prerelease.length === 0 && b.prerelease.length === 0) return 0;
  if (a.prerelease.length === 0) return 1;
  if (b.prerelease.length === 0) return -1;
  const n = Math.min(a.prerelease.length, b.prerelease.length);
  for (let i = 0; i < n; i++) {
    const c = comparePrerelease(a.prerelease[i]!, b.prerelease[i]!);
    if (c !== 0) return c;
  }
  return a.prerelease.length === b.prerelease.length ? 0 : a.prerelease.length < b.prerelease.length ? -1 : 1;
}

/** `major.minor.patch[-pre][+build]` (no `v`). */
export function formatVersion(v: TalosVersion): string {
  let s = `${v.major}.${v.minor}.${v.patch}`;
  if (v.prerelease.length) s += '-' + v.prerelease.join('.');
  if (v.build.length) s += '+' + v.build.join('.');
  return s;
}

/** A literal version for rule tables (throws on a typo: programming error). */
export function mustParseVersion(s: string): TalosVersion {
  const v = parseStrictVersion(s);
  if (!v) throw new Error(`invalid version literal ${s}`);
  return v;
}

/**
 * The Talos version the imager this port follows would use when a profile names none: its own tag
 * (`version.Tag`), talos-imager.md header: "v1.14.0-beta.1-84". The `-84` commit suffix is not part of a tag.
 */
export const DEFAULT_TALOS_VERSION = 'v1.14.0-beta.1';
