/**
 * `imagekit serve` against a real registry (Debian's docker-registry) holding a small Talos-shaped
 * world, driven with curl and jq as a user script would drive factory.talos.dev: versions, catalogs,
 * schematics (IDs equal to `imagekit schematic id`), assets of every kind the pipeline builds
 * (checked with sha256sum, cpio/bsdtar-free byte comparisons, objdump, tar), PXE, checksums.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFactoryConfig, startFactoryServer, type FactoryServer } from '../../../src/factory/index.js';
import { hasRegistry } from '../../helpers/registry.js';
import { missingTools } from '../../helpers/tools.js';
import { EXPECTED_VERSIONS, startFactoryWorld, TALOS, worldToolsMissing, type FactoryWorld } from './factory-world.js';
import { curl, jq, run } from './run.js';

const skip = missingTools('docker-registry', 'curl', 'jq', 'sha256sum', 'objdump', 'tar', 'gzip') || !hasRegistry() || (worldToolsMissing() !== null && !process.env.CI);
const REPO = join(import.meta.dirname, '../../..');

let world: FactoryWorld;
let server: FactoryServer;
let base: string;
const tmp = mkdtempSync(join(tmpdir(), 'imagekit-factory-ref-'));

beforeAll(async () => {
  if (skip) return;
  world = await startFactoryWorld();
  const config = defaultFactoryConfig();
  config.http.listenAddr = '127.0.0.1:0';
  config.artifacts.registry = world.registry.host;
  config.cache.dir = join(tmp, 'cache');
  server = await startFactoryServer({ config, repro: { sourceDateEpoch: 0, seed: 'imagekit' } });
  base = server.url.replace(/\/$/, '');
});

afterAll(async () => {
  await server?.close();
  await world?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function postSchematic(body: string): Promise<{ id: string; schematic: string }> {
  const r = await curl(['-X', 'POST', '--data-binary', '@-', `${base}/schematics`], body);
  expect(r.status, r.text).toBe(201);
  return JSON.parse(r.text) as { id: string; schematic: string };
}

async function cliSchematicId(body: string): Promise<string> {
  const f = join(tmp, `schematic-${Math.random().toString(16).slice(2)}.yaml`);
  writeFileSync(f, body);
  const r = await run(process.execPath, [join(REPO, 'bin/imagekit.js'), 'schematic', 'id', f]);
  expect(r.status, r.stderr).toBe(0);
  return r.text.trim();
}

describe.skipIf(skip)('imagekit serve: seed steps with curl + jq', () => {
  it('lists the versions of the imager tags, filtered as upstream', async () => {
    const r = await curl([`${base}/versions`]);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(JSON.parse(await jq('.', r.body, ['-c']))).toEqual(EXPECTED_VERSIONS);
    expect(r.text.endsWith('\n')).toBe(true);
  });

  it('lists the official extensions of a version with the configured registry in ref', async () => {
    const r = await curl([`${base}/version/${TALOS}/extensions/official`]);
    expect(r.status, r.text).toBe(200);
    const names = (await jq('.[].name', r.body, ['-r'])).trim().split('\n');
    expect(names).toEqual(world.extensions.map((e) => e.name));
    const gvisor = JSON.parse(await jq('.[] | select(.name == "siderolabs/gvisor")', r.body, ['-c']));
    const ext = world.extensions[0]!;
    expect(gvisor).toEqual({ name: ext.name, ref: `${world.registry.host}/${ext.name}:${ext.tag}`, digest: ext.digest, author: ext.author, description: ext.description });
    // Go's encoder escapes <, > and & in strings.
    expect(r.text).toContain('QEMU guest agent \\u003c\\u0026\\u003e \\"quoted\\"');
  });

  it('lists overlays (and [] for Talos < 1.7 without looking the version up)', async () => {
    const r = await curl([`${base}/version/${TALOS}/overlays/official`]);
    expect(r.status, r.text).toBe(200);
    expect(JSON.parse(r.text)).toEqual([{ name: 'rpi_generic', image: 'siderolabs/sbc-raspberrypi', ref: 'ghcr.io/siderolabs/sbc-raspberrypi:v0.1.4', digest: `sha256:${'ab'.repeat(32)}` }]);
    const old = await curl([`${base}/version/1.6.0/overlays/official`]);
    expect([old.status, old.text]).toEqual([200, '[]\n']);
  });

  it('creates the three Talos-docs schematics with the IDs of imagekit schematic id', async () => {
    const docs = [
      ['customization:\n  extraKernelArgs:\n    - net.ifnames=0\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/gvisor\n      - siderolabs/intel-ucode\n', 'b8e8fbbe1b520989e6c52c8dc8303070cb42095997e76e812fa8892393e1d176'],
      ['overlay:\n  image: siderolabs/sbc-raspberrypi\n  name: rpi_generic\ncustomization:\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/iscsi-tools\n', 'f47e6cd2634c7a96988861031bcc4144468a1e3aef82cca4f5b5ca3fffef778a'],
      ['customization:\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/gvisor\n', 'd9ff89777e246792e7642abd3220a616afb4e49822382e4213a2e528ab826fe5'],
    ] as const;
    for (const [body, id] of docs) {
      const r = await curl(['-X', 'POST', '-H', 'Content-Type: application/yaml', '--data-binary', '@-', `${base}/schematics`], body);
      expect(r.status, r.text).toBe(201);
      expect(r.headers['content-type']).toBe('application/json');
      expect((await jq('.id', r.body, ['-r'])).trim()).toBe(id);
      expect((await cliSchematicId(body))).toBe(id);
      const back = await curl([`${base}/schematics/${id}`]);
      expect(back.status).toBe(200);
      expect(back.headers['content-type']).toBe('application/yaml');
      expect(back.text).toBe(JSON.parse(r.text).schematic);
    }
  });

  it('builds the kernel command line and serves it with upstream headers', async () => {
    const { id } = await postSchematic('{"customization":{"extraKernelArgs":["console=ttyS1","net.ifnames=0"]}}');
    const r = await curl([`${base}/image/${id}/${TALOS}/cmdline-metal-amd64`]);
    expect(r.status, r.text).toBe(200);
    expect(r.headers['content-type']).toBe('application/octet-stream');
    expect(r.headers['content-disposition']).toBe('attachment; filename="cmdline-metal-amd64"');
    expect(r.headers['content-length']).toBe(String(r.body.length));
    expect(r.text).toMatch(/^talos\.platform=metal /);
    expect(r.text).toContain(' console=ttyS1');
    expect(r.text).toContain(' net.ifnames=0');
    expect(r.text.endsWith('\n')).toBe(false);
  });

  it('serves the imager kernel byte for byte, and its free checksum agrees with sha256sum', async () => {
    const { id } = await postSchematic('customization: {}\n');
    const out = join(tmp, 'kernel-amd64');
    const r = await curl(['-o', out, `${base}/image/${id}/${TALOS}/kernel-amd64`]);
    expect(r.status).toBe(200);
    const sum = await run('sha256sum', [out]);
    const sidecar = await curl([`${base}/image/${id}/${TALOS}/kernel-amd64.sha256`]);
    expect(sidecar.status).toBe(200);
    expect(sidecar.headers['content-disposition']).toBe('attachment; filename="kernel-amd64.sha256"');
    expect(sidecar.text.split(' ')[0]).toBe(sum.text.split(' ')[0]);
    expect(sidecar.text).toMatch(/^[0-9a-f]{64} {2}kernel-amd64\n$/);
    const check = await run('sha256sum', ['-c', '-'], { input: sidecar.text, cwd: tmp });
    expect(check.status, check.stderr).toBe(0);
    const named = await curl([`${base}/image/${id}/${TALOS}/kernel-amd64.sha512?filename=vmlinuz`]);
    expect(named.text).toMatch(/^[0-9a-f]{128} {2}vmlinuz\n$/);
  });
});
