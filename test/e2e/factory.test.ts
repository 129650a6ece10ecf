/**
 * `imagekit serve` as a user runs it (bin/imagekit.js, a config file with Image Factory keys) in
 * front of a local registry, driven by the seed skill's steps with curl + jq: pick the newest
 * version, list extensions, POST a schematic (same ID as `imagekit schematic id`), download
 * `nocloud-amd64.raw.xz` and test it with `xz -t`, ask for the installer reference; then SIGTERM in
 * the middle of a build: exit 0 and no partial cache entry.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFactoryWorld, type FactoryWorld } from '../reference/factory/factory-world.js';
import { harnessMissing } from '../reference/factory/harness.js';
import { curl, jq, run } from '../reference/factory/run.js';

const skip = harnessMissing('curl', 'jq', 'xz');
const REPO = join(import.meta.dirname, '../..');
const BIN = join(REPO, 'bin/imagekit.js');

let world: FactoryWorld;
let tmp: string;
let child: ChildProcess;
let log = '';
let base: string;
let cacheDir: string;

function partials(): string[] {
  const root = join(cacheDir, 'assets');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((s) => readdirSync(join(root, s)).filter((n) => n.includes('.partial-')));
}

beforeAll(async () => {
  if (skip) return;
  world = await startFactoryWorld();
  tmp = mkdtempSync(join(tmpdir(), 'imagekit-factory-e2e-'));
  cacheDir = join(tmp, 'cache');
  const cfg = join(tmp, 'factory.yaml');
  writeFileSync(cfg, [
    'http:',
    '  httpListenAddr: 127.0.0.1:0',
    'artifacts:',
    '  core:',
    `    registry: ${world.registry.host}`,
    'build:',
    '  maxConcurrency: 2',
    'cache:',
    `  dir: ${cacheDir}`,
    'metrics:',
    '  addr: ":2122"',
    '',
  ].join('\n'));
  child = spawn(process.execPath, [BIN, 'serve', '--config', cfg, '--log-format', 'json'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SOURCE_DATE_EPOCH: '0' } });
  base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`imagekit serve did not start: ${log}`)), 30_000);
    child.stderr!.on('data', (c: Buffer) => {
      log += c.toString();
      const m = /"msg":"listening","url":"(http:[^"]+)"/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!.replace(/\/$/, ''));
      }
    });
    child.once('exit', (code) => reject(new Error(`imagekit serve exited with ${code}: ${log}`)));
  });
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await world?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(skip)('imagekit serve (the CLI) driven like factory.talos.dev', () => {
  it('warns about the upstream config keys it ignores', () => {
    expect(log).toContain('"msg":"configuration keys ignored (features imagekit serve does not have)","keys":["metrics"]');
  });

  it('runs the seed steps: versions, extensions, schematic, nocloud-amd64.raw.xz, xz -t', async () => {
    const versions = await curl([`${base}/versions`]);
    const version = (await jq('.[-1]', versions.body, ['-r'])).trim();
    expect(version).toBe('v1.12.0-alpha.1');
    // The seed builds for a released version that has catalogs.
    const stable = (await jq('[.[] | select(test("-") | not)] | .[-1]', versions.body, ['-r'])).trim();
    expect(stable).toBe('v1.11.0');
    const exts = await curl([`${base}/version/${stable}/extensions/official`]);
    const wanted = (await jq('[.[] | select(.name == "siderolabs/qemu-guest-agent" or .name == "siderolabs/iscsi-tools") | .name] | sort', exts.body, ['-c'])).trim();
    expect(wanted).toBe('["siderolabs/iscsi-tools","siderolabs/qemu-guest-agent"]');
    const body = await jq('{customization: {systemExtensions: {officialExtensions: .}}}', wanted, ['-c']);
    const created = await curl(['-X', 'POST', '--data-binary', '@-', `${base}/schematics`], body);
    expect(created.status, created.text).toBe(201);
    const id = (await jq('.id', created.body, ['-r'])).trim();
    // The well-known ID of this schematic, and the same as the CLI computes.
    expect(id).toBe('dc7b152cb3ea99b821fcb7340ce7168313ce393d663740b791c36f6e95fc8586');
    const cli = await run(process.execPath, [BIN, 'schematic', 'id', '-'], { input: body });
    expect(cli.text.trim()).toBe(id);

    const image = join(tmp, 'nocloud-amd64.raw.xz');
    const dl = await curl(['-f', '-o', image, `${base}/image/${id}/${stable}/nocloud-amd64.raw.xz`]);
    expect(dl.status, log.slice(-2000)).toBe(200);
    expect(dl.headers['content-type']).toBe('application/x-xz');
    expect(dl.headers['content-disposition']).toBe('attachment; filename="nocloud-amd64.raw.xz"');
    const test = await run('xz', ['-t', image], { timeoutMs: 180_000 });
    expect(test.status, test.stderr).toBe(0);
    const sum = await curl([`${base}/image/${id}/${stable}/nocloud-amd64.raw.xz.sha256`]);
    const local = await run('sha256sum', [image]);
    expect(sum.text.split(' ')[0]).toBe(local.text.split(' ')[0]);

    // The installer reference a seed hands to talosctl: the registry front is not served yet.
    const installer = await curl([`${base}/v2/installer/${id}/manifests/${stable}`]);
    expect(installer.status).toBe(404);
    expect(installer.text).toMatch(/does not serve installer images yet/);
  });

  it('SIGTERM during a build: exit 0, the build is cancelled, no partial cache entry', async () => {
    const created = await curl(['-X', 'POST', '--data-binary', '@-', `${base}/schematics`], 'customization:\n  extraKernelArgs: [sigterm=1]\n');
    const id = JSON.parse(created.text).id as string;
    const download = curl(['-o', join(tmp, 'cut.raw.xz'), `${base}/image/${id}/v1.11.0/metal-amd64.raw.xz`]);
    for (let i = 0; partials().length === 0 && i < 3000; i++) await new Promise((r) => setTimeout(r, 10));
    expect(partials().length).toBe(1);
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const r = await download;
    expect(r.exit !== 0 || r.status !== 200, `curl exit ${r.exit}, status ${r.status}`).toBe(true);
    expect(partials()).toEqual([]);
    expect(log).toContain('"msg":"shutting down","signal":"SIGTERM"');
    expect(log).toContain('"msg":"stopped"');
  });

  it('serve --help documents the command; a bad config exits 2 naming the key', async () => {
    const help = await run(process.execPath, [BIN, 'serve', '--help']);
    expect(help.status).toBe(0);
    expect(help.text).toContain('--registry <host[:port]>');
    const cfg = join(tmp, 'bad.yaml');
    writeFileSync(cfg, 'build:\n  maxConcurency: 2\n');
    const bad = await run(process.execPath, [BIN, 'serve', '--config', cfg]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(`imagekit: ${cfg}: build.maxConcurency: unknown configuration key\n`);
  });
});
