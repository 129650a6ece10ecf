/**
 * Implicit typing of plain YAML scalars as go-yaml (go.yaml.in/yaml/v4, the library the Talos
 * imager uses, talos-imager.md §1) does it. This is neither YAML 1.2 core nor 1.1: `0x0a` and
 * `017` are ints, `yes`/`on` are strings (but a bool field still accepts them), `1.10` is a float
 * that a string field keeps as the text `1.10`, `1e400` is a string because it overflows.
 *
 * Used in both directions: reading a profile (what a plain scalar means) and dumping one (a string
 * whose plain form would read back as something else must be quoted).
 */

export type ScalarTag = 'str' | 'int' | 'float' | 'bool' | 'null' | 'timestamp' | 'merge';

export interface Resolved {
  tag: ScalarTag;
  /** str: string; int: bigint; float: number; bool: boolean; null: null; timestamp/merge: the text. */
  value: string | bigint | number | boolean | null;
}

const MAP: Record<string, Resolved> = Object.create(null);
for (const s of ['true', 'True', 'TRUE']) MAP[s] = { tag: 'bool', value: true };
for (const s of ['false', 'False', 'FALSE']) MAP[s] = { tag: 'bool', value: false };
for (const s of ['', '~', 'null', 'Null', 'NULL']) MAP[s] = { tag: 'null', value: null };
for (const s of ['.nan', '.NaN', '.NAN']) MAP[s] = { tag: 'float', value: NaN };
for (const s of ['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF']) MAP[s] = { tag: 'float', value: Infinity };
for (const s of ['-.inf', '-.Inf', '-.INF']) MAP[s] = { tag: 'float', value: -Infinity };
for (const s of ['-0', '-0.0']) MAP[s] = { tag: 'float', value: -0 };
MAP['<<'] = { tag: 'merge', value: '<<' };

/** First-character hint: which resolutions can apply at all. */
function hint(first: string | undefined): 'M' | '.' | 'D' | 'S' | null {
  if (first === undefined) return 'M';
  if (first === '+' || first === '-') return 'S';
  if (first >= '0' && first <= '9') return 'D';
  if ('yYnNtTfFoO~<'.includes(first)) return 'M';
  if (first === '.') return '.';
  return null;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Go `strconv.ParseInt(s, 0, 64)` / `ParseUint(s, 0, 64)` after go-yaml removed the underscores:
 * optional sign (ParseInt only), base prefixes 0x/0o/0b, a leading 0 meaning octal.
 */
function parseGoInteger(s: string, signed: boolean): bigint | null {
  let i = 0;
  let neg = false;
  if (signed && (s[0] === '+' || s[0] === '-')) {
    neg = s[0] === '-';
    i = 1;
  }
  let body = s.slice(i);
  let base = 10;
  let digits: RegExp = /^[0-9]+$/;
  if (/^0[xX]/.test(body)) {
    base = 16;
    body = body.slice(2);
    digits = /^[0-9a-fA-F]+$/;
  } else if (/^0[oO]/.test(body)) {
    base = 8;
    body = body.slice(2);
    digits = /^[0-7]+$/;
  } else if (/^0[bB]/.test(body)) {
    base = 2;
    body = body.slice(2);
    digits = /^[01]+$/;
  } else if (body.length > 1 && body[0] === '0') {
    base = 8;
    body = body.slice(1);
    digits = /^[0-7]+$/;
  }
  if (!digits.test(body)) return null;
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
  let n = BigInt(prefix + body);
  if (neg) n = -n;
  if (signed ? n < INT64_MIN || n > INT64_MAX : n > UINT64_MAX) return null;
  return n;
}

const YAML_STYLE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const DOT_FLOAT = /^\.[0-9]+(?:[eE][-+]?[0-9]+)?$/;

/** Go `strconv.ParseFloat` on the decimal forms the resolver lets through; overflow is an error there. */
function parseGoFloat(s: string): number | null {
  const f = Number(s);
  return Number.isFinite(f) ? f : null;
}

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * go-yaml timestamps: exactly four year digits then `-`, and one of the layouts
 * `2006-1-2T15:4:5.999999999Z07:00` (also lower-case `t`), `2006-1-2 15:4:5.999999999`, `2006-1-2`.
 */
export function isGoYamlTimestamp(s: string): boolean {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:([Tt])(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})| (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?)?$/.exec(s);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return false;
  const hh = m[5] ?? m[8];
  const mm = m[6] ?? m[9];
  const ss = m[7] ?? m[10];
  if (hh !== undefined && (Number(hh) > 23 || Number(mm) > 59 || Number(ss) > 59)) return false;
  return true;
}

/** go-yaml `resolve("", text)` for a plain (unquoted, untagged) scalar. */
export function resolvePlain(text: string): Resolved {
  const h = hint(text[0]);
  if (h === null) return { tag: 'str', value: text };
  const known = MAP[text];
  if (known) return known;
  if (h === '.') {
    if (DOT_FLOAT.test(text)) {
      const f = parseGoFloat(text);
      if (f !== null) return { tag: 'float', value: f };
    }
  } else if (h === 'D' || h === 'S') {
    if (isGoYamlTimestamp(text)) return { tag: 'timestamp', value: text };
    const plain = text.replaceAll('_', '');
    const i = parseGoInteger(plain, true);
    if (i !== null) return { tag: 'int', value: i };
    const u = parseGoInteger(plain, false);
    if (u !== null) return { tag: 'int', value: u };
    if (YAML_STYLE_FLOAT.test(plain)) {
      const f = parseGoFloat(plain);
      if (f !== null) return { tag: 'float', value: f };
    }
  }
  return { tag: 'str', value: text };
}

/** YAML 1.1 booleans that go-yaml quotes on output and accepts for bool fields on input. */
export function goYamlOldBool(s: string): boolean | null {
  switch (s) {
    case 'y': case 'Y': case 'yes': case 'Yes': case 'YES': case 'on': case 'On': case 'ON':
      return true;
    case 'n': case 'N': case 'no': case 'No': case 'NO': case 'off': case 'Off': case 'OFF':
      return false;
    default:
      return null;
  }
}

const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;

/** YAML 1.1 sexagesimal numbers (`1:20`), quoted by go-yaml for compatibility. */
export function isBase60Float(s: string): boolean {
  if (s === '' || !/^[-+0-9]/.test(s) || !s.includes(':')) return false;
  return BASE60_FLOAT.test(s);
}

/** Go `underscoreOK`: with base-0 syntax an underscore must sit between digits (or after a base prefix). */
function underscoresOK(literal: string): boolean {
  let s = literal;
  if (s[0] === '+' || s[0] === '-') s = s.slice(1);
  let i = 0;
  let saw: 'start' | 'digit' | 'underscore' | 'other' = 'start';
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1]!)) {
    i = 2;
    saw = 'digit';
    hex = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = 'digit';
    } else if (c === '_') {
      if (saw !== 'digit') return false;
      saw = 'underscore';
    } else {
      if (saw === 'underscore') return false;
      saw = 'other';
    }
  }
  return saw !== 'underscore';
}

/** Go `strconv.ParseUint(s, 0, bits)`: used for `--meta 0x0a=…` keys (talos-imager.md §1.2). */
export function parseGoUint(s: string, bits: number): bigint | null {
  if (s.includes('_') && !underscoresOK(s)) return null;
  const n = parseGoInteger(s.replaceAll('_', ''), false);
  if (n === null || n >= 2n ** BigInt(bits)) return null;
  return n;
}
