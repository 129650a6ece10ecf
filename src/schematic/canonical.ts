/**
 * Canonical YAML of a schematic: the bytes whose sha256 is the schematic ID (image-factory.md §1.4,
 * §1.5). This is go-yaml `Marshal` with v3 defaults and unlimited width: indent 4, block style,
 * non-compact sequences, flow only for empty collections, `\n` line ends, no document markers.
 *
 * The writer mirrors the emitter's bookkeeping (column, "at indentation", "after whitespace"), which
 * decides where a line break goes; scalar styles follow §1.5.3 (representer request, then the
 * emitter's checks); option keys are naturally sorted (§1.5.6).
 */
import { createHash } from 'node:crypto';
import { invalidInput } from '../core/errors.js';
import { formatGoFloat, readsBackAsNonString } from './go-scalar.js';
import {
  SCHEMATIC_BOOTLOADERS,
  YamlTimestamp,
  type SchematicBootloader,
  type OverlayOptionKey,
  type OverlayOptionValue,
  type Schematic,
} from './model.js';

export interface CanonicalOptions {
  /**
   * Quoting of YAML-1.1 look-alike strings (`yes`, `off`, `1:20`, `<<`, …): `legacy` double-quotes
   * them as every release up to image-factory v1.4 did (the default, §1.6); `rc6` single-quotes them
   * as go-yaml v4 rc.6 does.
   */
  quoting?: 'legacy' | 'rc6';
}

/** The canonical YAML text of a schematic. */
export function canonicalYaml(schematic: Schematic, options: CanonicalOptions = {}): string {
  const tree = schematicTree(schematic, new Scalars(options.quoting ?? 'legacy'));
  const w = new Writer();
  w.node(tree, -1, 'root');
  // Document end: a line break unless the last write ended a line.
  w.writeIndent(0);
  return w.out;
}

/** The schematic ID: lowercase hex sha256 of the canonical YAML (UTF-8). */
export function schematicId(schematic: Schematic, options: CanonicalOptions = {}): string {
  return sha256Hex(canonicalYaml(schematic, options));
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

// ---------------------------------------------------------------------------------------------
// The tree to emit (§1.5.1)

type Requested = 'plain' | 'single' | 'double' | 'literal';
type ENode =
  | { k: 'scalar'; text: string; style: Requested }
  | { k: 'map'; entries: [ENode, ENode][] }
  | { k: 'seq'; items: ENode[] };

const plain = (text: string): ENode => ({ k: 'scalar', text, style: 'plain' });

function modelError(path: string, what: string): Error {
  return invalidInput('E_SCHEMATIC_MODEL', `schematic ${path}: ${what}`);
}

class Scalars {
  constructor(private readonly quoting: 'legacy' | 'rc6') {}

  /** A string scalar with the representer's requested style (§1.5.3 step A). */
  str(s: unknown, path: string): ENode {
    if (typeof s !== 'string') throw modelError(path, `expected a string, got ${describe(s)}`);
    if (/\p{Surrogate}/u.test(s)) throw modelError(path, 'string is not valid Unicode (lone surrogate)');
    let style: Requested;
    if (s.includes('\n')) style = Buffer.byteLength(s) >= 2 && hasNonSpace(s) ? 'literal' : 'double';
    else if (isYaml11LookAlike(s)) style = this.quoting === 'rc6' ? 'single' : 'double';
    else if (readsBackAsNonString(s)) style = 'double';
    else style = 'plain';
    return { k: 'scalar', text: s, style };
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v;
}

/** Go `unicode.IsSpace`. */
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u;
function hasNonSpace(s: string): boolean {
  for (const ch of s) if (!GO_SPACE.test(ch)) return true;
  return false;
}

const OLD_BOOLS = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'n', 'N', 'no', 'No', 'NO', 'on', 'On', 'ON', 'off', 'Off', 'OFF']);
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
function isYaml11LookAlike(s: string): boolean {
  return OLD_BOOLS.has(s) || BASE60_FLOAT.test(s) || s === '<<';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Map) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === null || proto === Object.prototype;
}

function schematicTree(s: Schematic, sc: Scalars): ENode {
  if (!isPlainObject(s)) throw modelError('', `expected an object, got ${describe(s)}`);
  const root: [ENode, ENode][] = [];
  if (s.owner !== undefined && s.owner !== '') root.push([plain('owner'), sc.str(s.owner, 'owner')]);
  const ov = s.overlay;
  if (ov !== undefined) {
    if (!isPlainObject(ov)) throw modelError('overlay', `expected an object, got ${describe(ov)}`);
    const image = ov.image ?? '';
    const name = ov.name ?? '';
    const options = ov.options;
    const hasOptions = options !== undefined && options !== null && optionEntryCount(options, 'overlay.options') > 0;
    if (image !== '' || name !== '' || hasOptions) {
      const entries: [ENode, ENode][] = [
        [plain('image'), sc.str(image, 'overlay.image')],
        [plain('name'), sc.str(name, 'overlay.name')],
      ];
      if (hasOptions) entries.push([plain('options'), optionTree(options, sc, 'overlay.options', 0)]);
      root.push([plain('overlay'), { k: 'map', entries }]);
    }
  }
  const c = s.customization ?? {};
  if (!isPlainObject(c)) throw modelError('customization', `expected an object, got ${describe(c)}`);
  const ce: [ENode, ENode][] = [];
  if (c.embeddedMachineConfiguration !== undefined && c.embeddedMachineConfiguration !== '') {
    ce.push([plain('embeddedMachineConfiguration'), sc.str(c.embeddedMachineConfiguration, 'customization.embeddedMachineConfiguration')]);
  }
  const args = stringList(c.extraKernelArgs, 'customization.extraKernelArgs', sc);
  if (args.length > 0) ce.push([plain('extraKernelArgs'), { k: 'seq', items: args }]);
  if (c.meta !== undefined) {
    if (!Array.isArray(c.meta)) throw modelError('customization.meta', `expected a list, got ${describe(c.meta)}`);
    const items = c.meta.map((m, i): ENode => {
      const path = `customization.meta[${i}]`;
      if (!isPlainObject(m)) throw modelError(path, `expected an object, got ${describe(m)}`);
      const key = m.key;
      if (!(typeof key === 'number' && Number.isInteger(key) && key >= 0 && key <= 255)) {
        throw modelError(`${path}.key`, 'expected an integer 0–255');
      }
      return {
        k: 'map',
        entries: [
          [plain('key'), plain(String(key))],
          [plain('value'), sc.str(m.value ?? '', `${path}.value`)],
        ],
      };
    });
    if (items.length > 0) ce.push([plain('meta'), { k: 'seq', items }]);
  }
  if (c.systemExtensions !== undefined) {
    if (!isPlainObject(c.systemExtensions)) throw modelError('customization.systemExtensions', 'expected an object');
    const exts = stringList(c.systemExtensions.officialExtensions, 'customization.systemExtensions.officialExtensions', sc);
    if (exts.length > 0) {
      ce.push([plain('systemExtensions'), { k: 'map', entries: [[plain('officialExtensions'), { k: 'seq', items: exts }]] }]);
    }
  }
  const bootloader = c.bootloader as unknown;
  if (bootloader !== undefined && bootloader !== 'none') {
    if (!SCHEMATIC_BOOTLOADERS.includes(bootloader as SchematicBootloader)) {
      throw modelError('customization.bootloader', `must be one of ${SCHEMATIC_BOOTLOADERS.join(', ')}`);
    }
    ce.push([plain('bootloader'), sc.str(bootloader, 'customization.bootloader')]);
  }
  if (c.secureboot !== undefined) {
    const sb = c.secureboot;
    if (!isPlainObject(sb)) throw modelError('customization.secureboot', 'expected an object');
    const e: [ENode, ENode][] = [];
    if (sb.enrollKeys !== undefined && sb.enrollKeys !== '') e.push([plain('enrollKeys'), sc.str(sb.enrollKeys, 'customization.secureboot.enrollKeys')]);
    if (sb.includeWellKnownCertificates !== undefined && typeof sb.includeWellKnownCertificates !== 'boolean') {
      throw modelError('customization.secureboot.includeWellKnownCertificates', 'expected a boolean');
    }
    if (sb.includeWellKnownCertificates) e.push([plain('includeWellKnownCertificates'), plain('true')]);
    if (e.length > 0) ce.push([plain('secureboot'), { k: 'map', entries: e }]);
  }
  if (c.diskImage !== undefined) {
    if (!isPlainObject(c.diskImage)) throw modelError('customization.diskImage', 'expected an object');
    const size = c.diskImage.sectorSize;
    if (size !== undefined) {
      const ok =
        (typeof size === 'number' && Number.isSafeInteger(size) && size >= 0) ||
        (typeof size === 'bigint' && size >= 0n && size < 1n << 64n);
      if (!ok) throw modelError('customization.diskImage.sectorSize', 'expected an unsigned 64-bit integer');
      if (BigInt(size) !== 0n) {
        ce.push([plain('diskImage'), { k: 'map', entries: [[plain('sectorSize'), plain(String(size))]] }]);
      }
    }
  }
  root.push([plain('customization'), { k: 'map', entries: ce }]);
  return { k: 'map', entries: root };
}

function stringList(v: unknown, path: string, sc: Scalars): ENode[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw modelError(path, `expected a list, got ${describe(v)}`);
  return v.map((s, i) => sc.str(s, `${path}[${i}]`));
}

// ---------------------------------------------------------------------------------------------
// overlay.options (go-yaml generic values)

const MAX_OPTION_DEPTH = 1000;

function optionEntryCount(v: unknown, path: string): number {
  if (v instanceof Map) return v.size;
  if (isPlainObject(v)) return Object.keys(v).length;
  throw modelError(path, `expected a mapping, got ${describe(v)}`);
}

function optionTree(v: unknown, sc: Scalars, path: string, depth: number): ENode {
  if (depth > MAX_OPTION_DEPTH) throw modelError(path, 'nested too deeply');
  if (v === null) return plain('null');
  if (typeof v === 'boolean') return plain(v ? 'true' : 'false');
  if (typeof v === 'bigint') {
    if (v < -(1n << 63n) || v >= 1n << 64n) throw modelError(path, 'integer outside the int64/uint64 range');
    return plain(v.toString());
  }
  if (typeof v === 'number') return plain(formatGoFloat(v));
  if (typeof v === 'string') return sc.str(v, path);
  if (v instanceof YamlTimestamp) return plain(v.text);
  if (Array.isArray(v)) return { k: 'seq', items: v.map((x, i) => optionTree(x, sc, `${path}[${i}]`, depth + 1)) };
  if (v instanceof Map) {
    const keys = [...v.keys()] as OverlayOptionKey[];
    for (const k of keys) checkOptionKey(k, path);
    keys.sort((a, b) => (keyLess(a, b) ? -1 : keyLess(b, a) ? 1 : 0));
    return {
      k: 'map',
      entries: keys.map((k) => [optionTree(k, sc, `${path} key`, depth + 1), optionTree(v.get(k), sc, `${path}.${String(k)}`, depth + 1)]),
    };
  }
  if (isPlainObject(v)) {
    const keys = Object.keys(v).sort((a, b) => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0));
    return {
      k: 'map',
      entries: keys.map((k) => [sc.str(k, `${path} key`), optionTree(v[k], sc, `${path}.${k}`, depth + 1)]),
    };
  }
  throw modelError(path, `unsupported option value (${describe(v)})`);
}

function checkOptionKey(k: unknown, path: string): void {
  const ok =
    k === null ||
    typeof k === 'string' ||
    typeof k === 'boolean' ||
    typeof k === 'bigint' ||
    typeof k === 'number' ||
    k instanceof YamlTimestamp;
  if (!ok) throw modelError(path, `unsupported mapping key (${describe(k)})`);
}

// ---------------------------------------------------------------------------------------------
// Key order (§1.5.6, go-yaml `keyList.Less`)

// reflect.Kind numbers decide the order between different kinds of keys.
const KIND_BOOL = 1;
const KIND_INT = 2;
const KIND_UINT64 = 11;
const KIND_FLOAT64 = 14;
const KIND_INTERFACE = 20; // a nil key
const KIND_STRING = 24;
const KIND_STRUCT = 25; // time.Time

function keyKind(k: OverlayOptionKey): number {
  if (k === null) return KIND_INTERFACE;
  switch (typeof k) {
    case 'boolean':
      return KIND_BOOL;
    case 'bigint':
      return k > (1n << 63n) - 1n ? KIND_UINT64 : KIND_INT;
    case 'number':
      return KIND_FLOAT64;
    case 'string':
      return KIND_STRING;
    default:
      return KIND_STRUCT;
  }
}

function keyFloat(k: OverlayOptionKey): number | null {
  if (typeof k === 'boolean') return k ? 1 : 0;
  if (typeof k === 'bigint') return Number(k);
  if (typeof k === 'number') return k;
  return null;
}

function keyLess(a: OverlayOptionKey, b: OverlayOptionKey): boolean {
  const ak = keyKind(a);
  const bk = keyKind(b);
  const af = keyFloat(a);
  const bf = keyFloat(b);
  if (af !== null && bf !== null) {
    if (af !== bf) return af < bf;
    if (ak !== bk) return ak < bk;
    if (typeof a === 'bigint' && typeof b === 'bigint') return a < b;
    if (typeof a === 'boolean' && typeof b === 'boolean') return !a && b;
    return (a as number) < (b as number);
  }
  if (ak !== KIND_STRING || bk !== KIND_STRING) return ak < bk;
  return naturalLess(a as string, b as string);
}

const IS_LETTER = /^\p{L}$/u;
const IS_DIGIT = /^\p{Nd}$/u;

/** go-yaml's natural string order (§1.5.6), including its quirks. */
export function naturalLess(a: string, b: string): boolean {
  const ar = Array.from(a);
  const br = Array.from(b);
  let digits = false;
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) {
      digits = IS_DIGIT.test(ar[i]!);
      continue;
    }
    const al = IS_LETTER.test(ar[i]!);
    const bl = IS_LETTER.test(br[i]!);
    if (al && bl) return ar[i]!.codePointAt(0)! < br[i]!.codePointAt(0)!;
    if (al || bl) return digits ? al : bl;
    let an = 0n;
    let bn = 0n;
    if (ar[i] === '0' || br[i] === '0') {
      for (let j = i - 1; j >= 0 && IS_DIGIT.test(ar[j]!); j--) {
        if (ar[j] !== '0') {
          an = 1n;
          bn = 1n;
          break;
        }
      }
    }
    let ai = i;
    for (; ai < ar.length && IS_DIGIT.test(ar[ai]!); ai++) {
      an = BigInt.asIntN(64, an * 10n + BigInt(ar[ai]!.codePointAt(0)! - 48));
    }
    let bi = i;
    for (; bi < br.length && IS_DIGIT.test(br[bi]!); bi++) {
      bn = BigInt.asIntN(64, bn * 10n + BigInt(br[bi]!.codePointAt(0)! - 48));
    }
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ar[i]!.codePointAt(0)! < br[i]!.codePointAt(0)!;
  }
  return ar.length < br.length;
}

// ---------------------------------------------------------------------------------------------
// Scalar analysis (§1.5.3 step B, go-yaml emitter `analyzeScalar`)

interface Analysis {
  multiline: boolean;
  blockPlainAllowed: boolean;
  singleAllowed: boolean;
  blockAllowed: boolean;
}

const isBreak = (cp: number) => cp === 0x0a || cp === 0x0d || cp === 0x85 || cp === 0x2028 || cp === 0x2029;

/** YAML "printable" as the emitter tests it (TAB is not; emoji and other non-BMP are not). */
function isPrintable(cp: number): boolean {
  return (
    cp === 0x0a ||
    (cp >= 0x20 && cp <= 0x7e) ||
    (cp >= 0xa0 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff)
  );
}

function analyze(text: string): Analysis {
  if (text === '') return { multiline: false, blockPlainAllowed: true, singleAllowed: true, blockAllowed: false };
  const cps = Array.from(text, (c) => c.codePointAt(0)!);
  let blockIndicators = text.startsWith('---') || text.startsWith('...');
  let lineBreaks = false;
  let special = false;
  let tabs = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let precededByWhitespace = true;
  let previousSpace = false;
  let previousBreak = false;
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!;
    const next = cps[i + 1];
    const followedByWhitespace = next === undefined || next === 0x20 || next === 0x09;
    const ch = String.fromCodePoint(c);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) blockIndicators = true;
      else if ((ch === '?' || ch === ':' || ch === '-') && followedByWhitespace) blockIndicators = true;
    } else {
      if (ch === ':' && followedByWhitespace) blockIndicators = true;
      else if (ch === '#' && precededByWhitespace) blockIndicators = true;
    }
    if (c === 0x09) tabs = true;
    else if (!isPrintable(c)) special = true;
    const last = i === cps.length - 1;
    if (c === 0x20) {
      if (i === 0) leadingSpace = true;
      if (last) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (last) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = c === 0x20 || c === 0x09 || c === 0;
  }
  let blockPlainAllowed = true;
  let singleAllowed = true;
  let blockAllowed = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlainAllowed = false;
  if (trailingSpace) blockAllowed = false;
  if (breakSpace) blockPlainAllowed = singleAllowed = false;
  if (spaceBreak || tabs || special) blockPlainAllowed = singleAllowed = false;
  if (spaceBreak || special) blockAllowed = false;
  if (lineBreaks) blockPlainAllowed = false;
  if (blockIndicators) blockPlainAllowed = false;
  return { multiline: lineBreaks, blockPlainAllowed, singleAllowed, blockAllowed };
}

/** The style actually written (§1.5.3 step B, go-yaml `selectScalarStyle`). */
function finalStyle(requested: Requested, a: Analysis, text: string, simpleKey: boolean): Requested {
  let style = requested;
  if (simpleKey && a.multiline) style = 'double';
  if (style === 'plain') {
    if (!a.blockPlainAllowed) style = 'single';
    if (text === '' && simpleKey) style = 'single';
  }
  if (style === 'single' && !a.singleAllowed) style = 'double';
  if (style === 'literal' && (!a.blockAllowed || simpleKey)) style = 'double';
  return style;
}

// ---------------------------------------------------------------------------------------------
// The writer (go-yaml emitter block layout, §1.5.2)

type Parent = 'root' | 'seq-item' | 'map';

/** Next indentation for a node nested in a collection at `indent`. */
function increase(indent: number, parent: Parent): number {
  if (indent < 0) return 0;
  if (parent === 'seq-item') return indent + 2;
  return 4 * Math.floor((indent + 4) / 4);
}

class Writer {
  out = '';
  column = 0;
  /** At the start of a line or only indentation/indicators so far. */
  indention = true;
  /** The last thing written was whitespace (or an indentation). */
  whitespace = true;

  put(ch: string): void {
    this.out += ch;
    this.column++;
  }
  putLineBreak(): void {
    this.out += '\n';
    this.column = 0;
    this.indention = true;
  }
  writeIndent(indent: number): void {
    const target = Math.max(indent, 0);
    if (!this.indention || this.column > target || (this.column === target && !this.whitespace)) this.putLineBreak();
    while (this.column < target) this.put(' ');
    this.whitespace = true;
  }
  writeIndicator(ind: string, needWhitespace: boolean, isWhitespace: boolean, isIndention: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(' ');
    for (const ch of ind) this.put(ch);
    this.whitespace = isWhitespace;
    this.indention = this.indention && isIndention;
  }

  /** Emit `n` nested in a collection whose indentation is `indent`. */
  node(n: ENode, indent: number, parent: Parent, simpleKey = false): void {
    switch (n.k) {
      case 'scalar':
        return this.scalar(n, increase(indent, parent), simpleKey);
      case 'map':
        if (n.entries.length === 0) return this.emptyFlow('{}');
        return this.mapping(n.entries, increase(indent, parent));
      case 'seq':
        if (n.items.length === 0) return this.emptyFlow('[]');
        return this.sequence(n.items, increase(indent, parent));
    }
  }

  private emptyFlow(pair: '{}' | '[]'): void {
    this.writeIndicator(pair[0]!, true, true, false);
    this.writeIndicator(pair[1]!, false, false, false);
  }

  private mapping(entries: [ENode, ENode][], indent: number): void {
    for (const [key, value] of entries) {
      this.writeIndent(indent);
      if (isSimpleKey(key)) {
        this.node(key, indent, 'map', true);
        this.writeIndicator(':', false, false, false);
      } else {
        this.writeIndicator('?', true, false, true);
        this.node(key, indent, 'map');
        this.writeIndent(indent);
        this.writeIndicator(':', true, false, true);
      }
      this.node(value, indent, 'map');
    }
  }

  private sequence(items: ENode[], indent: number): void {
    for (const item of items) {
      this.writeIndent(indent);
      this.writeIndicator('-', true, false, true);
      this.node(item, indent, 'seq-item');
    }
  }

  private scalar(n: ENode & { k: 'scalar' }, indent: number, simpleKey: boolean): void {
    const style = finalStyle(n.style, analyze(n.text), n.text, simpleKey);
    switch (style) {
      case 'plain':
        return this.plainScalar(n.text);
      case 'single':
        return this.singleQuoted(n.text, indent);
      case 'double':
        return this.doubleQuoted(n.text);
      case 'literal':
        return this.literal(n.text, indent);
    }
  }

  private plainScalar(text: string): void {
    if (text.length > 0 && !this.whitespace) this.put(' ');
    for (const ch of text) this.put(ch);
    if (text.length > 0) this.whitespace = false;
    this.indention = false;
  }

  private singleQuoted(text: string, indent: number): void {
    this.writeIndicator("'", true, false, false);
    let breaks = false;
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (cp === 0x20) {
        this.put(ch);
      } else if (isBreak(cp)) {
        // Only U+2028/U+2029 can get here (others force double quotes): written raw, and the
        // next character is preceded by the indentation (vector 70).
        if (!breaks && cp === 0x0a) this.putLineBreak();
        if (cp === 0x0a) this.putLineBreak();
        else {
          this.out += ch;
          this.column = 0;
          this.indention = true;
        }
        breaks = true;
      } else {
        if (breaks) this.writeIndent(indent);
        if (ch === "'") this.put("'");
        this.put(ch);
        this.indention = false;
        breaks = false;
      }
    }
    this.writeIndicator("'", false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private doubleQuoted(text: string): void {
    this.writeIndicator('"', true, false, false);
    // go-yaml quirk: a value that starts with a BOM has every character escaped.
    const escapeAll = text.startsWith('\uFEFF');
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (escapeAll || !isPrintable(cp) || cp === 0xfeff || isBreak(cp) || ch === '"' || ch === '\\') {
        this.escape(cp);
      } else {
        this.put(ch);
      }
    }
    this.writeIndicator('"', false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private escape(cp: number): void {
    const named: Record<number, string> = {
      0x00: '0',
      0x07: 'a',
      0x08: 'b',
      0x09: 't',
      0x0a: 'n',
      0x0b: 'v',
      0x0c: 'f',
      0x0d: 'r',
      0x1b: 'e',
      0x22: '"',
      0x5c: '\\',
      0x85: 'N',
      0xa0: '_',
      0x2028: 'L',
      0x2029: 'P',
    };
    const n = named[cp];
    let s: string;
    if (n !== undefined) s = '\\' + n;
    else if (cp <= 0xff) s = '\\x' + cp.toString(16).toUpperCase().padStart(2, '0');
    else if (cp <= 0xffff) s = '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
    else s = '\\U' + cp.toString(16).toUpperCase().padStart(8, '0');
    for (const ch of s) this.put(ch);
  }

  private literal(text: string, indent: number): void {
    this.writeIndicator('|', true, false, false);
    const cps = Array.from(text, (c) => c.codePointAt(0)!);
    if (cps[0] === 0x20) this.writeIndicator('4', false, false, false);
    const last = cps[cps.length - 1]!;
    let chomp = '';
    if (!isBreak(last)) chomp = '-';
    else if (cps.length === 1 || isBreak(cps[cps.length - 2]!)) chomp = '+';
    if (chomp) this.writeIndicator(chomp, false, false, false);
    this.putLineBreak();
    this.whitespace = true;
    let breaks = true;
    for (const cp of cps) {
      if (isBreak(cp)) {
        if (cp === 0x0a) this.putLineBreak();
        else {
          this.out += String.fromCodePoint(cp);
          this.column = 0;
          this.indention = true;
        }
        breaks = true;
      } else {
        if (breaks) this.writeIndent(indent);
        this.put(String.fromCodePoint(cp));
        this.indention = false;
        breaks = false;
      }
    }
  }
}

/** A key is written in simple form unless it spans lines or exceeds 128 UTF-8 bytes. */
function isSimpleKey(key: ENode): boolean {
  if (key.k !== 'scalar') return false;
  return !analyze(key.text).multiline && Buffer.byteLength(key.text, 'utf8') <= 128;
}
