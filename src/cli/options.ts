/**
 * Option parsing shared by the imager-compatible commands (talos-imager.md §1.2). Every check throws
 * an invalid-input error (exit code 2) whose one-line message names the flag at fault.
 */
import { invalidInput } from '../core/errors.js';
import { parseGoUint } from '../profile/yaml/resolve.js';
import { DEFAULT_TALOS_VERSION, parseTalosVersion } from '../profile/version.js';
import type { MetaValue } from '../profile/schema.js';

export const ARCHES = ['amd64', 'arm64'] as const;

/** The imager's `--arch` default is the host's Go architecture. */
export function hostArch(): string {
  switch (process.arch) {
    case 'x64':
      return 'amd64';
    case 'arm64':
      return 'arm64';
    default:
      return process.arch;
  }
}

export function checkArch(arch: string, flag = '--arch'): string {
  if (!(ARCHES as readonly string[]).includes(arch)) {
    throw invalidInput('E_CLI_ARCH', `invalid ${flag} ${JSON.stringify(arch)}: expected amd64 or arm64`);
  }
  return arch;
}

/**
 * `--version`: a Talos version such as `v1.11.0` or `1.14.0-beta.1` (parsed as the imager's quirks
 * parse it). Kept as written: it also names image tags (`installer-base:<version>`).
 */
export function checkVersion(version: string | undefined, flag = '--version'): string {
  const v = version ?? DEFAULT_TALOS_VERSION;
  if (parseTalosVersion(v) === null) {
    throw invalidInput('E_CLI_VERSION', `invalid ${flag} ${JSON.stringify(v)}: expected a Talos version such as v1.11.0`);
  }
  return v;
}

/** Accumulator for repeatable options. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--meta key=value`: key with Go base prefixes (`10`, `0x0a`, `0o12`), 0–255 (`meta.Value.Parse`). */
export function parseMetaOption(raw: string): MetaValue {
  const eq = raw.indexOf('=');
  if (eq < 0) throw invalidInput('E_CLI_META', `invalid --meta ${JSON.stringify(raw)}: expected key=value`);
  const key = parseGoUint(raw.slice(0, eq), 8);
  if (key === null) throw invalidInput('E_CLI_META', `invalid --meta key ${JSON.stringify(raw.slice(0, eq))}: expected 0–255 (e.g. 10 or 0x0a)`);
  return { key: Number(key), value: raw.slice(eq + 1) };
}
