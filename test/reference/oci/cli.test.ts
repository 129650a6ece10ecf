/**
 * `imagekit pull` and `imagekit images` end to end through `node bin/imagekit.js` (compiled by
 * `npx tsc -p tsconfig.build.json`, which the test command runs first) against a real registry.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushTestImage, startRegistry, type PushedTestImage, type TestRegistry } from '../../helpers/registry.js';
import { missingTools, runTool, tempDir } from '../../helpers/tools.js';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/imagekit.js');
const skip = missingTools('docker-registry', 'skopeo');
let reg: TestRegistry;
let img: PushedTestImage;
let work = '';
let cleanup = () => {};

function imagekit(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: work, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (skip) return;
  if (!existsSync(join(root, 'dist/cli/commands/pull.js'))) throw new Error('dist/ is missing: run `npx tsc -p tsconfig.build.json` first');
  ({ dir: work, cleanup } = tempDir('imagekit-oci-cli-'));
  reg = await startRegistry();
  img = await pushTestImage(reg.host, 'siderolabs/demo:v1.0.0', {
    platforms: ['linux/amd64', 'linux/arm64'],
    layersFor: (p) => [{ entries: [{ name: 'usr/install/arch', type: 'file', data: Buffer.from(p) }] }],
  });
});
afterAll(async () => {
  await reg?.stop();
  img?.cleanup();
  cleanup();
});

describe.skipIf(skip)('imagekit pull / images', () => {
  it('pulls two platforms into a cache and an OCI layout that skopeo can read', () => {
    const cache = join(work, 'cache');
    const layout = join(work, 'layout');
    const r = imagekit(['pull', img.ref, '--platform', 'linux/amd64', '--platform', 'linux/arm64', '--cache-dir', cache, '--oci-layout', layout, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.map((o: { platform: string }) => o.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(out[0].digest).toBe(img.images[0]!.descriptor.digest);
    expect(out[0].index).toBe(img.digest);
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    expect(index.manifests).toHaveLength(2);
    const s = runTool('skopeo', ['inspect', `oci:${layout}:v1.0.0`]);
    expect(s.status, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout).Architecture).toBe('amd64');

    const list = imagekit(['images', '--cache-dir', cache]);
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^REFERENCE\s+PLATFORM\s+DIGEST\s+SIZE\s+STATE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(['linux/amd64', 'linux/arm64']);
    expect(lines.slice(1).every((l) => l.endsWith('complete') && l.startsWith(img.ref))).toBe(true);
  });

  it('--offline uses the cache (XDG_CACHE_HOME), and names what is missing', () => {
    const env = { XDG_CACHE_HOME: join(work, 'xdg') };
    expect(imagekit(['pull', img.ref, '--platform', 'linux/arm64'], env).code).toBe(0);
    expect(existsSync(join(work, 'xdg/imagekit/blobs/sha256'))).toBe(true);
    const off = imagekit(['pull', img.ref, '--platform', 'linux/arm64', '--offline', '--registry-mirror', `${reg.host}=127.0.0.1:1`], env);
    expect(off.code, off.stderr).toBe(0);
    const miss = imagekit(['pull', img.ref, '--platform', 'linux/amd64', '--offline'], env);
    expect(miss.code, miss.stderr).toBe(5);
    expect(miss.stderr).toMatch(/^imagekit: offline: manifest .* for linux\/amd64 is not in the cache .*xdg\/imagekit; run "imagekit pull .*" while online\n$/);
    const json = JSON.parse(imagekit(['images', '--json'], env).stdout);
    expect(json).toHaveLength(1);
    expect(json[0].platforms).toEqual([expect.objectContaining({ platform: 'linux/arm64', complete: true })]);
  });

  it('mirrors from a registries.yaml; clear exit codes for bad input', () => {
    const cfg = join(work, 'registries.yaml');
    writeFileSync(cfg, `mirrors:\n  ghcr.io: ${reg.host}\n`);
    const r = imagekit(['pull', 'ghcr.io/siderolabs/demo:v1.0.0', '--registry-config', cfg, '--cache-dir', join(work, 'c2')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ghcr\.io\/siderolabs\/demo:v1\.0\.0 linux\/amd64 sha256:[0-9a-f]{64} \(1 layers, \d+ bytes\)\n$/);
    const bad = imagekit(['pull', 'ghcr.io/Bad/Name']);
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toMatch(/invalid image reference "ghcr.io\/Bad\/Name": repository .* must be lower case/);
    const plat = imagekit(['pull', img.ref, '--platform', 'linux/s390x', '--cache-dir', join(work, 'c3')]);
    expect(plat.code, plat.stderr).toBe(2);
    expect(plat.stderr).toMatch(/has no image for platform linux\/s390x \(available: linux\/amd64, linux\/arm64\)/);
  });
});
