/**
 * From request bytes to a YAML node tree that keeps what go-yaml's decoder looks at: each scalar's
 * text and style, explicit tags, anchors/aliases and line numbers (image-factory.md §1.3, §1.10).
 *
 * The `yaml` package does the syntax; its type resolution is not used (failsafe schema: every
 * scalar stays text). Only the first document counts; an empty or comment-only stream is `EOF`.
 */
import YAML from 'yaml';
import { schematicInvalid } from './errors.js';

export type ScalarStyle = 'plain' | 'single' | 'double' | 'literal' | 'folded';

export interface YNodeBase {
  /** 1-based line of the node's start, as go-yaml reports it. */
  line: number;
  column: number;
  /** Explicit tag in short form (`!!int`, `!foo`), or '' when none was written. */
  tag: string;
}
export interface YScalar extends YNodeBase {
  kind: 'scalar';
  style: ScalarStyle;
  value: string;
}
export interface YMap extends YNodeBase {
  kind: 'map';
  pairs: [YNode, YNode][];
}
export interface YSeq extends YNodeBase {
  kind: 'seq';
  items: YNode[];
}
export interface YAlias extends YNodeBase {
  kind: 'alias';
  name: string;
  target: () => YNode;
}
export type YNode = YScalar | YMap | YSeq | YAlias;

// ---------------------------------------------------------------------------------------------
// Input characters (libyaml reader: encoding from the BOM, then only printable characters)

/**
 * Decode request bytes as libyaml's reader does: UTF-8 (optional BOM) or UTF-16 with a BOM, and
 * reject characters YAML does not allow in a stream.
 */
export function decodeInputText(input: string | Uint8Array): string {
  let text: string;
  if (typeof input === 'string') {
    text = input.startsWith('\uFEFF') ? input.slice(1) : input;
    checkCharacters(text, (i) => Buffer.byteLength(text.slice(0, i), 'utf8'));
    return text;
  }
  const b = input;
  if (b.length >= 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff))) {
    const le = b[0] === 0xff;
    if ((b.length - 2) % 2 !== 0) throw decodeError(`yaml: offset ${b.length - 1}: incomplete UTF-16 character`);
    const body = Buffer.from(b.subarray(2));
    if (!le) body.swap16();
    text = body.toString('utf16le');
    checkCharacters(text, (i) => 2 + i * 2);
    return text;
  }
  const start = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  checkUtf8(b, start);
  text = Buffer.from(b.buffer, b.byteOffset + start, b.length - start).toString('utf8');
  checkCharacters(text, (i) => start + Buffer.byteLength(text.slice(0, i), 'utf8'));
  return text;
}

function decodeError(message: string): Error {
  return schematicInvalid(message);
}

function checkUtf8(b: Uint8Array, start: number): void {
  for (let i = start; i < b.length; ) {
    const c = b[i]!;
    let width: number;
    let value: number;
    if (c < 0x80) [width, value] = [1, c];
    else if ((c & 0xe0) === 0xc0) [width, value] = [2, c & 0x1f];
    else if ((c & 0xf0) === 0xe0) [width, value] = [3, c & 0x0f];
    else if ((c & 0xf8) === 0xf0) [width, value] = [4, c & 0x07];
    else throw decodeError(`yaml: offset ${i}: invalid leading UTF-8 octet`);
    if (i + width > b.length) throw decodeError(`yaml: offset ${i}: incomplete UTF-8 octet sequence`);
    for (let k = 1; k < width; k++) {
      const o = b[i + k]!;
      if ((o & 0xc0) !== 0x80) throw decodeError(`yaml: offset ${i + k}: invalid trailing UTF-8 octet`);
      value = (value << 6) | (o & 0x3f);
    }
    const minimal =
      (width === 1 && value < 0x80) ||
      (width === 2 && value >= 0x80) ||
      (width === 3 && value >= 0x800) ||
      (width === 4 && value >= 0x10000);
    if (!minimal) throw decodeError(`yaml: offset ${i}: invalid length of a UTF-8 sequence`);
    if ((value >= 0xd800 && value <= 0xdfff) || value > 0x10ffff) {
      throw decodeError(`yaml: offset ${i}: invalid Unicode character`);
    }
    i += width;
  }
}

function checkCharacters(text: string, offsetOf: (index: number) => number): void {
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    const ok =
      cp === 0x09 ||
      cp === 0x0a ||
      cp === 0x0d ||
      (cp >= 0x20 && cp <= 0x7e) ||
      cp === 0x85 ||
      (cp >= 0xa0 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      (cp >= 0x10000 && cp <= 0x10ffff);
    if (!ok) {
      const what = cp >= 0xd800 && cp <= 0xdfff ? 'invalid Unicode character' : 'control characters are not allowed';
      throw decodeError(`yaml: offset ${offsetOf(i)}: ${what}`);
    }
    if (cp > 0xffff) i++;
  }
}

// ---------------------------------------------------------------------------------------------
// Syntax → node tree

const STYLE: Record<string, ScalarStyle> = {
  PLAIN: 'plain',
  QUOTE_SINGLE: 'single',
  QUOTE_DOUBLE: 'double',
  BLOCK_LITERAL: 'literal',
  BLOCK_FOLDED: 'folded',
};

function shortTag(tag: string | undefined): string {
  if (!tag || tag === '!') return '';
  if (tag.startsWith('tag:yaml.org,2002:')) return '!!' + tag.slice('tag:yaml.org,2002:'.length);
  return tag;
}

/**
 * Parse the first YAML document of `text` into a node tree, or null for an empty stream (go-yaml's
 * `EOF`). Syntax errors are reported as `yaml: line L, column C: <problem>`.
 */
export function parseFirstDocument(text: string): YNode | null {
  const lineCounter = new YAML.LineCounter();
  const docs = YAML.parseAllDocuments(text, {
    schema: 'failsafe',
    merge: false,
    uniqueKeys: false,
    prettyErrors: false,
    lineCounter,
  });
  const doc = docs[0];
  if (!doc) return null;
  if (doc.errors.length > 0) throw syntaxError(doc.errors[0]!, lineCounter);

  const pos = (offset: number | undefined) => {
    const p = lineCounter.linePos(offset ?? 0);
    return { line: p.line, column: p.col };
  };
  const memo = new Map<unknown, YNode>();
  const convert = (node: unknown, fallbackOffset: number): YNode => {
    if (node === null || node === undefined) {
      return { kind: 'scalar', style: 'plain', value: '', tag: '', ...pos(fallbackOffset) };
    }
    const cached = memo.get(node);
    if (cached) return cached;
    let out: YNode;
    if (YAML.isScalar(node)) {
      const style = STYLE[node.type ?? 'PLAIN'] ?? 'plain';
      const value = typeof node.source === 'string' ? node.source : String(node.value ?? '');
      out = { kind: 'scalar', style, value, tag: shortTag(node.tag), ...pos(node.range?.[0]) };
      if (style === 'double' && node.range) checkDoubleQuotedEscapes(text, node.range[0], node.range[1], pos);
    } else if (YAML.isMap(node)) {
      const m: YMap = { kind: 'map', pairs: [], tag: shortTag(node.tag), ...pos(node.range?.[0]) };
      memo.set(node, m);
      for (const p of node.items) {
        const keyOffset = (YAML.isNode(p.key) ? p.key.range?.[0] : undefined) ?? node.range?.[0] ?? 0;
        const k = convert(p.key, keyOffset);
        const valueOffset = (YAML.isNode(p.value) ? p.value.range?.[0] : undefined) ?? keyOffset;
        m.pairs.push([k, convert(p.value, valueOffset)]);
      }
      return m;
    } else if (YAML.isSeq(node)) {
      const s: YSeq = { kind: 'seq', items: [], tag: shortTag(node.tag), ...pos(node.range?.[0]) };
      memo.set(node, s);
      for (const item of node.items) {
        const off = (YAML.isNode(item) ? item.range?.[0] : undefined) ?? node.range?.[0] ?? 0;
        s.items.push(convert(item, off));
      }
      return s;
    } else if (YAML.isAlias(node)) {
      const where = pos(node.range?.[0]);
      const alias = node;
      out = {
        kind: 'alias',
        name: alias.source,
        tag: '',
        ...where,
        target: () => {
          const t = alias.resolve(doc);
          // go-yaml reports the alias node's 1-based position with Mark.String's extra +1 column.
          if (!t) throw decodeError(`yaml: line ${where.line}, column ${where.column + 1}: unknown anchor '${alias.source}' referenced`);
          return convert(t, alias.range?.[0] ?? 0);
        },
      };
    } else if (YAML.isPair(node)) {
      throw decodeError('yaml: unexpected pair node');
    } else {
      throw decodeError('yaml: unexpected node');
    }
    memo.set(node, out);
    return out;
  };
  return convert(doc.contents, doc.range?.[0] ?? 0);
}

function syntaxError(err: YAML.YAMLError, lc: YAML.LineCounter): Error {
  const p = lc.linePos(err.pos?.[0] ?? 0);
  const problem = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  return decodeError(`yaml: line ${p.line}, column ${p.col}: ${problem}`);
}

/**
 * libyaml rejects `\u`/`\U` escapes that name a surrogate or a value beyond U+10FFFF (so a JSON
 * surrogate pair like `"\ud83d\ude00"` is an error there); the `yaml` package combines them.
 */
function checkDoubleQuotedEscapes(
  text: string,
  start: number,
  end: number,
  pos: (o: number) => { line: number; column: number },
): void {
  for (let i = start + 1; i < end - 1; i++) {
    if (text[i] !== '\\') continue;
    const e = text[i + 1];
    const len = e === 'u' ? 4 : e === 'U' ? 8 : e === 'x' ? 2 : 0;
    if (len > 0) {
      const v = parseInt(text.slice(i + 2, i + 2 + len), 16);
      if ((v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff) {
        const p = pos(i);
        throw decodeError(
          `yaml: line ${p.line}, column ${p.column}: found invalid Unicode character escape code`,
        );
      }
    }
    i += 1 + len;
  }
}
