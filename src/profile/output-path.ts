/**
 * Output file naming (talos-imager.md §1.7, upstream `Profile.OutputPath`): the name of the file
 * the output kind produces, before post-processing appends `.xz`, `.gz`, `.zst` or `.tar.gz`.
 */
import { invalidInput } from '../core/errors.js';
import type { OutFormat, Profile } from './schema.js';

export function outputPath(p: Profile): string {
  let path = `${p.platform}-${p.arch}`;
  if (p.secureboot === true) path += '-secureboot';
  switch (p.output.kind) {
    case 'iso':
      return `${path}.iso`;
    case 'image':
      // Upstream dereferences imageOptions here; a validated image profile always has them.
      return `${path}.${p.output.imageOptions?.diskFormat ?? 'unknown'}`;
    case 'installer':
      return `installer-${p.arch}${p.secureboot === true ? '-secureboot' : ''}.tar`;
    case 'kernel':
      return `kernel-${p.arch}`;
    case 'initramfs':
      return `initramfs-${path}.xz`;
    case 'uki':
      return `${path}-uki.efi`;
    case 'cmdline':
      return `cmdline-${path}`;
    case 'unknown':
      throw invalidInput('E_PROFILE_OUTPUT_KIND', 'unknown output kind');
  }
}

/** The final file name after post-processing by `outFormat` (talos-imager.md §1.7, §12.1). */
export function finalOutputPath(p: Profile): string {
  const name = outputPath(p);
  const suffix: Record<OutFormat, string | null> = { raw: '', '.xz': '.xz', '.gz': '.gz', '.zst': '.zst', '.tar.gz': '.tar.gz', unknown: null };
  const s = suffix[p.output.outFormat];
  if (s === null) throw invalidInput('E_PROFILE_OUT_FORMAT', `unknown output format: ${p.output.outFormat}`);
  return name + s;
}
