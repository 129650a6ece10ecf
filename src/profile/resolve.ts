/**
 * Profile resolution as the imager's `handleProf` does it (talos-imager.md §0 step 3): look the base
 * profile up (overlay profiles first, then the built-in ones), merge the user's profile on top
 * (§1.3), default `name` to `Talos` and `version` to the imager's tag, fill defaults (§1.5) and
 * validate (§1.6).
 */
import { invalidInput } from '../core/errors.js';
import { BASE_PROFILE_NAMES, builtinBaseProfile } from './base-profiles.js';
import { fillDefaults, type FillDefaultsOptions } from './defaults.js';
import { cloneProfile, mergeProfile } from './merge.js';
import type { Profile } from './schema.js';
import { validateProfile } from './validate.js';
import { DEFAULT_TALOS_VERSION } from './version.js';

export interface ResolveProfileOptions extends FillDefaultsOptions {
  /** Base profiles from an overlay (`<overlay>/profiles/*.yaml`), looked up before the built-in ones. */
  extraBaseProfiles?: Readonly<Record<string, Profile>>;
  /** Version when the profile names none (default: `DEFAULT_TALOS_VERSION`). */
  defaultVersion?: string;
}

/** A copy of the named base profile (overlay ones first); throws E_PROFILE_UNKNOWN_BASE. */
export function lookupBaseProfile(name: string, extra: Readonly<Record<string, Profile>> = {}): Profile {
  if (Object.hasOwn(extra, name)) return cloneProfile(extra[name]!);
  const builtin = builtinBaseProfile(name);
  if (builtin) return builtin;
  throw invalidInput('E_PROFILE_UNKNOWN_BASE', `unknown base profile: ${name} (${BASE_PROFILE_NAMES.length} built-in: ${BASE_PROFILE_NAMES.slice(0, 4).join(', ')}, …; see \`imagekit profile list\`)`);
}

/** The final profile a build uses. */
export function resolveProfile(user: Profile, opts: ResolveProfileOptions = {}): Profile {
  let p = cloneProfile(user);
  if (p.baseProfileName !== '') {
    const base = lookupBaseProfile(p.baseProfileName, opts.extraBaseProfiles);
    p = mergeProfile(base, p);
    p.baseProfileName = '';
  }
  if (p.name === '') p.name = 'Talos';
  if (p.version === '') p.version = opts.defaultVersion ?? DEFAULT_TALOS_VERSION;
  p = fillDefaults(p, opts);
  validateProfile(p);
  return p;
}

/**
 * A built-in base profile for one arch and version with defaults filled and validated, as upstream's
 * `TestFillDefaults` prints it (no `name` default): what `imagekit profile show` prints.
 */
export function baseProfileForTarget(name: string, target: { arch: string; version: string }, opts: FillDefaultsOptions = {}): Profile {
  const base = lookupBaseProfile(name);
  base.arch = target.arch;
  base.version = target.version;
  const p = fillDefaults(base, opts);
  validateProfile(p);
  return p;
}
