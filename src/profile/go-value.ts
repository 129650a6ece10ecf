/**
 * Values of Go's `any` as go-yaml decodes them: the overlay `options` map
 * (`overlay.ExtraOptions`, a `map[string]any`, talos-imager.md §1.1) is the only free-form part of a
 * profile. Its type distinctions matter: the merge (§1.3) refuses to merge an int into a string,
 * and the dump sorts keys and prints numbers the way Go does.
 *
 * Representation: Go int/uint64 → bigint, float64 → number, string, bool, nil → null,
 * `[]any` → array, `map[string]any` / `map[any]any` → GoMap (ordered entries; the dump sorts).
 */
import { invalidInput } from '../core/errors.js';
import { YamlMapping, YamlScalar, type YamlValue } from './yaml/read.js';
import { formatGoFloat, stringStyle, type YamlNode } from './yaml/emit.js';

export type GoValue = null | boolean | string | bigint | number | GoValue[] | GoMap;

export class GoMap {
  readonly entries: Array<[GoValue, GoValue]>;
  constructor(entries: Iterable<readonly [GoValue, GoValue]> = []) {
    this.entries = [...entries].map(([k, v]) => [k, v]);
  }
  /** Index of a key (Go map equality on the key's type and value). */
  indexOf(key: GoValue): number {
    return this.entries.findIndex(([k]) => typeof k === typeof key && k === key);
  }
  get(key: GoValue): GoValue | undefined {
    const i = this.indexOf(key);
    return i < 0 ? undefined : this.entries[i]![1];
  }
  set(key: GoValue, value: GoValue): void {
    const i = this.indexOf(key);
    if (i < 0) this.entries.push([key, value]);
    else this.entries[i]![1] = value;
  }
  get size(): number {
    return this.entries.length;
  }
}

/** go-yaml's decoding into `any`. Mappings whose keys are all strings become string-keyed maps. */
export function goValueFromYaml(v: YamlValue, forceStringKeys = false): GoValue {
  if (Array.isArray(v)) return v.map((item) => goValueFromYaml(item));
  if (v instanceof YamlMapping) {
    const stringKeys = forceStringKeys || v.entries.every(([k]) => k instanceof YamlScalar && k.tag === 'str');
    const m = new GoMap();
    for (const [k, val] of v.entries) {
      let key: GoValue;
      if (!(k instanceof YamlScalar)) throw invalidInput('E_PROFILE_MAP_KEY', 'a mapping or sequence cannot be a map key in overlay options');
      key = stringKeys ? (k.tag === 'null' ? '' : k.text) : goValueFromYaml(k);
      m.set(key, goValueFromYaml(val));
    }
    return m;
  }
  const r = v.resolved;
  switch (r.tag) {
    case 'null':
      return null;
    case 'bool':
      return r.value as boolean;
    case 'int':
      return r.value as bigint;
    case 'float':
      return r.value as number;
    default:
      // str, merge; timestamps stay text (Go would hold a time.Time and print it in RFC 3339).
      return v.text;
  }
}

/** Accept a programmatic value (plain objects become string-keyed maps). */
export function toGoValue(v: unknown, path = 'value'): GoValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) && Number.isSafeInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map((x, i) => toGoValue(x, `${path}[${i}]`));
  if (v instanceof GoMap) return new GoMap(v.entries.map(([k, x]) => [k, toGoValue(x, path)] as const));
  if (v instanceof YamlMapping || v instanceof YamlScalar) return goValueFromYaml(v);
  if (typeof v === 'object') return new GoMap(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toGoValue(x, `${path}.${k}`)] as const));
  throw invalidInput('E_PROFILE_VALUE', `${path}: unsupported value of type ${typeof v}`);
}

export function cloneGoValue(v: GoValue): GoValue {
  if (Array.isArray(v)) return v.map(cloneGoValue);
  if (v instanceof GoMap) return new GoMap(v.entries.map(([k, x]) => [k, cloneGoValue(x)] as const));
  return v;
}

const INT64_MAX = 2n ** 63n - 1n;

/** Go reflect.Kind numbers, which go-yaml's key sort compares across types. */
function kindOf(v: GoValue): number {
  if (v === null) return 20; // nil interface
  if (typeof v === 'boolean') return 1;
  if (typeof v === 'bigint') return v > INT64_MAX ? 11 : 2; // uint64 above int64, else int
  if (typeof v === 'number') return 14;
  if (typeof v === 'string') return 24;
  return Array.isArray(v) ? 23 : 21;
}

function keyNumber(v: GoValue): number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  return null;
}

const isDigit = (c: string) => /\p{Nd}/u.test(c);
const isLetter = (c: string) => /\p{L}/u.test(c);

/** go-yaml's map key order: numbers numerically, strings "naturally" (digit runs compared as numbers). */
export function goKeyLess(a: GoValue, b: GoValue): boolean {
  const ak = kindOf(a);
  const bk = kindOf(b);
  const af = keyNumber(a);
  const bf = keyNumber(b);
  if (af !== null && bf !== null) {
    if (af !== bf) return af < bf;
    if (ak !== bk) return ak < bk;
    if (typeof a === 'bigint' && typeof b === 'bigint') return a < b;
    if (typeof a === 'boolean' && typeof b === 'boolean') return !a && b;
    return (a as number) < (b as number);
  }
  if (typeof a !== 'string' || typeof b !== 'string') return ak < bk;
  const ar = [...a];
  const br = [...b];
  let digits = false;
  for (let i = 0; i < ar.length && i < br.length; i++) {
    const ca = ar[i]!;
    const cb = br[i]!;
    if (ca === cb) {
      digits = isDigit(ca);
      continue;
    }
    const al = isLetter(ca);
    const bl = isLetter(cb);
    if (al && bl) return ca.codePointAt(0)! < cb.codePointAt(0)!;
    if (al || bl) return digits ? al : bl;
    let an = 0n;
    let bn = 0n;
    if (ca === '0' || cb === '0') {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]!); j--) {
        if (ar[j] !== '0') {
          an = 1n;
          bn = 1n;
          break;
        }
      }
    }
    let ai = i;
    for (; ai < ar.length && isDigit(ar[ai]!); ai++) an = BigInt.asIntN(64, an * 10n + BigInt(ar[ai]!.codePointAt(0)! - 48));
    let bi = i;
    for (; bi < br.length && isDigit(br[bi]!); bi++) bn = BigInt.asIntN(64, bn * 10n + BigInt(br[bi]!.codePointAt(0)! - 48));
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ca.codePointAt(0)! < cb.codePointAt(0)!;
  }
  return ar.length < br.length;
}

/** The YAML node go-yaml's representer makes for a Go value. */
export function goValueToYaml(v: GoValue): YamlNode {
  if (v === null) return { kind: 'scalar', value: 'null', style: 'plain' };
  if (typeof v === 'boolean') return { kind: 'scalar', value: v ? 'true' : 'false', style: 'plain' };
  if (typeof v === 'bigint') return { kind: 'scalar', value: v.toString(), style: 'plain' };
  if (typeof v === 'number') return { kind: 'scalar', value: formatGoFloat(v), style: 'plain' };
  if (typeof v === 'string') return { kind: 'scalar', value: v, style: stringStyle(v) };
  if (Array.isArray(v)) return { kind: 'seq', items: v.map(goValueToYaml) };
  const sorted = [...v.entries].sort((x, y) => (goKeyLess(x[0], y[0]) ? -1 : goKeyLess(y[0], x[0]) ? 1 : 0));
  return { kind: 'map', pairs: sorted.map(([k, x]) => [goValueToYaml(k), goValueToYaml(x)] as const) };
}
