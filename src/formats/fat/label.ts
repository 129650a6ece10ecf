/** FAT volume labels: up to 11 bytes, stored space-padded in the boot sector and the root directory. */
import { invalidInput } from '../../core/errors.js';

export const NO_NAME = 'NO NAME    ';
const FORBIDDEN = new Set('*?.,;:/\\|+=<>[]"');

/** The 11-byte padded label; throws on what mkfs.fat would refuse. */
export function padVolumeLabel(label: string): string {
  if (label.length > 11) throw invalidInput('E_FAT_LABEL', `FAT label ${JSON.stringify(label)} is longer than 11 characters`);
  for (const ch of label) {
    const c = ch.charCodeAt(0);
    if (c < 0x20 || c > 0x7e || FORBIDDEN.has(ch)) {
      throw invalidInput('E_FAT_LABEL', `FAT label ${JSON.stringify(label)} holds ${JSON.stringify(ch)}, which a label cannot hold`);
    }
  }
  if (label.startsWith(' ')) throw invalidInput('E_FAT_LABEL', `FAT label ${JSON.stringify(label)} starts with a space`);
  return label.padEnd(11, ' ');
}
