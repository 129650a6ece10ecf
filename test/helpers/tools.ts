/**
 * Shared test helpers for reference-tool checks and conformance data.
 *
 * A reference tool that is missing fails the test under CI (CI=true: `.ci/run` installs them all)
 * and skips it locally with the reason, so a green CI run always means the tool really agreed.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const found = new Map<string, boolean>();

export function hasTool(name: string): boolean {
  if (!found.has(name)) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    found.set(name, r.status === 0);
  }
  return found.get(name)!;
}

/** For `it.skipIf(missingTools(...))`: returns true (skip) locally, throws under CI. */
export function missingTools(...names: string[]): boolean {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length === 0) return false;
  if (process.env.CI) throw new Error(`reference tool(s) missing under CI: ${missing.join(', ')} (.ci/run installs them)`);
  console.warn(`skipping: reference tool(s) not installed: ${missing.join(', ')}`);
  return true;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run a reference tool; never throws on a non-zero exit (tests assert on status). */
export function runTool(cmd: string, args: string[], opts: SpawnSyncOptions = {}): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...opts });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** Directory of upstream conformance data (../shared/conformance or IMAGEKIT_CONFORMANCE_DIR). */
export function conformanceDir(): string | null {
  const dir = process.env.IMAGEKIT_CONFORMANCE_DIR ?? resolve(import.meta.dirname, '../../../shared/conformance');
  return existsSync(dir) ? dir : null;
}

/** A temp dir removed by the returned cleanup. */
export function tempDir(prefix = 'imagekit-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Boot-test assets fetched by scripts/e2e-assets.sh (Debian kernel). Null when absent. */
export function e2eAssets(): { dir: string; vmlinuz: string; modulesDir: string } | null {
  const dir = process.env.IMAGEKIT_E2E_DIR ?? join(process.env.HOME ?? '/root', '.cache/imagekit-e2e');
  const vmlinuz = join(dir, 'vmlinuz');
  if (!existsSync(vmlinuz)) {
    if (process.env.CI) throw new Error(`boot-test kernel missing under CI: ${vmlinuz} (.ci/run runs scripts/e2e-assets.sh)`);
    return null;
  }
  return { dir, vmlinuz, modulesDir: join(dir, 'root/lib/modules') };
}
