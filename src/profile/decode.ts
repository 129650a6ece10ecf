/**
 * Reading a profile from YAML (talos-imager.md §1): go-yaml decoding semantics via `yaml/read.ts`
 * and the zod schema. Unknown keys (including removed legacy keys such as `board`) are ignored, as
 * the imager does when it reads a profile from stdin.
 */
import { invalidInput } from '../core/errors.js';
import { ProfileSchema, type Profile } from './schema.js';
import { readYaml } from './yaml/read.js';

/** Largest profile text accepted (an embedded machine config is the biggest part). */
export const MAX_PROFILE_BYTES = 16 * 1024 * 1024;

export function decodeProfile(text: string, source = 'profile'): Profile {
  if (Buffer.byteLength(text) > MAX_PROFILE_BYTES) {
    throw invalidInput('E_PROFILE_TOO_LARGE', `${source}: profile larger than ${MAX_PROFILE_BYTES} bytes`);
  }
  const tree = readYaml(text, { source });
  if (tree === null) throw invalidInput('E_PROFILE_EMPTY', `${source}: no YAML document`);
  const parsed = ProfileSchema.safeParse(tree);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    const path = first.path.length ? first.path.map(String).join('.') : '(document)';
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : '';
    throw invalidInput('E_PROFILE_DECODE', `${source}: ${path}: ${first.message}${more}`);
  }
  return parsed.data;
}

/** A profile from plain JavaScript values (any subset of the fields), validated by the schema. */
export function profileFromObject(value: unknown, source = 'profile'): Profile {
  const parsed = ProfileSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw invalidInput('E_PROFILE_DECODE', `${source}: ${first.path.map(String).join('.') || '(document)'}: ${first.message}`);
  }
  return parsed.data;
}
