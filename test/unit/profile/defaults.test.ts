import { describe, expect, it } from 'vitest';
import { BASE_PROFILE_NAMES, builtinBaseProfile } from '../../../src/profile/base-profiles.js';
import { decodeProfile } from '../../../src/profile/decode.js';
import { fillDefaults, selectBootloader } from '../../../src/profile/defaults.js';
import { baseProfileForTarget, resolveProfile } from '../../../src/profile/resolve.js';
import { DEFAULT_TALOS_VERSION } from '../../../src/profile/version.js';

const MiB = 1024 * 1024;
const noFiles = { fileExists: () => false };
const size = (base: string, arch: string, version: string) => baseProfileForTarget(base, { arch, version }, noFiles).output.imageOptions!.diskSize / MiB;

describe('fillDefaults (talos-imager.md §1.5)', () => {
  // The disk size table of §1.5.
  it.each([
    ['metal', 'amd64', '1.12.0', 4247],
    ['aws', 'amd64', '1.11.0', 11193],
    ['exoscale', 'amd64', '1.15.0', 13241],
    ['metal', 'amd64', '1.10.0', 2247],
    ['aws', 'amd64', '1.10.0', 9193],
    ['exoscale', 'amd64', '1.10.0', 11241],
    ['metal', 'arm64', '1.11.0', 2246],
    ['secureboot-metal', 'amd64', '1.14.0', 2246],
    ['vmware', 'arm64', '1.14.0', 9192],
    ['exoscale', 'arm64', '1.13.0', 11240],
    ['metal', 'arm64', '1.10.0', 1246],
    ['aws', 'arm64', '1.10.0', 8192],
    ['metal', 'amd64', '1.9.0', 1246],
    ['secureboot-metal', 'arm64', '1.9.0', 1246],
    ['gcp', 'amd64', '1.9.0', 8192],
  ])('%s %s %s → %i MiB', (base, arch, version, mib) => expect(size(base, arch, version)).toBe(mib));

  it('bootloader selection (§1.5, §8)', () => {
    expect(selectBootloader('none', 'amd64', '1.12.0', false)).toBe('dual-boot');
    expect(selectBootloader('none', 'arm64', '1.12.0', false)).toBe('sd-boot');
    expect(selectBootloader('none', 'amd64', '1.9.0', false)).toBe('grub');
    expect(selectBootloader('none', 'amd64', 'garbage', false)).toBe('grub');
    expect(selectBootloader('grub', 'amd64', '1.12.0', false)).toBe('grub');
    expect(selectBootloader('grub', 'amd64', '1.12.0', true)).toBe('sd-boot');
    expect(selectBootloader('dual-boot', 'arm64', '1.14.0', false)).toBe('dual-boot');
  });

  it('a user bootloader keeps the base size (no BIOS/BOOT added)', () => {
    const p = resolveProfile(decodeProfile('baseProfileName: metal\narch: amd64\nversion: v1.11.0\noutput: {imageOptions: {bootloader: sd-boot}}'), noFiles);
    expect(p.output.imageOptions).toMatchObject({ bootloader: 'sd-boot', diskSize: 2246 * MiB });
  });

  it('ISO options only from 1.12', () => {
    expect(baseProfileForTarget('iso', { arch: 'amd64', version: '1.11.0' }, noFiles).output.isoOptions).toBeNull();
    expect(baseProfileForTarget('iso', { arch: 'amd64', version: '1.12.0' }, noFiles).output.isoOptions).toEqual({ sdBootEnrollKeys: 'if-safe', bootloader: 'dual-boot' });
    expect(baseProfileForTarget('secureboot-iso', { arch: 'amd64', version: '1.10.0' }, noFiles).output.isoOptions).toEqual({ sdBootEnrollKeys: 'if-safe', bootloader: 'none' });
  });

  it('inputs: asset paths, base installer by version, SecureBoot signer paths', () => {
    const p = baseProfileForTarget('secureboot-installer', { arch: 'arm64', version: 'v1.9.3' }, noFiles);
    expect(p.input.kernel.path).toBe('/usr/install/arm64/vmlinuz');
    expect(p.input.initramfs.path).toBe('/usr/install/arm64/initramfs.xz');
    expect(p.input.sdStub.path).toBe('/usr/install/arm64/systemd-stub.efi');
    expect(p.input.sdBoot.path).toBe('/usr/install/arm64/systemd-boot.efi');
    expect(p.input.baseInstaller.imageRef).toBe('ghcr.io/siderolabs/installer:v1.9.3');
    expect(p.input.secureboot).toMatchObject({
      secureBootSigner: { keyPath: '/secureboot/uki-signing-key.pem', certPath: '/secureboot/uki-signing-cert.pem' },
      pcrSigner: { keyPath: '/secureboot/pcr-signing-key.pem' },
      platformKeyPath: '',
    });
    expect(baseProfileForTarget('installer', { arch: 'amd64', version: '1.10.0' }, noFiles).input.baseInstaller.imageRef).toBe('ghcr.io/siderolabs/installer-base:1.10.0');
  });

  it('pre-built enrollment files are filled in only when they exist', () => {
    const seen: string[] = [];
    const p = baseProfileForTarget('secureboot-iso', { arch: 'amd64', version: '1.14.0' }, {
      fileExists: (path) => {
        seen.push(path);
        return path !== '/secureboot/KEK.auth';
      },
    });
    expect(seen).toEqual(['/secureboot/PK.auth', '/secureboot/KEK.auth', '/secureboot/db.auth']);
    expect(p.input.secureboot).toMatchObject({ platformKeyPath: '/secureboot/PK.auth', keyExchangeKeyPath: '', signatureKeyPath: '/secureboot/db.auth' });
  });

  it('a user signer is kept; the non-secureboot profile gets no secureboot section', () => {
    const p = resolveProfile(decodeProfile('baseProfileName: secureboot-metal\narch: amd64\ninput: {secureboot: {secureBootSigner: {signerAddress: unix:///s.sock}}}'), noFiles);
    expect(p.input.secureboot!.secureBootSigner).toMatchObject({ signerAddress: 'unix:///s.sock', keyPath: '' });
    expect(p.input.secureboot!.pcrSigner.keyPath).toBe('/secureboot/pcr-signing-key.pem');
    expect(baseProfileForTarget('metal', { arch: 'amd64', version: '1.12.0' }, noFiles).input.secureboot).toBeNull();
  });

  it('fillDefaults does not modify its argument', () => {
    const base = builtinBaseProfile('metal')!;
    base.arch = 'amd64';
    base.version = '1.12.0';
    const before = JSON.stringify(base);
    fillDefaults(base, noFiles);
    expect(JSON.stringify(base)).toBe(before);
  });

  it('resolveProfile defaults name and version as handleProf does', () => {
    const p = resolveProfile(decodeProfile('baseProfileName: metal\narch: amd64'), noFiles);
    expect(p.name).toBe('Talos');
    expect(p.version).toBe(DEFAULT_TALOS_VERSION);
    expect(p.baseProfileName).toBe('');
  });

  it('every built-in base profile resolves for both arches and every conformance version', () => {
    for (const name of BASE_PROFILE_NAMES) {
      for (const arch of ['amd64', 'arm64']) for (const v of ['1.9.0', '1.12.0', '1.15.0']) expect(() => baseProfileForTarget(name, { arch, version: v }, noFiles)).not.toThrow();
    }
    expect(BASE_PROFILE_NAMES).toHaveLength(32);
  });
});
