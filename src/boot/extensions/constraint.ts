/**
 * The Talos-version compatibility check (talos-imager.md §4.3; upstream
 * `pkg/machinery/extensions/validate.go`): `compatibility.talos.version` is a blang/semver range
 * (`>=`, `>`, `<`, `<=`, `=`/`==`/none, `!`/`!=`; space = AND, `||` = OR; `1.2.x` / `1.x` wildcards)
 * after every `v` directly before a digit is removed. It must accept the target version without its
 * pre-release part. An empty constraint accepts everything.
 */
import { invalidInput } from '../../core/errors.js';
import {
  compareVersions, DEFAULT_TALOS_VERSION, formatVersion, parseStrictVersion, parseTalosVersion, type TalosVersion,
} from '../../profile/version.js';

type Test = (v: TalosVersion) => boolean;

/** Remove every `v` that comes right before a digit (upstream `trim`). */
export function trimVPrefixes(s: string): string {
  return s.replace(/v(?=[0-9])/g, '');
}

/** blang/semver `splitAndTrim`: split on spaces, but a space right after `<`, `>` or `=` does not split. */
function splitParts(s: string): string[] {
  const out: string[] = [];
  let last = 0;
  let lastChar = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ' ' && !'<>='.includes(lastChar || 'x')) {
      if (last < i - 1) out.push(s.slice(last, i));
      last = i + 1;
    } else if (s[i] !== ' ') {
      lastChar = s[i]!;
    }
  }
  if (last < s.length - 1) out.push(s.slice(last));
  return out.map((p) => p.replace(/ /g, ''));
}

function splitOperator(part: string): [string, string] {
  const i = part.search(/[0-9]/);
  if (i < 0) throw new Error(`could not get version from string: ${JSON.stringify(part)}`);
  return [part.slice(0, i).trim(), part.slice(i)];
}

/** blang/semver wildcard expansion (`>=1.2.x` → `>=1.2.0`, `1.x` → `>=1.0.0 <2.0.0`, …). */
function expandWildcard(part: string): string[] {
  if (!part.includes('.x')) return [part];
  const [op, ver] = splitOperator(part);
  const dots = ver.split('.');
  const kind = dots[dots.length - 1] === 'x' ? dots.length : 0; // 3: patch wildcard, 2: minor wildcard
  let flat = ver.replace('.x.x', '.x').replace('.x', '.0');
  if (flat.split('.').length === 2) flat += '.0';
  const bump = (v: string): string => {
    const p = v.split('.');
    const at = kind === 3 ? 1 : kind === 2 ? 0 : -1;
    if (at < 0) return v;
    p[at] = String(Number.parseInt(p[at]!, 10) + 1);
    return p.join('.');
  };
  switch (op) {
    case '>': return [`>=${bump(flat)}`];
    case '>=': return [`>=${flat}`];
    case '<': return [`<${flat}`];
    case '<=': return [`<${bump(flat)}`];
    case '': case '=': case '==': return [`>=${flat}`, `<${bump(flat)}`];
    case '!': case '!=': return [`<${flat}`, `>=${bump(flat)}`];
    default: return [`${op}${kind ? bump(flat) : flat}`];
  }
}

function comparator(op: string, ref: TalosVersion, text: string): Test {
  switch (op) {
    case '': case '=': case '==': return (v) => compareVersions(v, ref) === 0;
    case '!': case '!=': return (v) => compareVersions(v, ref) !== 0;
    case '>': return (v) => compareVersions(v, ref) > 0;
    case '>=': return (v) => compareVersions(v, ref) >= 0;
    case '<': return (v) => compareVersions(v, ref) < 0;
    case '<=': return (v) => compareVersions(v, ref) <= 0;
    default: throw new Error(`could not parse comparator ${JSON.stringify(op)} in ${JSON.stringify(text)}`);
  }
}

/** Parse a range (after `trimVPrefixes`); throws a plain Error with blang-like text when invalid. */
export function parseVersionRange(range: string): Test {
  const parts = splitParts(range);
  const groups: string[][] = [];
  let cur: string[] = [];
  parts.forEach((p, i) => {
    if (p === '||') {
      if (i === 0) throw new Error("first element in range is '||'");
      groups.push(cur);
      cur = [];
    } else {
      cur.push(p);
    }
  });
  if (parts.length === 0 || parts[parts.length - 1] === '||') throw new Error("last element in range is '||'");
  groups.push(cur);
  const ors = groups.map((g) => {
    const ands = g.flatMap(expandWildcard).map((p) => {
      const [op, ver] = splitOperator(p);
      const v = parseStrictVersion(ver);
      if (!v) throw new Error(`could not parse version ${JSON.stringify(ver)} in ${JSON.stringify(p)}`);
      return comparator(op, v, p);
    });
    return (v: TalosVersion) => ands.every((t) => t(v));
  });
  return (v) => ors.some((t) => t(v));
}

/**
 * Check an extension's constraint against the target Talos version (pre-release dropped; an
 * unparsable target falls back to the imager's own tag, as upstream does).
 */
export function checkTalosCompatibility(constraint: string, targetVersion: string, extensionName: string): void {
  if (constraint === '') return;
  const parsed = parseTalosVersion(targetVersion) ?? parseTalosVersion(DEFAULT_TALOS_VERSION)!;
  const core: TalosVersion = { major: parsed.major, minor: parsed.minor, patch: parsed.patch, prerelease: [], build: [] };
  let test: Test;
  try {
    test = parseVersionRange(trimVPrefixes(constraint));
  } catch (err) {
    throw invalidInput('E_EXTENSION_CONSTRAINT', `error validating extension ${JSON.stringify(extensionName)}: error parsing Talos version constraint ${JSON.stringify(constraint)}: ${(err as Error).message}`);
  }
  if (!test(core)) {
    throw invalidInput('E_EXTENSION_INCOMPATIBLE',
      `error validating extension ${JSON.stringify(extensionName)}: version constraint ${constraint} can't be satisfied with Talos version ${formatVersion(core)}`);
  }
}
