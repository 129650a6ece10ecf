/**
 * UKI profiles (talos-imager.md §6.1 "Profiles", target ≥ 1.10): `main` first, then the extra
 * profiles of the output kind. A `.profile` section holds `ID=<id>` and, with a title,
 * `\nTITLE=<title>` (no trailing newline); a profile with its own command line gets a `.cmdline`
 * section right after its `.profile`.
 */
import { invalidInput } from '../../core/errors.js';

export interface UkiProfile {
  id: string;
  title?: string;
  /** Command line replacing the main one when this profile boots. */
  cmdline?: string;
}

export const MAIN_PROFILE_ID = 'main';

export function profileText(p: UkiProfile): string {
  return p.title ? `ID=${p.id}\nTITLE=${p.title}` : `ID=${p.id}`;
}

/** The profiles Talos's `buildUKI` adds for an output kind (`uki` and others: only `main`). */
export function talosUkiProfiles(outputKind: string, cmdline: string): UkiProfile[] {
  const main: UkiProfile = { id: MAIN_PROFILE_ID };
  switch (outputKind) {
    case 'iso':
      return [main, { id: 'reset', title: 'Reset system disk', cmdline: `${cmdline} talos.experimental.wipe=system` }];
    case 'image':
    case 'installer':
      return [main, { id: 'reset-maintenance', title: 'Reset to maintenance mode', cmdline: `${cmdline} talos.experimental.wipe=system:EPHEMERAL,STATE` }];
    default:
      return [main];
  }
}

/** `main` first and only once, unique IDs, one-line IDs and titles. */
export function validateProfiles(profiles: readonly UkiProfile[]): void {
  if (profiles.length === 0) return;
  if (profiles[0]!.id !== MAIN_PROFILE_ID) throw invalidInput('E_UKI_PROFILE', `the first UKI profile must be "${MAIN_PROFILE_ID}", got ${JSON.stringify(profiles[0]!.id)}`);
  const seen = new Set<string>();
  for (const p of profiles) {
    if (!/^[A-Za-z0-9._-]+$/.test(p.id)) throw invalidInput('E_UKI_PROFILE', `UKI profile ID ${JSON.stringify(p.id)} must be letters, digits, ".", "_" or "-"`);
    if (seen.has(p.id)) throw invalidInput('E_UKI_PROFILE', `UKI profile ID ${JSON.stringify(p.id)} is used twice`);
    if (p.title !== undefined && /[\n\r]/.test(p.title)) throw invalidInput('E_UKI_PROFILE', `UKI profile ${p.id}: the title must be one line`);
    seen.add(p.id);
  }
}
