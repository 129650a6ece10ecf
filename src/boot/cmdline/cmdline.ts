/**
 * The kernel command line model of go-procfs `procfs/cmdline.go` v0.1.2, which the imager builds
 * its command line with (talos-imager.md §5.1).
 *
 * An ordered list of parameters keyed by name; each key holds an ordered list of values and keeps
 * the position of its first insertion. Printing writes `key=value` for every value, or just `key`
 * for an empty value (so `slab_nomerge=` prints as `slab_nomerge`), all values of a key together.
 * Parsing splits on white space (Go's `strings.Fields`) and then at the first `=`.
 */

interface Parameter {
  key: string;
  values: string[];
}

/** Go `unicode.IsSpace`, which `strings.Fields` splits on. */
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

export interface AppendAllOptions {
  /** Keys whose parsed parameter replaces the existing one in place (`WithOverwriteArgs`). */
  overwrite?: readonly string[];
  /**
   * `WithDeleteNegatedArgs`: a key `-name` (longer than `-`) deletes instead of appending —
   * `-name` removes the key, `-name=v` removes only that value (the key may be left empty and then
   * prints nothing).
   */
  deleteNegated?: boolean;
}

/** Parse a command line into parameters, grouping repeated keys (go-procfs `parse`). */
function parse(text: string): Parameter[] {
  const line = text.endsWith('\n') ? text.slice(0, -1) : text;
  const out: Parameter[] = [];
  for (const field of line.split(GO_SPACE)) {
    if (field === '') continue;
    const eq = field.indexOf('=');
    const key = eq < 0 ? field : field.slice(0, eq);
    const value = eq < 0 ? '' : field.slice(eq + 1);
    const existing = out.find((p) => p.key === key);
    if (existing) existing.values.push(value);
    else out.push({ key, values: [value] });
  }
  return out;
}

export class Cmdline {
  private params: Parameter[];

  constructor(text = '') {
    this.params = parse(text);
  }

  /** The values of a key, or undefined when the key is absent (a present key may have none left). */
  get(key: string): readonly string[] | undefined {
    return this.params.find((p) => p.key === key)?.values;
  }

  /** Add a value to a key, creating the key at the end when absent. */
  append(key: string, value: string): void {
    const p = this.params.find((x) => x.key === key);
    if (p) p.values.push(value);
    else this.params.push({ key, values: [value] });
  }

  /** Replace a key's whole entry in place, or add it at the end. */
  set(key: string, values: readonly string[]): void {
    const entry = { key, values: [...values] };
    const i = this.params.findIndex((p) => p.key === key);
    if (i >= 0) this.params[i] = entry;
    else this.params.push(entry);
  }

  /** Parse `args` (joined by spaces) and `set` each key. */
  setAll(args: readonly string[]): void {
    for (const p of parse(args.join(' '))) this.set(p.key, p.values);
  }

  /** Remove the given values of a key (the key itself stays). */
  delete(key: string, values: readonly string[]): void {
    const p = this.params.find((x) => x.key === key);
    if (p) p.values = p.values.filter((v) => !values.includes(v));
  }

  /** Remove a key with all its values. */
  deleteAll(key: string): void {
    const i = this.params.findIndex((p) => p.key === key);
    if (i >= 0) this.params.splice(i, 1);
  }

  /** Parse `args` and append each value, with the overwrite / delete rules of `opts`. */
  appendAll(args: readonly string[], opts: AppendAllOptions = {}): void {
    for (const p of parse(args.join(' '))) {
      if (opts.deleteNegated && p.key.length > 1 && p.key.startsWith('-')) {
        if (p.values[0] === '') this.deleteAll(p.key.slice(1));
        else this.delete(p.key.slice(1), p.values);
        continue;
      }
      if (opts.overwrite?.includes(p.key)) {
        this.set(p.key, p.values);
        continue;
      }
      for (const v of p.values) this.append(p.key, v);
    }
  }

  toString(): string {
    const parts: string[] = [];
    for (const p of this.params) for (const v of p.values) parts.push(v === '' ? p.key : `${p.key}=${v}`);
    return parts.join(' ');
  }
}
