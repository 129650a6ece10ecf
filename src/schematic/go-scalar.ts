/**
 * How go-yaml reads and writes plain scalars, the part of its behaviour a schematic ID depends on
 * (image-factory.md §1.3, §1.5.4, §1.5.5). A JS YAML library resolves plain text by YAML 1.2 rules
 * (`012` is 12, `0b1` a string, `1_000` a string, no timestamps); go-yaml does not, so the text of
 * every scalar is kept and resolved here.
 *
 * Integers are kept as bigint (int64 / uint64 range), floats as number, timestamps as their
 * re-emitted RFC 3339 text.
 */

/** What a plain scalar resolves to (go-yaml `resolve("", text)`). */
export type Resolved =
  | { tag: '!!null' }
  | { tag: '!!bool'; value: boolean }
  | { tag: '!!int'; value: bigint; unsigned: boolean }
  | { tag: '!!float'; value: number }
  | { tag: '!!timestamp'; value: GoTime }
  | { tag: '!!merge' }
  | { tag: '!!str'; value: string };

/** A parsed timestamp: the RFC 3339 text go-yaml re-emits and whether its zone is UTC. */
export interface GoTime {
  text: string;
  utc: boolean;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

const FIXED: ReadonlyMap<string, Resolved> = new Map<string, Resolved>([
  ...['true', 'True', 'TRUE'].map((s): [string, Resolved] => [s, { tag: '!!bool', value: true }]),
  ...['false', 'False', 'FALSE'].map((s): [string, Resolved] => [s, { tag: '!!bool', value: false }]),
  ...['', '~', 'null', 'Null', 'NULL'].map((s): [string, Resolved] => [s, { tag: '!!null' }]),
  ...['.nan', '.NaN', '.NAN'].map((s): [string, Resolved] => [s, { tag: '!!float', value: NaN }]),
  ...['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map((s): [string, Resolved] => [s, { tag: '!!float', value: Infinity }]),
  ...['-.inf', '-.Inf', '-.INF'].map((s): [string, Resolved] => [s, { tag: '!!float', value: -Infinity }]),
  ...['-0', '-0.0'].map((s): [string, Resolved] => [s, { tag: '!!float', value: -0 }]),
  ['<<', { tag: '!!merge' }],
]);

/** First characters that may start a non-string plain scalar: sign, digit, `.` and the map's letters. */
function hint(c: string | undefined): 'S' | 'D' | 'M' | '.' | null {
  if (c === undefined) return 'M'; // empty text: looked up in the map (null)
  if (c === '+' || c === '-') return 'S';
  if (c >= '0' && c <= '9') return 'D';
  if ('yYnNtTfFoO~<'.includes(c)) return 'M';
  if (c === '.') return '.';
  return null;
}

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/**
 * Resolve the text of an untagged plain scalar as go-yaml does (§1.5.4). `timestamps: false` is the
 * resolution under an explicit non-timestamp tag (`!!int 2001-12-14` is not a date).
 */
export function resolvePlain(text: string, timestamps = true): Resolved {
  const h = hint(text[0]);
  if (h === null) return { tag: '!!str', value: text };
  const fixed = FIXED.get(text);
  if (fixed) return fixed;
  if (h === '.') {
    const f = parseGoFloat(text);
    if (f !== null) return { tag: '!!float', value: f };
  } else if (h === 'D' || h === 'S') {
    const t = timestamps ? parseGoTimestamp(text) : null;
    if (t) return { tag: '!!timestamp', value: t };
    const plain = text.replaceAll('_', '');
    const i = parseGoInt(plain);
    if (i !== null) {
      if (i >= INT64_MIN && i <= INT64_MAX) return { tag: '!!int', value: i, unsigned: false };
    }
    const u = parseGoUint(plain);
    if (u !== null) return { tag: '!!int', value: u, unsigned: true };
    if (YAML_STYLE_FLOAT.test(plain)) {
      const f = Number(plain);
      if (Number.isFinite(f)) return { tag: '!!float', value: f };
    }
  }
  return { tag: '!!str', value: text };
}

/** True when a string written plain would be read back as something else (§1.5.4). */
export function readsBackAsNonString(text: string): boolean {
  return resolvePlain(text).tag !== '!!str';
}

/**
 * Go `strconv.ParseInt(s, 0, 64)`-style parse without the range check: optional sign, then `0x`,
 * `0o`, `0b`, a leading `0` (octal) or decimal. Underscores are removed by the caller.
 */
function parseGoInt(s: string): bigint | null {
  let neg = false;
  let body = s;
  if (body[0] === '+' || body[0] === '-') {
    neg = body[0] === '-';
    body = body.slice(1);
  }
  const mag = parseGoUnsignedBody(body);
  if (mag === null) return null;
  const v = neg ? -mag : mag;
  return v >= INT64_MIN && v <= INT64_MAX ? v : null;
}

/** Go `strconv.ParseUint(s, 0, 64)`: no sign allowed. */
function parseGoUint(s: string): bigint | null {
  const v = parseGoUnsignedBody(s);
  return v !== null && v <= UINT64_MAX ? v : null;
}

function parseGoUnsignedBody(s: string): bigint | null {
  if (s === '') return null;
  let digits = s;
  let re = /^[0-9]+$/;
  let prefix = '';
  if (s.length >= 2 && s[0] === '0') {
    const p = s[1]!.toLowerCase();
    if (p === 'x') [prefix, re, digits] = ['0x', /^[0-9a-fA-F]+$/, s.slice(2)];
    else if (p === 'o') [prefix, re, digits] = ['0o', /^[0-7]+$/, s.slice(2)];
    else if (p === 'b') [prefix, re, digits] = ['0b', /^[01]+$/, s.slice(2)];
    else [prefix, re, digits] = ['0o', /^[0-7]+$/, s.slice(1)];
  }
  if (!re.test(digits)) return null;
  if (digits.length > 70) return null; // far beyond uint64 in any base; keeps BigInt small
  return BigInt(prefix + digits);
}

/**
 * Go `strconv.ParseFloat(s, 64)` for text starting with `.`: a decimal float with `_` only between
 * digits; an overflow is not a float.
 */
function parseGoFloat(s: string): number | null {
  if (!/^\.[0-9](?:_?[0-9])*(?:[eE][-+]?[0-9](?:_?[0-9])*)?$/.test(s)) return null;
  const f = Number(s.replaceAll('_', ''));
  return Number.isFinite(f) ? f : null;
}

// ---------------------------------------------------------------------------------------------
// Timestamps (go-yaml `parseTimestamp`: Go `time.Parse` with four layouts, §1.3)

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

class Cursor {
  constructor(
    public s: string,
    public i = 0,
  ) {}
  /** Go `getnum(s, false)`: one digit, or two when the second is a digit too. */
  num12(): number | null {
    const a = this.s.charCodeAt(this.i) - 48;
    if (!(a >= 0 && a <= 9)) return null;
    const b = this.s.charCodeAt(this.i + 1) - 48;
    if (b >= 0 && b <= 9) {
      this.i += 2;
      return a * 10 + b;
    }
    this.i += 1;
    return a;
  }
  /** Exactly two digits. */
  num2(): number | null {
    const a = this.s.charCodeAt(this.i) - 48;
    const b = this.s.charCodeAt(this.i + 1) - 48;
    if (!(a >= 0 && a <= 9 && b >= 0 && b <= 9)) return null;
    this.i += 2;
    return a * 10 + b;
  }
  lit(c: string): boolean {
    if (this.s[this.i] !== c) return false;
    this.i += 1;
    return true;
  }
  get done(): boolean {
    return this.i >= this.s.length;
  }
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/**
 * Parse a YAML timestamp the way go-yaml does: `YYYY-M-D`, `YYYY-M-D[Tt]h:m:s[.frac](Z|±hh:mm)` or
 * `YYYY-M-D h:m:s[.frac]` (one or more spaces), 1–2 digit fields, valid calendar values; any number of
 * fraction digits (Go ≥ 1.20), the first nine kept. Returns the RFC 3339 text go-yaml writes back
 * (`time.RFC3339Nano`: trailing fraction zeros trimmed, `Z` for offset 0), or null.
 */
export function parseGoTimestamp(s: string): GoTime | null {
  if (!/^[0-9]{4}-/.test(s)) return null;
  const c = new Cursor(s, 5);
  const year = Number(s.slice(0, 4));
  const month = c.num12();
  if (month === null || month < 1 || month > 12 || !c.lit('-')) return null;
  const day = c.num12();
  if (day === null) return null;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const dim = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day < 1 || day > dim) return null;
  const date = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
  if (c.done) return { text: `${date}T00:00:00Z`, utc: true };

  let zoned: boolean;
  if (c.lit('T') || c.lit('t')) zoned = true;
  else if (s[c.i] === ' ') {
    while (s[c.i] === ' ') c.i++;
    zoned = false;
  } else return null;
  const hour = c.num12();
  if (hour === null || hour > 23 || !c.lit(':')) return null;
  const minute = c.num12();
  if (minute === null || minute > 59 || !c.lit(':')) return null;
  const second = c.num12();
  if (second === null || second > 59) return null;
  let frac = '';
  if ((s[c.i] === '.' || s[c.i] === ',') && /[0-9]/.test(s[c.i + 1] ?? '')) {
    c.i++;
    const start = c.i;
    while (/[0-9]/.test(s[c.i] ?? '')) c.i++;
    frac = s.slice(start, c.i).slice(0, 9).replace(/0+$/, '');
  }
  const time = `${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${frac ? '.' + frac : ''}`;
  if (!zoned) return c.done ? { text: `${date}T${time}Z`, utc: true } : null;
  if (c.lit('Z')) return c.done ? { text: `${date}T${time}Z`, utc: true } : null;
  const sign = s[c.i];
  if (sign !== '+' && sign !== '-') return null;
  c.i++;
  const oh = c.num2();
  if (oh === null || !c.lit(':')) return null;
  const om = c.num2();
  if (om === null || !c.done || oh > 24 || om > 60) return null;
  const offsetMin = oh * 60 + om;
  if (offsetMin === 0) return { text: `${date}T${time}Z`, utc: true };
  const zone = `${sign}${pad(Math.floor(offsetMin / 60), 2)}:${pad(offsetMin % 60, 2)}`;
  return { text: `${date}T${time}${zone}`, utc: false };
}

// ---------------------------------------------------------------------------------------------
// Writing numbers (§1.5.5)

/** Go `strconv.FormatFloat(f, 'g', -1, 64)` with go-yaml's names for the specials. */
export function formatGoFloat(f: number): string {
  if (Number.isNaN(f)) return '.nan';
  if (f === Infinity) return '.inf';
  if (f === -Infinity) return '-.inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, expText] = Math.abs(f).toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const digits = mant.replace('.', '');
  const sign = f < 0 ? '-' : '';
  if (exp < -4 || exp >= 6) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' + e : e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

// ---------------------------------------------------------------------------------------------
// Base64 (Go `base64.StdEncoding.DecodeString`, used for `!!binary`)

/** Standard base64 with padding (not Go's "strict" mode); `\r` and `\n` are ignored. Null when invalid. */
export function decodeGoBase64(text: string): Uint8Array | null {
  const s = text.replace(/[\r\n]/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return null;
  return new Uint8Array(Buffer.from(s, 'base64'));
}

// ---------------------------------------------------------------------------------------------
// Go `%#v` of a string (used in go-yaml error messages)

/** Go `strconv.Quote`: printable characters kept, others escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (cp === 7) out += '\\a';
    else if (cp === 8) out += '\\b';
    else if (cp === 12) out += '\\f';
    else if (cp === 10) out += '\\n';
    else if (cp === 13) out += '\\r';
    else if (cp === 9) out += '\\t';
    else if (cp === 11) out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (/[\p{L}\p{M}\p{N}\p{P}\p{S}]|[ ]/u.test(ch)) out += ch;
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}
