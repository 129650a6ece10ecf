/**
 * Decode a schematic exactly as the Image Factory does (image-factory.md §1.3): go-yaml's decoder
 * with known fields and unique keys on, into upstream's Go structs, then `Validate`.
 *
 * go-yaml builds Go values by reflection; here the Go types are small descriptors and the same
 * rules are applied per type: which scalars a `string`/`uint8`/`uint`/`bool`/text-enum field takes,
 * null handling, dropped null list items, merge keys, alias expansion limits, and the error texts
 * (`yaml: construct errors:` + one `line N: …` per problem, or a single fatal `yaml: …`).
 * Errors follow the double-quote generation of go-yaml (v4 ≤ rc.4, §1.6).
 */
import { unsupported } from '../core/errors.js';
import { schematicInvalid } from './errors.js';
import { decodeGoBase64, goQuote, resolvePlain, type GoTime, type Resolved } from './go-scalar.js';
import {
  newOverlayOptions,
  YamlTimestamp,
  type SchematicBootloader,
  type SchematicCustomization,
  type OverlayOptionKey,
  type SchematicOverlayOptions,
  type OverlayOptionValue,
  type Schematic,
} from './model.js';
import { decodeInputText, parseFirstDocument, type YNode, type YScalar } from './yaml-input.js';

export interface DecodeOptions {
  /** Enterprise edition: accept `owner` (community edition rejects it, §1.2 row 1). Default false. */
  enterprise?: boolean;
}

/**
 * Parse a schematic from YAML or JSON text/bytes as `POST /schematics` does: decode, then validate.
 * Throws `ImagekitError` (E_SCHEMATIC_INVALID, exit 2) with upstream's message on bad input.
 */
export function decodeSchematic(input: string | Uint8Array, options: DecodeOptions = {}): Schematic {
  const text = decodeInputText(input);
  const root = parseFirstDocument(text);
  if (root === null) throw schematicInvalid('EOF');
  const c = new Constructor();
  const [, value] = c.construct(root, SCHEMATIC, zeroOf(SCHEMATIC));
  if (c.errors.length > 0) {
    const lines = c.errors.map((e) => `\n  line ${e.line}: ${e.message}`).join('');
    throw schematicInvalid(`yaml: construct errors:${lines}`);
  }
  const schematic = toSchematic(value as GoStruct);
  if (!options.enterprise && schematic.owner !== undefined) {
    throw schematicInvalid('owner field is only supported in Enterprise edition');
  }
  return schematic;
}

// ---------------------------------------------------------------------------------------------
// Go types of pkg/schematic/schematic.go

type GoType =
  | { k: 'string' }
  | { k: 'uint'; name: 'uint8' | 'uint'; max: bigint }
  | { k: 'bool' }
  | { k: 'bootloader' }
  | { k: 'slice'; name: string; elem: GoType }
  | { k: 'struct'; name: string; fields: ReadonlyMap<string, GoType> }
  | { k: 'map' }
  | { k: 'any' };

const STRING: GoType = { k: 'string' };
const ANY: GoType = { k: 'any' };
const struct = (name: string, fields: [string, GoType][]): GoType => ({ k: 'struct', name, fields: new Map(fields) });

const SCHEMATIC = struct('schematic.Schematic', [
  ['owner', STRING],
  ['overlay', struct('schematic.Overlay', [['image', STRING], ['name', STRING], ['options', { k: 'map' }]])],
  [
    'customization',
    struct('schematic.Customization', [
      ['embeddedMachineConfiguration', STRING],
      ['extraKernelArgs', { k: 'slice', name: '[]string', elem: STRING }],
      [
        'meta',
        {
          k: 'slice',
          name: '[]schematic.MetaValue',
          elem: struct('schematic.MetaValue', [['key', { k: 'uint', name: 'uint8', max: 255n }], ['value', STRING]]),
        },
      ],
      ['systemExtensions', struct('schematic.SystemExtensions', [['officialExtensions', { k: 'slice', name: '[]string', elem: STRING }]])],
      ['bootloader', { k: 'bootloader' }],
      [
        'secureboot',
        struct('schematic.SecureBootCustomization', [['enrollKeys', STRING], ['includeWellKnownCertificates', { k: 'bool' }]]),
      ],
      ['diskImage', struct('schematic.DiskImageCustomization', [['sectorSize', { k: 'uint', name: 'uint', max: (1n << 64n) - 1n }]])],
    ]),
  ],
]);

function typeName(t: GoType): string {
  switch (t.k) {
    case 'string':
      return 'string';
    case 'uint':
      return t.name;
    case 'bool':
      return 'bool';
    case 'bootloader':
      return 'imageropts.BootloaderKind';
    case 'slice':
    case 'struct':
      return t.name;
    case 'map':
      return 'map[string]interface {}';
    case 'any':
      return 'interface {}';
  }
}

/** Generic Go values (what `interface{}` holds after go-yaml decoding). */
type GoAny =
  | { t: 'nil' }
  | { t: 'bool'; v: boolean }
  | { t: 'int'; v: bigint }
  | { t: 'uint'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'time'; v: GoTime }
  | { t: 'str'; v: string }
  | { t: 'seq'; v: GoAny[] }
  | GoMap;
interface GoMap {
  t: 'map';
  /** `map[string]interface{}` (keys are strings) or `map[interface{}]interface{}`. */
  stringKeys: boolean;
  /** By key identity (Go `==` on the key), in insertion order. */
  v: Map<string, [GoAny, GoAny]>;
}
type GoStruct = Map<string, unknown>;

const NIL: GoAny = { t: 'nil' };

function zeroOf(t: GoType): unknown {
  switch (t.k) {
    case 'string':
      return '';
    case 'uint':
      return 0n;
    case 'bool':
      return false;
    case 'bootloader':
      return 0;
    case 'slice':
    case 'map':
      return null;
    case 'any':
      return NIL;
    case 'struct': {
      const m: GoStruct = new Map();
      for (const [k, ft] of t.fields) m.set(k, zeroOf(ft));
      return m;
    }
  }
}

const BOOTLOADER_NAMES = ['none', 'dual-boot', 'sd-boot', 'grub'];

// ---------------------------------------------------------------------------------------------
// The constructor (go-yaml `Constructor`)

/** A fatal go-yaml error: aborts decoding, discarding collected construct errors. */
function fatal(message: string): never {
  throw schematicInvalid(`yaml: ${message}`);
}

// Alias expansion budget (go-yaml `allowedAliasRatio`): protects against "billion laughs".
const ALIAS_RATIO_LOW = 400_000;
const ALIAS_RATIO_HIGH = 4_000_000;
function allowedAliasRatio(count: number): number {
  if (count <= ALIAS_RATIO_LOW) return 0.99;
  if (count >= ALIAS_RATIO_HIGH) return 0.1;
  return 0.99 - 0.89 * ((count - ALIAS_RATIO_LOW) / (ALIAS_RATIO_HIGH - ALIAS_RATIO_LOW));
}

let nanKeys = 0;

/** Identity of a Go map key (`==` semantics: NaN and non-UTC times never equal anything). */
function keyId(k: GoAny): string {
  switch (k.t) {
    case 'nil':
      return 'n';
    case 'bool':
      return k.v ? 'b1' : 'b0';
    case 'int':
      return `i${k.v}`;
    case 'uint':
      return `u${k.v}`;
    case 'float':
      return Number.isNaN(k.v) ? `fNaN#${nanKeys++}` : `f${k.v === 0 ? 0 : k.v}`;
    case 'time':
      return k.v.utc ? `t${k.v.text}` : `t${k.v.text}#${nanKeys++}`;
    case 'str':
      return `s${k.v}`;
    default:
      return `x#${nanKeys++}`;
  }
}

class Constructor {
  readonly errors: { line: number; message: string }[] = [];
  private constructCount = 0;
  private aliasCount = 0;
  private aliasDepth = 0;
  private readonly activeAliases = new Set<YNode>();
  private mergedFields: Set<string> | null = null;

  /** Go `Construct(n, out)`: returns [good, new value of out]. */
  construct(n: YNode, t: GoType, cur: unknown): [boolean, unknown] {
    this.constructCount++;
    if (this.aliasDepth > 0) this.aliasCount++;
    if (
      this.aliasCount > 100 &&
      this.constructCount > 1000 &&
      this.aliasCount / this.constructCount > allowedAliasRatio(this.constructCount)
    ) {
      fatal('document contains excessive aliasing');
    }
    if (n.kind !== 'scalar' && t.k === 'bootloader') {
      this.error(n, `cannot construct ${nodeTag(n)} into ${typeName(t)} (TextUnmarshaler)`);
      return [false, cur];
    }
    switch (n.kind) {
      case 'alias':
        return this.alias(n, t, cur);
      case 'scalar':
        return this.scalar(n, t, cur);
      case 'map':
        return this.mapping(n, t, cur);
      case 'seq':
        return this.sequence(n, t, cur);
    }
  }

  private error(n: YNode, message: string): void {
    this.errors.push({ line: n.line, message });
  }

  private tagError(n: YNode, tag: string, t: GoType): void {
    const shown = nodeTag(n) || tag;
    let value = '';
    if (shown !== '!!seq' && shown !== '!!map' && n.kind === 'scalar') {
      const bytes = Buffer.from(n.value, 'utf8');
      value = bytes.length > 10 ? ` \`${bytes.subarray(0, 7).toString('utf8')}...\`` : ` \`${n.value}\``;
    }
    this.error(n, `cannot construct ${shown}${value} into ${typeName(t)}`);
  }

  private alias(n: YNode & { kind: 'alias' }, t: GoType, cur: unknown): [boolean, unknown] {
    if (this.activeAliases.has(n)) fatal(`anchor '${n.name}' value contains itself`);
    const target = n.target();
    this.activeAliases.add(n);
    this.aliasDepth++;
    try {
      return this.construct(target, t, cur);
    } finally {
      this.aliasDepth--;
      this.activeAliases.delete(n);
    }
  }

  private nullInto(t: GoType, cur: unknown): [boolean, unknown] {
    switch (t.k) {
      case 'any':
        return [true, NIL];
      case 'slice':
      case 'map':
        return [true, null];
      default:
        return [false, cur];
    }
  }

  private scalar(n: YScalar, t: GoType, cur: unknown): [boolean, unknown] {
    const [tag, resolved] = resolveNode(n);
    if (resolved.t === 'nil') return this.nullInto(t, cur);
    const binary = tag === '!!binary';
    switch (t.k) {
      case 'bootloader': {
        const text = binary ? (resolved as { v: string }).v : n.value;
        const idx = BOOTLOADER_NAMES.indexOf(text);
        const found = idx >= 0 ? idx : BOOTLOADER_NAMES.indexOf(text.toLowerCase());
        if (found < 0) {
          this.error(n, `${text} does not belong to BootloaderKind values`);
          return [false, cur];
        }
        return [true, found];
      }
      case 'string':
        return [true, binary ? (resolved as { v: string }).v : n.value];
      case 'any':
        return [true, resolved];
      case 'uint': {
        let v: bigint | null = null;
        if (resolved.t === 'int' || resolved.t === 'uint') v = resolved.v;
        else if (resolved.t === 'float') {
          const f = resolved.v;
          if (f >= 0 && f < 2 ** 64 && Number.isInteger(f)) v = BigInt(f);
        }
        if (v !== null && v >= 0n && v <= t.max) return [true, v];
        break;
      }
      case 'bool':
        if (resolved.t === 'bool') return [true, resolved.v];
        if (resolved.t === 'str') {
          if (['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON'].includes(resolved.v)) return [true, true];
          if (['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF'].includes(resolved.v)) return [true, false];
        }
        break;
      default:
        break;
    }
    this.tagError(n, tag, t);
    return [false, cur];
  }

  private sequence(n: YNode & { kind: 'seq' }, t: GoType, cur: unknown): [boolean, unknown] {
    if (t.k === 'slice' || t.k === 'any') {
      const elem = t.k === 'slice' ? t.elem : ANY;
      const out: unknown[] = [];
      for (const item of n.items) {
        const [ok, v] = this.construct(item, elem, zeroOf(elem));
        if (ok) out.push(v);
      }
      return [true, t.k === 'any' ? ({ t: 'seq', v: out as GoAny[] } satisfies GoAny) : out];
    }
    this.tagError(n, '!!seq', t);
    return [false, cur];
  }

  private mapping(n: YNode & { kind: 'map' }, t: GoType, cur: unknown): [boolean, unknown] {
    // Unique keys: same node kind and same text (go-yaml compares Node.Value).
    const before = this.errors.length;
    for (let i = 0; i < n.pairs.length; i++) {
      const ni = n.pairs[i]![0];
      for (let j = i + 1; j < n.pairs.length; j++) {
        const nj = n.pairs[j]![0];
        if (ni.kind === nj.kind && nodeText(ni) === nodeText(nj)) {
          this.error(nj, `mapping key ${goQuote(nodeText(nj))} already defined at line ${ni.line}`);
        }
      }
    }
    if (this.errors.length > before) return [false, cur];

    switch (t.k) {
      case 'struct':
        return this.mappingStruct(n, t, cur as GoStruct);
      case 'map': {
        const m = (cur as GoMap | null) ?? { t: 'map', stringKeys: true, v: new Map() };
        this.mapEntries(n, m, cur === null);
        return [true, m];
      }
      case 'any': {
        const m: GoMap = { t: 'map', stringKeys: isStringMap(n), v: new Map() };
        this.mapEntries(n, m, true);
        return [true, m];
      }
      default:
        this.tagError(n, '!!map', t);
        return [false, cur];
    }
  }

  private mapEntries(n: YNode & { kind: 'map' }, m: GoMap, isNew: boolean): void {
    const merged = this.mergedFields;
    this.mergedFields = null;
    let mergeNode: YNode | null = null;
    const keyType = m.stringKeys ? STRING : ANY;
    for (const [kn, vn] of n.pairs) {
      if (isMerge(kn)) {
        mergeNode = vn;
        continue;
      }
      const [ok, kv] = this.construct(kn, keyType, zeroOf(keyType));
      if (!ok) continue;
      const key: GoAny = m.stringKeys ? { t: 'str', v: kv as string } : (kv as GoAny);
      const id = keyId(key);
      if (merged) {
        if (merged.has(id)) continue;
        merged.add(id);
      }
      if (key.t === 'map' || key.t === 'seq') {
        fatal(`cannot use '${goSharpV(key)}' as a map key; try decoding into yaml.Node`);
      }
      const [vok, value] = this.construct(vn, ANY, NIL);
      if (vok || (nodeShortTag(vn) === '!!null' && (isNew || !m.v.has(id)))) m.v.set(id, [key, value as GoAny]);
    }
    this.mergedFields = merged;
    if (mergeNode) this.merge(n, mergeNode, { k: 'map' }, m);
  }

  private mappingStruct(n: YNode & { kind: 'map' }, t: GoType & { k: 'struct' }, obj: GoStruct): [boolean, unknown] {
    const merged = this.mergedFields;
    this.mergedFields = null;
    let mergeNode: YNode | null = null;
    const done = new Set<string>();
    for (const [kn, vn] of n.pairs) {
      if (isMerge(kn)) {
        mergeNode = vn;
        continue;
      }
      const [ok, nameValue] = this.construct(kn, STRING, '');
      if (!ok) continue;
      const name = nameValue as string;
      if (merged) {
        if (merged.has(`s${name}`)) continue;
        merged.add(`s${name}`);
      }
      const ft = t.fields.get(name);
      if (ft) {
        if (done.has(name)) {
          this.error(kn, `field ${name} already set in type ${t.name}`);
          continue;
        }
        done.add(name);
        const [, v] = this.construct(vn, ft, obj.get(name));
        obj.set(name, v);
      } else {
        this.error(kn, `field ${name} not found in type ${t.name}`);
      }
    }
    this.mergedFields = merged;
    if (mergeNode) this.merge(n, mergeNode, t, obj);
    return [true, obj];
  }

  /** `<<` merge keys: keys already in the mapping (or an earlier merge source) win. */
  private merge(parent: YNode & { kind: 'map' }, mergeNode: YNode, t: GoType, target: unknown): void {
    const saved = this.mergedFields;
    if (!saved) {
      const set = new Set<string>();
      for (const [kn] of parent.pairs) {
        const [ok, k] = this.construct(kn, ANY, NIL);
        if (ok) set.add(keyId(k as GoAny));
      }
      this.mergedFields = set;
    }
    const wantMap = () => fatal('map merge requires map or sequence of maps as the value');
    const into = (node: YNode) => {
      // A merged mapping adds to the existing struct or map in place.
      this.construct(node, t, target);
    };
    if (mergeNode.kind === 'map') into(mergeNode);
    else if (mergeNode.kind === 'alias') {
      if (mergeNode.target().kind !== 'map') wantMap();
      into(mergeNode);
    } else if (mergeNode.kind === 'seq') {
      for (const item of mergeNode.items) {
        if (item.kind === 'alias') {
          if (item.target().kind !== 'map') wantMap();
        } else if (item.kind !== 'map') wantMap();
        into(item);
      }
    } else wantMap();
    this.mergedFields = saved;
  }
}

/** go-yaml `Node.Tag` as the composer sets it: explicit tag, else by kind / resolution. */
function nodeTag(n: YNode): string {
  if (n.tag) return n.tag;
  switch (n.kind) {
    case 'map':
      return '!!map';
    case 'seq':
      return '!!seq';
    case 'alias':
      return '';
    case 'scalar':
      return n.style === 'plain' ? resolvePlain(n.value).tag : '!!str';
  }
}

/** go-yaml `Node.ShortTag()`. */
function nodeShortTag(n: YNode): string {
  if (n.kind === 'alias') return nodeShortTag(n.target());
  if (n.kind === 'scalar' && indicatedString(n)) return '!!str';
  return nodeTag(n);
}

function indicatedString(n: YScalar): boolean {
  return n.tag === '!!str' || (n.tag === '' && n.style !== 'plain');
}

function nodeText(n: YNode): string {
  if (n.kind === 'scalar') return n.value;
  if (n.kind === 'alias') return n.name;
  return '';
}

function isMerge(n: YNode): boolean {
  return n.kind === 'scalar' && nodeTag(n) === '!!merge';
}

function isStringMap(n: YNode & { kind: 'map' }): boolean {
  return n.pairs.every(([k]) => {
    const tag = nodeShortTag(k);
    return tag === '!!str' || tag === '!!merge';
  });
}

const RESOLVABLE = new Set(['', '!!str', '!!bool', '!!int', '!!float', '!!null', '!!timestamp']);

/** go-yaml `resolve(tag, text)` for a scalar node, with explicit tags and `!!binary`. */
function resolveNode(n: YScalar): [string, GoAny] {
  if (indicatedString(n)) return ['!!str', { t: 'str', v: n.value }];
  const tag = n.tag;
  if (!RESOLVABLE.has(tag)) {
    if (tag === '!!binary') {
      const bytes = decodeGoBase64(n.value);
      if (bytes === null) fatal('!!binary value contains invalid base64 data');
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        throw unsupported(
          'E_SCHEMATIC_BINARY_UTF8',
          `line ${n.line}: a !!binary value that is not UTF-8 text is not supported`,
        );
      }
      return [tag, { t: 'str', v: text }];
    }
    return [tag, { t: 'str', v: n.value }];
  }
  // Explicit non-timestamp tags do not try the timestamp form.
  const r: Resolved = resolvePlain(n.value, tag === '' || tag === '!!timestamp');
  const value = fromResolved(r);
  if (tag === '' || tag === r.tag) return [r.tag, value];
  if (tag === '!!float' && r.tag === '!!int') return ['!!float', { t: 'float', v: Number(r.value) }];
  fatal(`cannot construct ${r.tag} \`${n.value}\` as a ${tag}`);
}

function fromResolved(r: Resolved): GoAny {
  switch (r.tag) {
    case '!!null':
      return NIL;
    case '!!bool':
      return { t: 'bool', v: r.value };
    case '!!int':
      return r.unsigned ? { t: 'uint', v: r.value } : { t: 'int', v: r.value };
    case '!!float':
      return { t: 'float', v: r.value };
    case '!!timestamp':
      return { t: 'time', v: r.value };
    case '!!merge':
      return { t: 'str', v: '<<' };
    case '!!str':
      return { t: 'str', v: r.value };
  }
}

/** Go `%#v` of a decoded key, for the "cannot use … as a map key" message. */
function goSharpV(v: GoAny): string {
  switch (v.t) {
    case 'nil':
      return 'interface {}(nil)';
    case 'bool':
    case 'int':
    case 'uint':
    case 'float':
      return String(v.v);
    case 'time':
      return v.v.text;
    case 'str':
      return goQuote(v.v);
    case 'seq':
      return `[]interface {}{${v.v.map(goSharpV).join(', ')}}`;
    case 'map':
      return `map[${v.stringKeys ? 'string' : 'interface {}'}]interface {}{${[...v.v.values()]
        .map(([k, x]) => `${goSharpV(k)}:${goSharpV(x)}`)
        .join(', ')}}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Go values → the public model (zero values left out, as `omitempty` does)

function toSchematic(s: GoStruct): Schematic {
  const out: Schematic = { customization: {} };
  const owner = s.get('owner') as string;
  if (owner !== '') out.owner = owner;

  const ov = s.get('overlay') as GoStruct;
  const image = ov.get('image') as string;
  const name = ov.get('name') as string;
  const options = ov.get('options') as GoMap | null;
  if (image !== '' || name !== '' || (options && options.v.size > 0)) {
    out.overlay = { image, name };
    if (options && options.v.size > 0) out.overlay.options = toOverlayOptions(options);
  }

  const c = s.get('customization') as GoStruct;
  const cust: SchematicCustomization = out.customization;
  const emc = c.get('embeddedMachineConfiguration') as string;
  if (emc !== '') cust.embeddedMachineConfiguration = emc;
  const args = c.get('extraKernelArgs') as string[] | null;
  if (args && args.length > 0) cust.extraKernelArgs = args;
  const meta = c.get('meta') as GoStruct[] | null;
  if (meta && meta.length > 0) {
    cust.meta = meta.map((m) => ({ key: Number(m.get('key') as bigint), value: m.get('value') as string }));
  }
  const exts = (c.get('systemExtensions') as GoStruct).get('officialExtensions') as string[] | null;
  if (exts && exts.length > 0) cust.systemExtensions = { officialExtensions: exts };
  const bl = c.get('bootloader') as number;
  if (bl !== 0) cust.bootloader = BOOTLOADER_NAMES[bl] as SchematicBootloader;
  const sb = c.get('secureboot') as GoStruct;
  const enroll = sb.get('enrollKeys') as string;
  const wellKnown = sb.get('includeWellKnownCertificates') as boolean;
  if (enroll !== '' || wellKnown) {
    cust.secureboot = {};
    if (enroll !== '') cust.secureboot.enrollKeys = enroll;
    if (wellKnown) cust.secureboot.includeWellKnownCertificates = true;
  }
  const sector = (c.get('diskImage') as GoStruct).get('sectorSize') as bigint;
  if (sector !== 0n) {
    cust.diskImage = { sectorSize: sector <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(sector) : sector };
  }
  return out;
}

function toOverlayOptions(m: GoMap): SchematicOverlayOptions {
  const out = newOverlayOptions();
  for (const [k, v] of m.v.values()) out[(k as { v: string }).v] = toOverlayOptionValue(v);
  return out;
}

function toOverlayOptionValue(v: GoAny): OverlayOptionValue {
  switch (v.t) {
    case 'nil':
      return null;
    case 'bool':
      return v.v;
    case 'int':
    case 'uint':
      return v.v;
    case 'float':
      return v.v;
    case 'time':
      return new YamlTimestamp(v.v.text, v.v.utc);
    case 'str':
      return v.v;
    case 'seq':
      return v.v.map(toOverlayOptionValue);
    case 'map':
      if (v.stringKeys) return toOverlayOptions(v);
      return new Map<OverlayOptionKey, OverlayOptionValue>(
        [...v.v.values()].map(([k, x]) => [toOverlayOptionValue(k) as OverlayOptionKey, toOverlayOptionValue(x)]),
      );
  }
}
