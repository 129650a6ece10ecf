/** The `.osrel` section (talos-imager.md §6.1; Talos `constants.OSReleaseTemplate`). */

export interface OsReleaseFields {
  /** Talos version exactly as written in the profile, e.g. `v1.11.0`. */
  version: string;
  /** Distribution name; `Talos` unless the build was renamed. */
  name?: string;
}

/** os-release text, every line ending in `\n`. */
export function osReleaseText({ version, name = 'Talos' }: OsReleaseFields): string {
  const id = name.replace(/ /g, '_').toLowerCase();
  return [
    `NAME="${name}"`,
    `ID=${id}`,
    `VERSION_ID=${version}`,
    `PRETTY_NAME="${name} (${version})"`,
    'HOME_URL="https://www.talos.dev/"',
    'BUG_REPORT_URL="https://github.com/siderolabs/talos/issues"',
    'VENDOR_NAME="Sidero Labs"',
    'VENDOR_URL="https://www.siderolabs.com/"',
    '',
  ].join('\n');
}
