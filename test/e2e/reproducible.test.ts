/**
 * Reproducible builds (issue 8, talos-imager.md §13): the same inputs and SOURCE_DATE_EPOCH give
 * the same sha256 through `bin/imagekit.js`, whatever the time zone, umask, locale, working
 * directory and temporary directory of the process; another SOURCE_DATE_EPOCH gives other bytes
 * (so the comparison can fail). Inputs are the golden ones (golden/inputs.ts): made by code, with
 * explicit file modes.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGoldenInputs, type GoldenInputs } from '../../golden/inputs.js';
import { tempDir } from '../helpers/tools.js';

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'bin/imagekit.js');

let work = '';
let cleanup = () => {};
let inputs: GoldenInputs;

beforeAll(async () => {
  ({ dir: work, cleanup } = tempDir('imagekit-repro-'));
  inputs = await writeGoldenInputs(join(work, 'inputs'));
});
afterAll(() => cleanup());

interface Host {
  name: string;
  tz: string;
  locale: string;
  umask: string;
  epoch: string;
}

const HOSTS: Host[] = [
  { name: 'a', tz: 'UTC', locale: 'C', umask: '022', epoch: '1712345678' },
  // +12:45, a Turkish locale (dotless i), a strict umask, other directories.
  { name: 'b', tz: 'Pacific/Chatham', locale: 'tr_TR.UTF-8', umask: '077', epoch: '1712345678' },
  { name: 'c', tz: 'America/St_Johns', locale: 'de_DE.UTF-8', umask: '002', epoch: '1712345999' },
];

function profile(kind: 'image' | 'installer'): string {
  const i = inputs;
  return [
    `baseProfileName: ${kind === 'image' ? 'metal' : 'installer'}`,
    'arch: amd64',
    'version: v1.11.0',
    // META values go into the image's META partition; the installer profile refuses them (§1.6).
    kind === 'image' ? 'customization: {extraKernelArgs: [console=ttyS0], metaContents: [{key: 10, value: repro}]}' : 'customization: {extraKernelArgs: [console=ttyS0]}',
    'input:',
    `  kernel: {path: ${JSON.stringify(i.kernel)}}`,
    `  initramfs: {path: ${JSON.stringify(i.initramfs)}}`,
    `  sdStub: {path: ${JSON.stringify(i.sdStub)}}`,
    `  sdBoot: {path: ${JSON.stringify(i.sdBoot)}}`,
    `  baseInstaller: {ociPath: ${JSON.stringify(i.installerBase)}}`,
    '  systemExtensions:',
    ...i.extensions.map((e) => `    - tarballPath: ${JSON.stringify(e)}`),
    kind === 'image' ? 'output: {kind: image, outFormat: .xz, imageOptions: {bootloader: sd-boot}}' : 'output: {kind: installer, outFormat: .gz}',
    '',
  ].join('\n');
}

function build(host: Host, kind: 'image' | 'installer'): { sha256: string; reported: string } {
  const cwd = join(work, `cwd-${host.name}-${kind}`);
  const tmp = join(work, `tmp-${host.name}-${kind}`);
  mkdirSync(cwd, { recursive: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(cwd, 'profile.yaml'), profile(kind));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TZ: host.tz,
    LANG: host.locale,
    LC_ALL: host.locale,
    TMPDIR: tmp,
    SOURCE_DATE_EPOCH: host.epoch,
    IMAGEKIT_CACHE_DIR: join(tmp, 'cache'),
  };
  const r = spawnSync('sh', ['-c', `umask ${host.umask} && exec "$0" "$@"`, process.execPath, bin, 'build', 'profile.yaml', '--output', 'out', '--progress', 'json'], { cwd, env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const files = readdirSync(join(cwd, 'out'));
  expect(files).toHaveLength(1);
  const path = join(cwd, 'out', files[0]!);
  // The umask applies to the output file's mode only, never to its bytes.
  expect(statSync(path).mode & 0o777).toBe(0o644 & ~parseInt(host.umask, 8));
  const result = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { type: string; sha256: string };
  expect(result.type).toBe('result');
  // Scratch files are gone.
  expect(readdirSync(tmp).filter((n) => n !== 'cache')).toEqual([]);
  return { sha256: createHash('sha256').update(readFileSync(path)).digest('hex'), reported: result.sha256 };
}

describe('reproducible builds through bin/imagekit.js', () => {
  it.each(['image', 'installer'] as const)('%s: same bytes under another TZ, locale, umask, cwd and TMPDIR; other bytes for another SOURCE_DATE_EPOCH', (kind) => {
    const [a, b, c] = HOSTS.map((h) => build(h, kind));
    expect(a!.reported).toBe(a!.sha256);
    expect(b!.sha256).toBe(a!.sha256);
    expect(c!.sha256).not.toBe(a!.sha256);
  }, 300_000);
});
