/**
 * Upstream conformance: every `<base>-<arch>-<version>.yaml` in ../shared/conformance/profiles is what
 * the Talos imager prints for that built-in base profile after FillDefaults for that arch and version
 * (upstream `TestFillDefaults`). The library and `imagekit profile show` must print the same bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformanceDir } from '../helpers/tools.js';
import { baseProfileForTarget, dumpProfile } from '../../src/profile/index.js';

const root = conformanceDir();
const dir = root && join(root, 'profiles');
if (!dir) {
  if (process.env.CI) throw new Error('conformance data missing under CI: ../shared/conformance/profiles (or IMAGEKIT_CONFORMANCE_DIR)');
  console.warn('skipping profile conformance: ../shared/conformance/profiles not found (set IMAGEKIT_CONFORMANCE_DIR)');
}

const FILE = /^(.+)-(amd64|arm64)-(\d+\.\d+\.\d+)\.yaml$/;
const cases = dir
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((file) => {
        const m = FILE.exec(file);
        if (!m) throw new Error(`unexpected conformance file name ${file}`);
        return { file, base: m[1]!, arch: m[2]!, version: m[3]! };
      })
  : [];

describe.skipIf(!dir)('profile conformance (talos-imager.md §1.4–§1.7, §3)', () => {
  it('has the upstream files', () => {
    expect(cases.length).toBeGreaterThan(200);
  });

  // /secureboot/*.auth are looked up on the host, as upstream does in its container; the golden
  // files were made where they do not exist.
  it.each(cases)('$file', ({ file, base, arch, version }) => {
    const want = readFileSync(join(dir!, file), 'utf8');
    const p = baseProfileForTarget(base, { arch, version }, { fileExists: () => false });
    expect(p.secureboot).toBe(base.startsWith('secureboot'));
    expect(dumpProfile(p)).toBe(want);
  });
});
