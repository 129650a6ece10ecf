/**
 * `imagekit build` end to end (issue 8): the fixture world is pushed as OCI images to Debian's
 * docker-registry on 127.0.0.1; imagekit builds from it through `--registry-mirror ghcr.io=…` (every
 * default reference — imager, extensions, installer-base — comes from the mirror), and the outputs
 * are checked by tools nobody here wrote: QEMU q35 + OVMF boots the disks (TCG), native `xz -d`
 * decompresses `.raw.xz`, `skopeo` reads the installer tarball, `objdump` the UKI.
 *
 * The serial log proves the chain: systemd-boot chose our UKI (LoaderEntrySelected, StubInfo), the
 * command line carries our arguments, both extension squashfs images from `/extensions.yaml` were
 * mounted and printed their markers, firmware and early microcode are in the initramfs.
 *
 * Debian's systemd 252 stub predates UKI profiles (systemd 257): it ignores `.profile` sections and
 * boots the last `.cmdline` it finds, which is the `reset-maintenance` profile's (the main line plus
 * `talos.experimental.wipe=…`). The assertions hold for either line.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtureWorld, type FixtureWorld } from '../fixtures/world.js';
import { pushFixtureWorld, WORLD_VERSION, type PushedWorld } from '../fixtures/world-images.js';
import { bootDisk, bootKernel, type BootResult } from '../helpers/qemu.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { e2eAssets, missingTools, runTool, tempDir } from '../helpers/tools.js';
import { readEntry } from '../../src/core/file-tree.js';
import { BlobCache } from '../../src/oci/blob-cache.js';
import { linuxPlatform } from '../../src/oci/platform.js';
import { RegistryClient } from '../../src/oci/registry-client.js';
import { registryConfigFromFlags } from '../../src/oci/registry-config.js';
import { readInputTree } from '../../src/pipeline/sources.js';

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'bin/imagekit.js');
const skip = missingTools('qemu-system-x86_64', 'cpio', 'zstd', 'xz', 'busybox', 'docker-registry', 'skopeo', 'objdump') || !e2eAssets();

let world: FixtureWorld;
let reg: TestRegistry;
let pushed: PushedWorld;
let work = '';
let cleanup = () => {};

const fixtureCache = () => process.env.IMAGEKIT_FIXTURE_CACHE ?? join(homedir(), '.cache/imagekit-fixtures');

function imagekit(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--registry-mirror', `ghcr.io=${reg.host}`, '--cache-dir', join(work, 'cache')], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' },
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`imagekit ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r;
}

/** Per test: builds + a TCG boot take ~1 min on an idle 2-core machine, several under load. */
const BOOT_TEST_TIMEOUT = 600_000;

const EXTENSIONS = ['--system-extension-image', 'ghcr.io/siderolabs/imagekit-hello:1.0.0', '--system-extension-image', 'ghcr.io/siderolabs/imagekit-firmware:1.0.0'];

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 4 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

function expectBootedWithExtensions(r: BootResult, args: string[], layers = 2): void {
  const log = r.log;
  expect(log, log).toContain('IMAGEKIT-INIT: done');
  const cmdline = /IMAGEKIT-CMDLINE: (.*)/.exec(log)?.[1] ?? '';
  for (const a of args) expect(cmdline.split(' '), cmdline).toContain(a);
  expect(log).toMatch(/IMAGEKIT-LAYER: 0 0\.sqsh mounted/);
  expect(log).toMatch(/IMAGEKIT-LAYER: 1 1\.sqsh mounted/);
  expect(log).toContain('IMAGEKIT-MARKER: IMAGEKIT-EXT-hello-OK');
  expect(log).toContain('IMAGEKIT-MARKER: IMAGEKIT-EXT-firmware-OK');
  expect(log).toContain(`IMAGEKIT-EXTENSIONS: ${layers}`);
  expect(log).not.toContain('FAILED');
  // Firmware moved out of the squashfs into the initramfs; microcode into the early cpio.
  expect(log).toContain('IMAGEKIT-FIRMWARE: /usr/lib/firmware/imagekit/fixture-fw.bin');
  expect(log).toContain('IMAGEKIT-UCODE: /kernel/x86/microcode/GenuineIntel.bin 1024');
  expect(log).toContain('IMAGEKIT-UCODE: /kernel/x86/microcode/AuthenticAMD.bin 512');
}

function expectSdBootChoseUki(r: BootResult): void {
  expect(r.log).toMatch(/IMAGEKIT-EFIVAR: LoaderInfo=systemd-boot /);
  expect(r.log).toMatch(/IMAGEKIT-EFIVAR: StubInfo=systemd-stub /);
  expect(r.log).toContain(`IMAGEKIT-EFIVAR: LoaderEntrySelected=talos-${WORLD_VERSION}.efi`);
}

beforeAll(async () => {
  if (skip) return;
  ({ dir: work, cleanup } = tempDir('imagekit-e2e-'));
  world = buildFixtureWorld(fixtureCache());
  reg = await startRegistry();
  pushed = await pushFixtureWorld(reg.host, world, work);
  if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npx tsc -p tsconfig.build.json` first');
}, BOOT_TEST_TIMEOUT);

afterAll(async () => {
  pushed?.cleanup();
  await reg?.stop();
  cleanup();
});

describe.skipIf(skip)('imagekit build from the fixture world (registry mirror) boots', () => {
  it('metal amd64 raw and .raw.xz with two extensions and extra kernel args: same disk, boots via systemd-boot + UKI', async () => {
    const out = join(work, 'metal');
    const common = ['build', 'metal', '--arch', 'amd64', '--version', WORLD_VERSION, '--bootloader', 'sd-boot', ...EXTENSIONS,
      '--extra-kernel-arg', 'console=ttyS0', '--extra-kernel-arg', 'imagekit.e2e=metal-7d3f', '--output', out];
    const raw = imagekit([...common, '--out-format', 'raw', '--progress', 'json']);
    // --progress json: one JSON object per line, the profile first, the result last.
    const events = raw.stderr.trim().split('\n').map((l) => JSON.parse(l) as { type: string; [k: string]: unknown });
    expect(events[0]!.type).toBe('profile');
    expect(String(events[0]!.yaml)).toContain('imageRef: ghcr.io/siderolabs/imagekit-hello:1.0.0');
    expect(events.at(-1)).toMatchObject({ type: 'result', name: 'metal-amd64.raw', path: join(out, 'metal-amd64.raw') });
    expect(events.some((e) => e.type === 'bytes' && e.step === 'output')).toBe(true);

    imagekit([...common, '--out-format', '.xz', '--quiet']);
    expect(readdirSync(out).sort()).toEqual(['metal-amd64.raw', 'metal-amd64.raw.xz']);
    const rawPath = join(out, 'metal-amd64.raw');
    const x = spawnSync('bash', ['-c', `set -o pipefail; xz -dc "${join(out, 'metal-amd64.raw.xz')}" | sha256sum`], { encoding: 'utf8' });
    expect(x.status, x.stderr).toBe(0);
    expect(x.stdout.split(' ')[0]).toBe(await sha256File(rawPath));

    const gpt = runTool('sgdisk', ['-v', rawPath]);
    expect(gpt.stdout).toContain('No problems found');

    const r = await bootDisk(rawPath, { until: 'IMAGEKIT-INIT: done', timeoutSec: 240 });
    expectSdBootChoseUki(r);
    expectBootedWithExtensions(r, ['talos.platform=metal', 'console=ttyS0', 'imagekit.e2e=metal-7d3f', 'slab_nomerge']);
  }, BOOT_TEST_TIMEOUT);

  it('nocloud .raw.xz with extensions named by digest from the extensions image\'s image-digests boots', async () => {
    // The extensions:<version> image lists every extension as ghcr.io/…:tag@sha256:… (what Image Factory reads).
    const tree = await readInputTree({ imageRef: `ghcr.io/siderolabs/extensions:${WORLD_VERSION}` }, {
      platform: linuxPlatform('amd64'), cache: new BlobCache(join(work, 'cache-lib')),
      client: new RegistryClient({ registryConfig: registryConfigFromFlags([`ghcr.io=${reg.host}`]) }),
    });
    const digests = (await readEntry(tree.find((e) => e.path === 'image-digests')!)).toString('utf8').trim().split('\n');
    expect(digests).toEqual(Object.entries(pushed.digests).filter(([k]) => k.includes('imagekit-')).map(([k, d]) => `ghcr.io/${k}@${d}`).sort());
    const out = join(work, 'nocloud');
    imagekit(['build', 'nocloud', '--arch', 'amd64', '--version', WORLD_VERSION, '--bootloader', 'sd-boot', '--out-format', '.xz',
      ...digests.flatMap((ref) => ['--system-extension-image', ref]),
      '--extra-kernel-arg', 'imagekit.e2e=nocloud-51c2', '--output', out, '--quiet']);
    expect(readdirSync(out)).toEqual(['nocloud-amd64.raw.xz']);
    const disk = join(work, 'nocloud.raw');
    // Decompressed sparse (dd skips all-zero blocks), so the 2 GiB of free space is not written.
    const x = spawnSync('bash', ['-c', `set -o pipefail; xz -dc "${join(out, 'nocloud-amd64.raw.xz')}" | dd of="${disk}" bs=1M iflag=fullblock conv=sparse status=none`]);
    expect(x.status, String(x.stderr)).toBe(0);
    const r = await bootDisk(disk, { until: 'IMAGEKIT-INIT: done', timeoutSec: 240 });
    rmSync(disk);
    expectSdBootChoseUki(r);
    // nocloud's own console list puts ttyS0 last, so the serial console works without extra args.
    expectBootedWithExtensions(r, ['talos.platform=nocloud', 'console=tty1', 'console=ttyS0', 'net.ifnames=0', 'imagekit.e2e=nocloud-51c2']);
  }, BOOT_TEST_TIMEOUT);

  it('kernel + initramfs (+ embedded machine config) outputs boot with -kernel/-initrd; the kernel output is the imager image\'s kernel', async () => {
    const out = join(work, 'ki');
    imagekit(['build', 'metal', '--arch', 'amd64', '--version', WORLD_VERSION, '--output-kind', 'kernel', '--out-format', 'raw', '--output', out, '--quiet']);
    // With an embedded machine configuration: a third, virtual extension (talos-imager.md §4.7).
    writeFileSync(join(work, 'machine.yaml'), '# imagekit-e2e-config-7f3a\nversion: v1alpha1\nmachine:\n  type: worker\n');
    imagekit(['build', 'metal', '--arch', 'amd64', '--version', WORLD_VERSION, '--output-kind', 'initramfs', '--out-format', 'raw', ...EXTENSIONS,
      '--embedded-config-path', join(work, 'machine.yaml'), '--output', out, '--quiet']);
    expect(readdirSync(out).sort()).toEqual(['initramfs-metal-amd64.xz', 'kernel-amd64']);
    expect(readFileSync(join(out, 'kernel-amd64')).equals(readFileSync(world.vmlinuz))).toBe(true);
    // The base initramfs is kept byte for byte after the early microcode archive (talos-imager.md §4.6).
    const initramfs = readFileSync(join(out, 'initramfs-metal-amd64.xz'));
    expect(initramfs.indexOf(readFileSync(world.initramfs))).toBeGreaterThan(0);
    const r = await bootKernel(join(out, 'kernel-amd64'), join(out, 'initramfs-metal-amd64.xz'), 'console=ttyS0 imagekit.e2e=direct-9a1b', {
      until: 'IMAGEKIT-INIT: done', timeoutSec: 240,
    });
    expectBootedWithExtensions(r, ['console=ttyS0', 'imagekit.e2e=direct-9a1b'], 3);
    expect(r.log).toMatch(/IMAGEKIT-LAYER: 2 2\.sqsh mounted/);
    expect(r.log).toContain('IMAGEKIT-EMBEDDED-CONFIG: # imagekit-e2e-config-7f3a');
  }, BOOT_TEST_TIMEOUT);

  it('installer: a docker-save tarball skopeo reads (base installer layer + artifacts layer with systemd-boot and the UKI)', () => {
    const out = join(work, 'installer');
    imagekit(['build', 'installer', '--arch', 'amd64', '--version', WORLD_VERSION, ...EXTENSIONS, '--output', out, '--quiet']);
    const tar = join(out, 'installer-amd64.tar');
    expect(readdirSync(out)).toEqual(['installer-amd64.tar']);
    const inspect = runTool('skopeo', ['inspect', `docker-archive:${tar}`]);
    expect(inspect.status, inspect.stderr).toBe(0);
    const info = JSON.parse(inspect.stdout) as { Architecture: string; Os: string; Layers: string[]; Env: string[] };
    expect(info.Architecture).toBe('amd64');
    expect(info.Os).toBe('linux');
    expect(info.Layers).toHaveLength(2);
    expect(info.Env).toContain(`VERSION=${WORLD_VERSION}`);
    const cfg = runTool('skopeo', ['inspect', '--config', `docker-archive:${tar}`]);
    expect(JSON.parse(cfg.stdout).config.Entrypoint).toEqual(['/bin/installer']);
    // Copy it into an OCI layout (skopeo verifies every blob and diff ID on the way).
    const layout = join(work, 'installer-oci');
    const copy = runTool('skopeo', ['--insecure-policy', 'copy', `docker-archive:${tar}`, `oci:${layout}:installer`]);
    expect(copy.status, copy.stderr).toBe(0);
    // The artifacts layer: systemd-boot and the UKI, no directories, mode 0, mtime 0.
    const manifest = JSON.parse(runTool('tar', ['-xOf', tar, 'manifest.json']).stdout) as Array<{ Layers: string[]; RepoTags: string[] }>;
    expect(manifest[0]!.RepoTags).toEqual([`ghcr.io/siderolabs/installer-base:${WORLD_VERSION}`]);
    const layerDir = join(work, 'installer-layer');
    mkdirSync(layerDir, { recursive: true });
    expect(runTool('tar', ['-xf', tar, '-C', layerDir, manifest[0]!.Layers[1]!]).status).toBe(0);
    const listing = runTool('tar', ['-tvzf', join(layerDir, manifest[0]!.Layers[1]!)]);
    const lines = listing.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/).at(-1))).toEqual(['usr/install/amd64/systemd-boot.efi', 'usr/install/amd64/vmlinuz.efi']);
    for (const l of lines) expect(l).toMatch(/^-{10} 0\/0 .* 1970-01-01 00:00 /);
    const sdboot = runTool('tar', ['-xzOf', join(layerDir, manifest[0]!.Layers[1]!), 'usr/install/amd64/systemd-boot.efi'], { encoding: 'latin1' });
    expect(Buffer.from(sdboot.stdout, 'latin1').equals(readFileSync(world.sdboot))).toBe(true);
  });

  it('uki output: objdump reads the Talos sections in order', () => {
    const out = join(work, 'uki');
    imagekit(['build', 'metal', '--arch', 'amd64', '--version', WORLD_VERSION, '--output-kind', 'uki', '--out-format', 'raw', ...EXTENSIONS, '--output', out, '--quiet']);
    const uki = join(out, 'metal-amd64-uki.efi');
    const h = runTool('objdump', ['-h', uki]);
    expect(h.status, h.stderr).toBe(0);
    const names = [...h.stdout.matchAll(/^\s+\d+\s+(\.\S+)/gm)].map((m) => m[1]);
    const added = names.slice(names.indexOf('.osrel'));
    expect(added).toEqual(['.osrel', '.cmdline', '.uname', '.splash', '.linux', '.initrd', '.profile']);
    const cmd = join(work, 'uki-cmdline');
    expect(runTool('objcopy', ['-O', 'binary', '--only-section=.cmdline', uki, cmd]).status).toBe(0);
    expect(readFileSync(cmd, 'utf8')).toMatch(/^talos.platform=metal console=tty0 /);
  });
});
