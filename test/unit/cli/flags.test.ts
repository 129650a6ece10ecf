/** The imager's flag → profile mapping (talos-imager.md §1.2), checked on the printed profile. */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { AtomicFile, writeFileAtomic } from '../../../src/pipeline/atomic-file.js';
import { buildOutput } from '../../../src/pipeline/build.js';
import { decodeProfile } from '../../../src/profile/decode.js';
import { resolveProfile } from '../../../src/profile/resolve.js';
import { tempDir } from '../../helpers/tools.js';

const { dir: work, cleanup } = tempDir('imagekit-flags-');
afterAll(() => cleanup());

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (out.push(String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (err.push(String(c)), true));
  try {
    return { code: await main(['node', 'imagekit', ...args]), stdout: out.join(''), stderr: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** The profile printed to stderr (everything before the first `imagekit:` / `output asset path` line). */
const printed = (stderr: string) => stderr.split(/^(?:imagekit: |output asset path: )/m)[0]!;

describe('flags → profile', () => {
  it('extensions, base installer, --insecure, image cache reference vs OCI path', async () => {
    const r = await run([
      'build', 'metal', '--arch', 'amd64', '--version', '1.12.0', '--output-kind', 'cmdline', '--output', join(work, 'a'), '--insecure',
      '--system-extension-image', 'ghcr.io/siderolabs/iscsi-tools:v0.2.0', '--system-extension-image', 'ghcr.io/siderolabs/gvisor:20240101',
      '--base-installer-image', 'registry.local:5000/installer-base:v1.12.0', '--image-cache', 'ghcr.io/me/cache:v1',
    ]);
    expect(r.code).toBe(0);
    expect(printed(r.stderr)).toContain(
      '  baseInstaller:\n    imageRef: registry.local:5000/installer-base:v1.12.0\n    forceInsecure: true\n  imageCache:\n    imageRef: ghcr.io/me/cache:v1\n    forceInsecure: true\n',
    );
    expect(printed(r.stderr)).toContain(
      '  systemExtensions:\n    - imageRef: ghcr.io/siderolabs/iscsi-tools:v0.2.0\n      forceInsecure: true\n    - imageRef: ghcr.io/siderolabs/gvisor:20240101\n      forceInsecure: true\n',
    );
    for (const path of ['./cache-dir', 'cache:v1', 'ghcr.io/me/cache']) {
      const c = await run(['build', 'metal', '--arch', 'amd64', '--output-kind', 'cmdline', '--output', join(work, 'a'), '--image-cache', path]);
      expect(c.code).toBe(0);
      expect(printed(c.stderr)).toContain(`  imageCache:\n    imageRef: ""\n    ociPath: ${path}\n`);
    }
  });

  it('secureboot flags and --secureboot-enroll-keys set both image and ISO options', async () => {
    const r = await run([
      'build', 'secureboot-metal', '--arch', 'amd64', '--version', '1.14.0', '--output-kind', 'cmdline', '--output', join(work, 'b'),
      '--secureboot-include-well-known-certs', '--secureboot-signer-address', 'unix:///run/signer.sock', '--pcr-signer-address', 'unix:///run/pcr.sock',
      '--secureboot-enroll-keys', 'force',
    ]);
    expect(r.code).toBe(0);
    const p = printed(r.stderr);
    expect(p).toContain('  secureboot:\n    secureBootSigner:\n      signerAddress: unix:///run/signer.sock\n    pcrSigner:\n      signerAddress: unix:///run/pcr.sock\n    includeWellKnownCerts: true\n');
    expect(p).toContain('  imageOptions:\n    diskSize: 1306525696\n    diskFormat: raw\n    sdBootEnrollKeys: force\n  isoOptions:\n    sdBootEnrollKeys: force\n');
    expect((await run(['build', 'metal', '--output-kind', 'cmdline', '--secureboot-enroll-keys', 'sometimes'])).code).toBe(2);
  });

  it('--bootloader goes to the options of the output kind; --out-format is validated', async () => {
    const r = await run(['build', 'metal', '--arch', 'amd64', '--version', '1.12.0', '--bootloader', 'grub', '--output', join(work, 'c')]);
    expect(r.code).toBe(3); // grub disks are not built yet, but the profile is resolved and printed
    expect(printed(r.stderr)).toContain('  imageOptions:\n    diskSize: 2355101696\n    diskFormat: raw\n    bootloader: grub\n');
    const iso = await run(['build', 'iso', '--arch', 'amd64', '--version', '1.12.0', '--bootloader', 'grub', '--output', join(work, 'c')]);
    expect(printed(iso.stderr)).toContain('  isoOptions:\n    sdBootEnrollKeys: if-safe\n    bootloader: grub\n');
    const bad = await run(['build', 'metal', '--output-kind', 'cmdline', '--bootloader', 'sd-boot']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('imagekit: --bootloader applies to image and iso outputs, not cmdline\n');
    expect((await run(['build', 'metal', '--out-format', '.rar'])).stderr).toBe('imagekit: invalid --out-format ".rar": expected one of raw, .tar.gz, .xz, .gz, .zst\n');
  });

  it('overlay flags: name, image, options from k=v, k=@file and @file.yaml', async () => {
    writeFileSync(join(work, 'opts.yaml'), 'configTxt: |\n  a=1\nnum: 3\n');
    writeFileSync(join(work, 'cfg.txt'), 'dtoverlay=vc4\n');
    const r = await run([
      'build', 'metal', '--arch', 'arm64', '--version', '1.12.0', '--output-kind', 'cmdline', '--output', join(work, 'd'),
      '--overlay-image', 'ghcr.io/siderolabs/sbc-raspberrypi:v0.1.0', '--overlay-name', 'rpi_generic',
      '--overlay-option', `@${join(work, 'opts.yaml')}`, '--overlay-option', 'b=2', '--overlay-option', `configTxtAppend=@${join(work, 'cfg.txt')}`,
    ]);
    expect(r.code).toBe(3);
    expect(printed(r.stderr)).toContain(
      'overlay:\n  name: rpi_generic\n  image:\n    imageRef: ghcr.io/siderolabs/sbc-raspberrypi:v0.1.0\n  options:\n    b: "2"\n    configTxt: |\n      a=1\n    configTxtAppend: |\n      dtoverlay=vc4\n    num: 3\n',
    );
    expect(printed(r.stderr)).toContain('  overlayInstaller:\n    imageRef: ghcr.io/siderolabs/sbc-raspberrypi:v0.1.0\n');
  });

  it('--embedded-config-path reads the file into customization', async () => {
    writeFileSync(join(work, 'mc.yaml'), 'version: v1alpha1\nmachine:\n  type: worker\n');
    const r = await run(['build', 'metal', '--arch', 'amd64', '--output-kind', 'cmdline', '--output', join(work, 'e'), '--embedded-config-path', join(work, 'mc.yaml')]);
    expect(r.code).toBe(0);
    expect(printed(r.stderr)).toContain('customization:\n  embeddedMachineConfiguration: |\n    version: v1alpha1\n    machine:\n      type: worker\n');
  });
});

describe('pipeline', () => {
  it('buildOutput writes <output>/<OutputPath> and reports progress', async () => {
    const p = resolveProfile(decodeProfile('arch: amd64\nplatform: metal\nversion: 1.14.0\noutput: {kind: cmdline, outFormat: raw}'));
    const events: string[] = [];
    const r = await buildOutput(p, { outputDir: join(work, 'p1'), progress: (e) => events.push(e.type) });
    expect(r.path).toBe(join(work, 'p1/cmdline-metal-amd64'));
    expect(readFileSync(r.path!, 'utf8')).toBe(r.cmdline);
    expect(r.bytes).toBe(r.cmdline.length);
    expect(events).toEqual(['info', 'step-start', 'bytes', 'step-done']);
  });

  it('writeFileAtomic replaces whole files and cleans up after a failure', async () => {
    const path = join(work, 'atomic.txt');
    await writeFileAtomic(path, 'one');
    await writeFileAtomic(path, 'two');
    expect(readFileSync(path, 'utf8')).toBe('two');
    const f = await AtomicFile.create(path);
    await f.handle.writeFile('three');
    expect(readdirSync(work).filter((n) => n.includes('atomic'))).toHaveLength(2);
    await f.abort();
    expect(readdirSync(work).filter((n) => n.includes('atomic'))).toEqual(['atomic.txt']);
    expect(readFileSync(path, 'utf8')).toBe('two');
    await expect(writeFileAtomic(join(work, 'missing-dir/x'), 'y')).rejects.toMatchObject({ exitCode: 6, code: 'E_OUTPUT_CREATE' });
  });
});
