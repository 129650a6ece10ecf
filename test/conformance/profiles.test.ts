/**
 * Upstream conformance: every `<base>-<arch>-<version>.yaml` in ../shared/conformance/profiles is what
 * the Talos imager prints for that built-in base profile after FillDefaults for that arch and version
 * (upstream `TestFillDefaults`). The library and `imagekit profile show` must print the same bytes.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
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

/** Run the CLI in this process, capturing what it writes (exit code as `main` returns it). */
async function runInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true));
  try {
    const code = await main(['node', 'imagekit', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe.skipIf(!dir || existsSync('/secureboot'))('imagekit profile show <base> --arch A --version V', () => {
  it.each(cases)('$file', async ({ file, base, arch, version }) => {
    const r = await runInProcess(['profile', 'show', base, '--arch', arch, '--version', version]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(dir!, file), 'utf8'));
  });

  // The installed binary, one file per base profile (a process each, so not all of them).
  const onePerBase = [...new Map(cases.map((c) => [c.base, c])).values()];
  it('bin/imagekit.js prints the same bytes (one file per base profile)', async () => {
    const bin = join(import.meta.dirname, '../../bin/imagekit.js');
    const results = await Promise.all(
      onePerBase.map(
        (c) =>
          new Promise<{ file: string; code: number | null; stdout: string; stderr: string }>((resolveRun, rejectRun) => {
            execFile(process.execPath, [bin, 'profile', 'show', c.base, '--arch', c.arch, '--version', c.version], (error, stdout, stderr) => {
              if (error && typeof error.code !== 'number') rejectRun(error);
              else resolveRun({ file: c.file, code: error ? (error.code as number) : 0, stdout, stderr });
            });
          }),
      ),
    );
    for (const r of results) {
      expect(r.stderr, r.file).toBe('');
      expect(r.code, r.file).toBe(0);
      expect(r.stdout, r.file).toBe(readFileSync(join(dir!, r.file), 'utf8'));
    }
    expect(results).toHaveLength(32);
  });
});
