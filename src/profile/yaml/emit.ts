/**
 * A YAML writer that produces the same bytes as the encoder the Talos imager dumps profiles with
 * (talos-imager.md §1, §0 step 5): go.yaml.in/yaml/v4 `NewEncoder` (its "v3 defaults": line width
 * 80, non-compact sequences, legacy quoting) with `SetIndent(2)`.
 *
 * Only what a Go value tree can produce is supported: block mappings and sequences, `{}` / `[]` for
 * empty ones, and scalars whose tags are all implicit. The rules reproduced here, in order:
 *  1. representer: a string containing a newline is a literal block (`|`) when it has at least two
 *     bytes and one non-space character, else double-quoted; YAML 1.1 booleans (`yes`, `on`, …),
 *     sexagesimal numbers (`1:20`) and `<<` are single-quoted; a string whose plain form reads back
 *     as another type (`true`, `12`, ``, `1.5`, `2001-01-01`) is double-quoted; anything else is plain;
 *  2. emitter analysis: a plain scalar that YAML syntax does not allow in block context (leading or
 *     trailing space, `: `, ` #`, an indicator first, a tab, a non-printable character, …) becomes
 *     single-quoted, and double-quoted when single quotes cannot hold it;
 *  3. writing: plain, single- and double-quoted scalars are folded at a space once the column passes
 *     80; double quotes escape non-printable characters (`\t`, `\x7F`, `\U0001F600`, …); a literal
 *     block gets an indentation hint when it starts with a space and a chomping hint (`-`, `+`).
 * Indentation: mappings nest by 2, sequences inside mappings are indented (`key:\n  - a`), an item
 * that is itself a collection starts on the dash line (`- key: v`).
 */
import { isBase60Float, resolvePlain } from './resolve.js';

export type ScalarStyle = 'plain' | 'single' | 'double' | 'literal';

export type YamlNode =
  | { readonly kind: 'scalar'; readonly value: string; readonly style: ScalarStyle }
  | { readonly kind: 'seq'; readonly items: readonly YamlNode[] }
  | { readonly kind: 'map'; readonly pairs: ReadonlyArray<readonly [YamlNode, YamlNode]> };

/** Go `unicode.IsSpace`. */
const GO_SPACE = new Set([...'\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000']);

/** How a Go string is represented (rule 1 above). */
export function stringStyle(s: string): ScalarStyle {
  if (s.includes('\n')) {
    const literal = Buffer.byteLength(s) >= 2 && [...s].some((c) => !GO_SPACE.has(c));
    return literal ? 'literal' : 'double';
  }
  if (isBase60Float(s) || isOldBoolWord(s) || s === '<<') return 'single';
  if (resolvePlain(s).tag !== 'str') return 'double';
  return 'plain';
}

function isOldBoolWord(s: string): boolean {
  return ['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF'].includes(s);
}

export const yamlStr = (s: string): YamlNode => ({ kind: 'scalar', value: s, style: stringStyle(s) });
export const yamlInt = (n: number | bigint): YamlNode => ({ kind: 'scalar', value: String(n), style: 'plain' });
export const yamlBool = (b: boolean): YamlNode => ({ kind: 'scalar', value: b ? 'true' : 'false', style: 'plain' });
export const yamlNull = (): YamlNode => ({ kind: 'scalar', value: 'null', style: 'plain' });
export const yamlFloat = (f: number): YamlNode => ({ kind: 'scalar', value: formatGoFloat(f), style: 'plain' });
export const yamlMap = (pairs: Array<readonly [string, YamlNode]>): YamlNode => ({
  kind: 'map',
  pairs: pairs.map(([k, v]) => [yamlStr(k), v] as const),
});
export const yamlSeq = (items: YamlNode[]): YamlNode => ({ kind: 'seq', items });

/** Go `strconv.FormatFloat(f, 'g', -1, 64)` with go-yaml's `.inf` / `.nan` spellings. */
export function formatGoFloat(f: number): string {
  if (Number.isNaN(f)) return '.nan';
  if (f === Infinity) return '.inf';
  if (f === -Infinity) return '-.inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  // Shortest round-trip digits; Go's shortest %g uses the exponent form when exp < -4 || exp >= 6.
  const [mantissa, expText] = Math.abs(f).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  const eprec = 6;
  let out: string;
  if (exp < -4 || exp >= eprec) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    out = `${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  } else if (exp < 0) {
    out = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    out = digits + '0'.repeat(exp + 1 - digits.length);
  } else {
    out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return f < 0 ? '-' + out : out;
}

// --- emitter ------------------------------------------------------------------------------------

const isLineBreak = (c: string) => c === '\n' || c === '\r' || c === '\u0085' || c === '\u2028' || c === '\u2029';
const isBlank = (c: string | undefined) => c === ' ' || c === '\t';

/** libyaml "printable": LF, 0x20–0x7E, U+00A0–U+D7FF, U+E000–U+FFFD except the BOM; nothing above the BMP. */
function isPrintable(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return cp === 0x0a || (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff);
}

interface ScalarAnalysis {
  multiline: boolean;
  blockPlainAllowed: boolean;
  singleQuotedAllowed: boolean;
  blockAllowed: boolean;
}

function analyzeScalar(chars: readonly string[]): ScalarAnalysis {
  const n = chars.length;
  if (n === 0) return { multiline: false, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: false };
  let blockIndicators = false;
  let lineBreaks = false;
  let specialCharacters = false;
  let tabCharacters = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let previousSpace = false;
  let previousBreak = false;
  let precededByWhitespace = true;
  const head = chars.slice(0, 3).join('');
  if (head === '---' || head === '...') blockIndicators = true;
  for (let i = 0; i < n; i++) {
    const c = chars[i]!;
    const followedByWhitespace = i + 1 >= n || isBlank(chars[i + 1]);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) blockIndicators = true;
      else if ((c === '?' || c === ':' || c === '-') && followedByWhitespace) blockIndicators = true;
    } else if (c === ':' && followedByWhitespace) {
      blockIndicators = true;
    } else if (c === '#' && precededByWhitespace) {
      blockIndicators = true;
    }
    if (c === '\t') tabCharacters = true;
    else if (!isPrintable(c)) specialCharacters = true;
    if (c === ' ') {
      if (i === 0) leadingSpace = true;
      if (i === n - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isLineBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === n - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = isBlank(c) || isLineBreak(c) || c === '\0';
  }
  let blockPlainAllowed = true;
  let singleQuotedAllowed = true;
  let blockAllowed = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlainAllowed = false;
  if (trailingSpace) blockAllowed = false;
  if (breakSpace || spaceBreak || tabCharacters || specialCharacters) {
    blockPlainAllowed = false;
    singleQuotedAllowed = false;
  }
  if (spaceBreak || specialCharacters) blockAllowed = false;
  if (lineBreaks || blockIndicators) blockPlainAllowed = false;
  return { multiline: lineBreaks, blockPlainAllowed, singleQuotedAllowed, blockAllowed };
}

interface NodeContext {
  /** Indentation of the enclosing collection (-1 at the root). */
  indent: number;
  /** The node is an item of a block sequence (indentation then just skips the `- `). */
  inSequenceItem: boolean;
  /** The node is a mapping key written as `key:` (no folding, no multi-line). */
  simpleKey: boolean;
}

const MAX_SIMPLE_KEY_BYTES = 128;

export interface EmitOptions {
  /** Spaces per nesting level, 2–9 (the imager calls `SetIndent(2)`; go-yaml's `Marshal` uses 4). */
  indent?: number;
  /** Preferred line width; a negative value disables folding (`Marshal`). Default 80. */
  width?: number;
}

class Emitter {
  private readonly out: string[] = [];
  private readonly bestIndent: number;
  private readonly bestWidth: number;
  constructor(opts: EmitOptions) {
    const indent = opts.indent ?? 2;
    this.bestIndent = indent >= 2 && indent <= 9 ? indent : 2;
    const width = opts.width ?? 80;
    // libyaml: a width no larger than twice the indent falls back to 80; negative means unlimited.
    this.bestWidth = width < 0 ? 2 ** 31 - 1 : width <= this.bestIndent * 2 ? 80 : width;
  }
  private column = 0;
  private whitespace = true;
  private indention = true;

  text(): string {
    return this.out.join('');
  }

  private put(s: string): void {
    this.out.push(s);
    this.column++;
  }

  private putLineBreak(): void {
    this.out.push('\n');
    this.column = 0;
    this.indention = true;
  }

  private writeLineBreak(c: string): void {
    if (c === '\n') {
      this.putLineBreak();
    } else {
      this.out.push(c);
      this.column = 0;
      this.indention = true;
    }
  }

  private writeIndent(indent: number): void {
    const target = Math.max(indent, 0);
    if (!this.indention || this.column > target || (this.column === target && !this.whitespace)) this.putLineBreak();
    while (this.column < target) this.put(' ');
    this.whitespace = true;
  }

  private writeIndicator(indicator: string, needWhitespace: boolean, isWhitespace: boolean, isIndention: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(' ');
    for (const c of indicator) this.put(c);
    this.whitespace = isWhitespace;
    this.indention = this.indention && isIndention;
  }

  private increaseIndent(indent: number, flow: boolean, inSequenceItem: boolean): number {
    if (indent < 0) return flow ? this.bestIndent : 0;
    if (inSequenceItem) return indent + 2;
    return this.bestIndent * Math.floor((indent + this.bestIndent) / this.bestIndent);
  }

  document(root: YamlNode): void {
    this.node(root, { indent: -1, inSequenceItem: false, simpleKey: false });
    this.writeIndent(-1);
  }

  private node(node: YamlNode, ctx: NodeContext): void {
    if (node.kind === 'scalar') return this.scalar(node.value, node.style, ctx);
    if (node.kind === 'seq') {
      if (node.items.length === 0) return this.emptyFlow('[', ']');
      const indent = this.increaseIndent(ctx.indent, false, ctx.inSequenceItem);
      for (const item of node.items) {
        this.writeIndent(indent);
        this.writeIndicator('-', true, false, true);
        this.node(item, { indent, inSequenceItem: true, simpleKey: false });
      }
      return;
    }
    if (node.pairs.length === 0) return this.emptyFlow('{', '}');
    const indent = this.increaseIndent(ctx.indent, false, ctx.inSequenceItem);
    for (const [key, value] of node.pairs) {
      this.writeIndent(indent);
      if (this.isSimpleKey(key)) {
        this.node(key, { indent, inSequenceItem: false, simpleKey: true });
        this.writeIndicator(':', false, false, false);
      } else {
        this.writeIndicator('?', true, false, true);
        this.node(key, { indent, inSequenceItem: false, simpleKey: false });
        this.writeIndent(indent);
        this.writeIndicator(':', true, false, true);
      }
      this.node(value, { indent, inSequenceItem: false, simpleKey: false });
    }
  }

  private isSimpleKey(key: YamlNode): boolean {
    if (key.kind === 'scalar') {
      if ([...key.value].some(isLineBreak)) return false;
      return Buffer.byteLength(key.value) <= MAX_SIMPLE_KEY_BYTES;
    }
    return key.kind === 'seq' ? key.items.length === 0 : key.pairs.length === 0;
  }

  private emptyFlow(open: string, close: string): void {
    this.writeIndicator(open, true, true, false);
    this.writeIndicator(close, false, false, false);
  }

  private scalar(value: string, preferred: ScalarStyle, ctx: NodeContext): void {
    const chars = [...value];
    const a = analyzeScalar(chars);
    let style = preferred;
    if (ctx.simpleKey && a.multiline) style = 'double';
    if (style === 'plain' && (!a.blockPlainAllowed || (chars.length === 0 && ctx.simpleKey))) style = 'single';
    if (style === 'single' && !a.singleQuotedAllowed) style = 'double';
    if (style === 'literal' && (!a.blockAllowed || ctx.simpleKey)) style = 'double';
    const indent = this.increaseIndent(ctx.indent, true, ctx.inSequenceItem);
    const allowBreaks = !ctx.simpleKey;
    switch (style) {
      case 'plain':
        return this.plain(chars, indent, allowBreaks);
      case 'single':
        return this.singleQuoted(chars, indent, allowBreaks);
      case 'double':
        return this.doubleQuoted(chars, indent, allowBreaks);
      case 'literal':
        return this.literal(chars, indent);
    }
  }

  private plain(chars: readonly string[], indent: number, allowBreaks: boolean): void {
    if (chars.length > 0 && !this.whitespace) this.put(' ');
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > this.bestWidth && chars[i + 1] !== ' ') this.writeIndent(indent);
        else this.put(c);
        spaces = true;
      } else if (isLineBreak(c)) {
        if (!breaks && c === '\n') this.putLineBreak();
        this.writeLineBreak(c);
        breaks = true;
      } else {
        if (breaks) this.writeIndent(indent);
        this.put(c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    if (chars.length > 0) this.whitespace = false;
    this.indention = false;
  }

  private singleQuoted(chars: readonly string[], indent: number, allowBreaks: boolean): void {
    this.writeIndicator("'", true, false, false);
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > this.bestWidth && i > 0 && i < chars.length - 1 && chars[i + 1] !== ' ') {
          this.writeIndent(indent);
        } else {
          this.put(c);
        }
        spaces = true;
      } else if (isLineBreak(c)) {
        if (!breaks && c === '\n') this.putLineBreak();
        this.writeLineBreak(c);
        breaks = true;
      } else {
        if (breaks) this.writeIndent(indent);
        if (c === "'") this.put("'");
        this.put(c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    this.writeIndicator("'", false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private doubleQuoted(chars: readonly string[], indent: number, allowBreaks: boolean): void {
    this.writeIndicator('"', true, false, false);
    // libyaml tests for a BOM at the start of the value, not at the current character: a value that
    // starts with U+FEFF has every character escaped.
    const startsWithBom = chars[0] === '\ufeff';
    let spaces = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (!isPrintable(c) || startsWithBom || isLineBreak(c) || c === '"' || c === '\\') {
        for (const e of escapeChar(c)) this.put(e);
        spaces = false;
      } else if (c === ' ') {
        if (allowBreaks && !spaces && this.column > this.bestWidth && i > 0 && i < chars.length - 1) {
          this.writeIndent(indent);
          if (chars[i + 1] === ' ') this.put('\\');
        } else {
          this.put(c);
        }
        spaces = true;
      } else {
        this.put(c);
        spaces = false;
      }
    }
    this.writeIndicator('"', false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private literal(chars: readonly string[], indent: number): void {
    this.writeIndicator('|', true, false, false);
    if (chars[0] === ' ') this.writeIndicator(String(this.bestIndent), false, false, false);
    let chomp = '';
    const n = chars.length;
    if (n === 0 || !isLineBreak(chars[n - 1]!)) chomp = '-';
    else if (n === 1 || isLineBreak(chars[n - 2]!)) chomp = '+';
    if (chomp) this.writeIndicator(chomp, false, false, false);
    this.putLineBreak();
    this.whitespace = true;
    let breaks = true;
    for (const c of chars) {
      if (isLineBreak(c)) {
        this.writeLineBreak(c);
        breaks = true;
      } else {
        if (breaks) this.writeIndent(indent);
        this.put(c);
        this.indention = false;
        breaks = false;
      }
    }
  }
}

const SHORT_ESCAPES: Record<number, string> = {
  0x00: '0', 0x07: 'a', 0x08: 'b', 0x09: 't', 0x0a: 'n', 0x0b: 'v', 0x0c: 'f', 0x0d: 'r', 0x1b: 'e',
  0x22: '"', 0x5c: '\\', 0x85: 'N', 0xa0: '_', 0x2028: 'L', 0x2029: 'P',
};

/** A double-quoted escape as libyaml writes it: short forms, else \xXX, \uXXXX or \UXXXXXXXX (upper-case hex). */
function escapeChar(c: string): string[] {
  const cp = c.codePointAt(0)!;
  const short = SHORT_ESCAPES[cp];
  if (short !== undefined) return ['\\', short];
  const width = cp <= 0xff ? 2 : cp <= 0xffff ? 4 : 8;
  const letter = cp <= 0xff ? 'x' : cp <= 0xffff ? 'u' : 'U';
  return ['\\', letter, ...cp.toString(16).toUpperCase().padStart(width, '0')];
}

/** The document text for a node tree, ending with a newline. */
export function emitYaml(root: YamlNode, opts: EmitOptions = {}): string {
  const e = new Emitter(opts);
  e.document(root);
  return e.text();
}
