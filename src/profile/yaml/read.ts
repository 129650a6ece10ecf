/**
 * Read YAML into a tree that keeps what go-yaml decoding needs (talos-imager.md §1): each scalar's
 * exact text and the type go-yaml would give a plain scalar (`resolve.ts`), mappings as ordered
 * entries with their original keys. A Go struct field that is a string takes the scalar's *text*
 * (`version: 1.10` stays `1.10`), which a YAML 1.2 loader would already have turned into 1.1.
 *
 * Parsing itself is done by the `yaml` package with its failsafe schema (every scalar a string, no
 * type guessing); aliases are expanded here with a node budget, duplicate keys are rejected as
 * go-yaml does, `<<` merge keys are applied, and only the first document is read (go-yaml's
 * `Decoder.Decode` reads one document).
 */
import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, Scalar, type Document, type Node as YNode } from 'yaml';
import { invalidInput } from '../../core/errors.js';
import { resolvePlain, type Resolved } from './resolve.js';

export class YamlScalar {
  constructor(
    /** The scalar's content after unquoting/escapes, exactly as go-yaml's `Node.Value`. */
    readonly text: string,
    /** go-yaml's resolution: quoted and block scalars are always `str`. */
    readonly resolved: Resolved,
  ) {}
  get tag() {
    return this.resolved.tag;
  }
}

export class YamlMapping {
  constructor(readonly entries: ReadonlyArray<readonly [YamlValue, YamlValue]>) {}

  /**
   * Entries keyed by the key's text, for decoding into a Go struct (go-yaml matches struct fields by
   * decoding each key into a string). A null key becomes the empty string.
   */
  toRecord(): Record<string, YamlValue> {
    const out: Record<string, YamlValue> = {};
    for (const [k, v] of this.entries) {
      const name = k instanceof YamlScalar ? (k.tag === 'null' ? '' : k.text) : undefined;
      if (name === undefined) continue; // a collection key can match no struct field
      Object.defineProperty(out, name, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}

export type YamlValue = YamlScalar | YamlMapping | YamlValue[];

export interface ReadYamlOptions {
  /** Name of the input for error messages (a file name or `stdin`). */
  source: string;
  /** Upper bound on nodes after alias expansion (a "billion laughs" guard). Default 200,000. */
  maxNodes?: number;
  /** Upper bound on nesting depth. Default 256. */
  maxDepth?: number;
}

const STR_TAGS = new Set(['tag:yaml.org,2002:str', '!!str']);

/** Parse the first YAML document of `text`; null when the stream holds no document. */
export function readYaml(text: string, opts: ReadYamlOptions): YamlValue | null {
  const { source } = opts;
  const maxNodes = opts.maxNodes ?? 200_000;
  const maxDepth = opts.maxDepth ?? 256;
  const docs = parseAllDocuments(text, { schema: 'failsafe', uniqueKeys: false, merge: false, strict: false });
  if (!Array.isArray(docs)) return null; // an empty stream
  const doc = docs[0] as Document.Parsed | undefined;
  if (!doc) return null;
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw invalidInput('E_YAML_SYNTAX', `${source}: ${e.message.split('\n')[0]}`);
  }
  if (doc.contents === null) return null;

  let nodes = 0;
  const convert = (node: unknown, depth: number): YamlValue => {
    if (++nodes > maxNodes) throw invalidInput('E_YAML_TOO_LARGE', `${source}: more than ${maxNodes} YAML nodes (alias expansion?)`);
    if (depth > maxDepth) throw invalidInput('E_YAML_TOO_DEEP', `${source}: YAML nested deeper than ${maxDepth} levels`);
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target === undefined) throw invalidInput('E_YAML_ALIAS', `${source}: unknown alias *${node.source}`);
      return convert(target, depth + 1);
    }
    if (isScalar(node)) return scalar(node);
    if (isSeq(node)) return node.items.map((item) => convert(item, depth + 1));
    if (isMap(node)) return mapping(node.items as Array<{ key: unknown; value: unknown }>, depth);
    if (node === null || node === undefined) return new YamlScalar('', { tag: 'null', value: null });
    throw invalidInput('E_YAML_SYNTAX', `${source}: unsupported YAML node`);
  };

  const scalar = (node: Scalar): YamlScalar => {
    const text = typeof node.value === 'string' ? node.value : String(node.value ?? '');
    const plain = node.type === Scalar.PLAIN || node.type === undefined;
    if (node.tag === 'tag:yaml.org,2002:binary' || node.tag === '!!binary') {
      throw invalidInput('E_YAML_BINARY', `${source}: !!binary values are not supported in a profile`);
    }
    if (!plain || (node.tag !== undefined && STR_TAGS.has(node.tag))) return new YamlScalar(text, { tag: 'str', value: text });
    return new YamlScalar(text, resolvePlain(text));
  };

  const mapping = (items: Array<{ key: unknown; value: unknown }>, depth: number): YamlMapping => {
    const explicit: Array<readonly [YamlValue, YamlValue]> = [];
    const merged: Array<readonly [YamlValue, YamlValue]> = [];
    for (const { key, value } of items) {
      const k = convert(key, depth + 1);
      const v = convert(value, depth + 1);
      if (k instanceof YamlScalar && k.tag === 'merge') {
        // `<<: *base` or `<<: [*a, *b]`: earlier sources win, explicit keys win over all of them.
        const sources = Array.isArray(v) ? v : [v];
        for (const src of sources) {
          if (!(src instanceof YamlMapping)) throw invalidInput('E_YAML_MERGE', `${source}: a << merge needs a mapping or a list of mappings`);
          merged.push(...src.entries);
        }
        continue;
      }
      explicit.push([k, v] as const);
    }
    // go-yaml rejects a key that appears twice in one mapping (same kind, same text).
    const seen = new Set<string>();
    for (const [k] of explicit) {
      if (!(k instanceof YamlScalar)) continue;
      if (seen.has(k.text)) throw invalidInput('E_YAML_DUPLICATE_KEY', `${source}: mapping key ${JSON.stringify(k.text)} already defined`);
      seen.add(k.text);
    }
    const entries = [...explicit];
    for (const [k, v] of merged) {
      if (!(k instanceof YamlScalar) || seen.has(k.text)) continue;
      seen.add(k.text);
      entries.push([k, v] as const);
    }
    return new YamlMapping(entries);
  };

  return convert(doc.contents as YNode, 0);
}
