/**
 * Asset path → imager profile (image-factory.md §2.6) and schematic → profile (§2.7).
 */
import { describe, expect, it } from 'vitest';
import { emptyProfile, GoMap, MIN_RAW_DISK_SIZE, DEFAULT_RAW_DISK_SIZE, emptySecureBootAssets } from '../../../src/profile/index.js';
import {
  decodeSchematic,
  extensionNameAlias,
  mergeOverlayProfile,
  parseAssetPath,
  profileForAsset,
  upstreamMessage,
  type Schematic,
} from '../../../src/schematic/index.js';

const GiB = 1024 * 1024 * 1024;
const noSecureBootFiles = { fileExists: () => false };

function pathError(path: string): string {
  try {
    parseAssetPath(path);
  } catch (e) {
    expect((e as { exitCode: number }).exitCode).toBe(2);
    return upstreamMessage(e)!;
  }
  throw new Error(`accepted ${path}`);
}

describe('parseAssetPath (§2.6)', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['kernel-amd64', { kind: 'kernel', outFormat: 'raw', platform: 'metal', arch: 'amd64', secureboot: null }],
    ['kernel-arm64', { kind: 'kernel', platform: 'metal', arch: 'arm64' }],
    ['kernel-x86_64', { kind: 'kernel', arch: 'amd64' }],
    ['kernel-i386', { kind: 'kernel', arch: 'amd64' }],
    ['cmdline-metal-amd64', { kind: 'cmdline', outFormat: 'raw', platform: 'metal', arch: 'amd64', secureboot: null }],
    ['cmdline-aws-amd64-secureboot', { kind: 'cmdline', platform: 'aws', arch: 'amd64', secureboot: true }],
    ['cmdline-digital-ocean-amd64', { kind: 'cmdline', platform: 'digital-ocean', arch: 'amd64' }],
    ['initramfs-arm64.xz', { kind: 'initramfs', outFormat: 'raw', platform: 'metal', arch: 'arm64' }],
    ['metal-amd64.iso', { kind: 'iso', outFormat: 'raw', platform: 'metal', arch: 'amd64', secureboot: null }],
    ['metal-arm64-secureboot.iso', { kind: 'iso', platform: 'metal', arch: 'arm64', secureboot: true }],
    ['metal-amd64-uki.efi', { kind: 'uki', outFormat: 'raw', platform: 'metal', arch: 'amd64' }],
    ['metal-amd64-secureboot-uki.efi', { kind: 'uki', platform: 'metal', arch: 'amd64', secureboot: true }],
    ['nocloud-amd64-uki.efi', { kind: 'uki', platform: 'nocloud', arch: 'amd64' }],
    ['installer-amd64.tar', { kind: 'installer', outFormat: 'raw', platform: 'metal', arch: 'amd64', secureboot: null }],
    ['installer-arm64-secureboot.tar', { kind: 'installer', platform: 'metal', arch: 'arm64', secureboot: true }],
    ['metal-installer-amd64.tar', { kind: 'installer', platform: 'metal', arch: 'amd64' }],
    ['nocloud-installer-amd64.tar', { kind: 'installer', platform: 'nocloud', arch: 'amd64' }],
    ['aws-installer-amd64.tar', { kind: 'installer', platform: 'aws', arch: 'amd64' }],
    ['digital-ocean-installer-amd64.tar', { kind: 'installer', platform: 'digital-ocean', arch: 'amd64' }],
    ['metal-installer-arm64-secureboot.tar', { kind: 'installer', platform: 'metal', arch: 'arm64', secureboot: true }],
  ];
  for (const [path, want] of cases) {
    it(path, () => {
      const p = parseAssetPath(path);
      const got = { kind: p.output.kind, outFormat: p.output.outFormat, platform: p.platform, arch: p.arch, secureboot: p.secureboot };
      expect(got).toMatchObject(want);
      expect(p.output.imageOptions).toBeNull();
    });
  }

  const disks: [string, { platform: string; arch: string; outFormat: string; diskFormat: string; diskSize: number; opts: string; secureboot?: boolean }][] = [
    ['metal-amd64.raw.xz', { platform: 'metal', arch: 'amd64', outFormat: '.xz', diskFormat: 'raw', diskSize: MIN_RAW_DISK_SIZE, opts: '' }],
    ['metal-amd64.raw.zst', { platform: 'metal', arch: 'amd64', outFormat: '.zst', diskFormat: 'raw', diskSize: MIN_RAW_DISK_SIZE, opts: '' }],
    ['metal-arm64.raw', { platform: 'metal', arch: 'arm64', outFormat: 'raw', diskFormat: 'raw', diskSize: MIN_RAW_DISK_SIZE, opts: '' }],
    ['metal-amd64.qcow2', { platform: 'metal', arch: 'amd64', outFormat: 'raw', diskFormat: 'qcow2', diskSize: MIN_RAW_DISK_SIZE, opts: 'cluster_size=8k' }],
    ['metal-amd64-secureboot.raw.xz', { platform: 'metal', arch: 'amd64', outFormat: '.xz', diskFormat: 'raw', diskSize: MIN_RAW_DISK_SIZE, opts: '', secureboot: true }],
    ['nocloud-amd64.raw.xz', { platform: 'nocloud', arch: 'amd64', outFormat: '.xz', diskFormat: 'raw', diskSize: MIN_RAW_DISK_SIZE, opts: '' }],
    ['aws-amd64.raw.xz', { platform: 'aws', arch: 'amd64', outFormat: '.xz', diskFormat: 'raw', diskSize: DEFAULT_RAW_DISK_SIZE, opts: '' }],
    ['aws-amd64-secureboot.qcow2.tar.gz', { platform: 'aws', arch: 'amd64', outFormat: '.tar.gz', diskFormat: 'qcow2', diskSize: DEFAULT_RAW_DISK_SIZE, opts: 'cluster_size=8k', secureboot: true }],
    ['azure-amd64.vhd', { platform: 'azure', arch: 'amd64', outFormat: 'raw', diskFormat: 'vhd', diskSize: DEFAULT_RAW_DISK_SIZE, opts: 'subformat=fixed,force_size' }],
    ['azure-arm64.vhd.xz', { platform: 'azure', arch: 'arm64', outFormat: '.xz', diskFormat: 'vhd', diskSize: DEFAULT_RAW_DISK_SIZE, opts: 'subformat=fixed,force_size' }],
    ['gcp-amd64.raw.tar.gz', { platform: 'gcp', arch: 'amd64', outFormat: '.tar.gz', diskFormat: 'raw', diskSize: DEFAULT_RAW_DISK_SIZE, opts: '' }],
    ['digital-ocean-amd64.raw.gz', { platform: 'digital-ocean', arch: 'amd64', outFormat: '.gz', diskFormat: 'raw', diskSize: DEFAULT_RAW_DISK_SIZE, opts: '' }],
    ['vmware-amd64.ova', { platform: 'vmware', arch: 'amd64', outFormat: 'raw', diskFormat: 'ova', diskSize: DEFAULT_RAW_DISK_SIZE, opts: '' }],
    ['exoscale-arm64.qcow2', { platform: 'exoscale', arch: 'arm64', outFormat: 'raw', diskFormat: 'qcow2', diskSize: 10 * GiB, opts: 'cluster_size=8k' }],
    ['hcloud-amd64.raw.xz', { platform: 'hcloud', arch: 'amd64', outFormat: '.xz', diskFormat: 'raw', diskSize: MIN_RAW_DISK_SIZE, opts: '' }],
    ['akamai-amd64.raw.gz', { platform: 'akamai', arch: 'amd64', outFormat: '.gz', diskFormat: 'raw', diskSize: MIN_RAW_DISK_SIZE, opts: '' }],
    ['oracle-arm64.qcow2', { platform: 'oracle', arch: 'arm64', outFormat: 'raw', diskFormat: 'qcow2', diskSize: DEFAULT_RAW_DISK_SIZE, opts: 'cluster_size=8k' }],
    // A platform without a built-in profile keeps the generic 8 GiB (it fails later, in the build).
    ['someday-amd64.raw', { platform: 'someday', arch: 'amd64', outFormat: 'raw', diskFormat: 'raw', diskSize: DEFAULT_RAW_DISK_SIZE, opts: '' }],
  ];
  for (const [path, want] of disks) {
    it(path, () => {
      const p = parseAssetPath(path);
      expect(p.output.kind).toBe('image');
      const io = p.output.imageOptions!;
      expect({
        platform: p.platform,
        arch: p.arch,
        outFormat: p.output.outFormat,
        diskFormat: io.diskFormat,
        diskSize: io.diskSize,
        opts: io.diskFormatOptions,
        ...(p.secureboot ? { secureboot: true } : {}),
      }).toEqual(want);
      expect(io.bootloader).toBe('none');
      expect(io.diskSectorSize).toBe(0);
    });
  }

  it('rejects invalid paths with upstream\'s messages', () => {
    expect(pathError('metal-amd64.ssd')).toBe('invalid profile path: "metal-amd64.ssd"');
    expect(pathError('metal-amd64.ssd.xz')).toBe('invalid profile path: "metal-amd64.ssd"');
    expect(pathError('metal-amd64')).toBe('invalid profile path: "metal-amd64"');
    expect(pathError('metal-rpi_generic-arm64.raw.xz')).toBe('invalid architecture: "rpi_generic-arm64"');
    expect(pathError('kernel-foo')).toBe('invalid architecture: "foo"');
    expect(pathError('kernel-amd64-secureboot')).toBe('invalid architecture: "amd64-secureboot"');
    expect(pathError('initramfs-riscv64.xz')).toBe('invalid architecture: "riscv64"');
    expect(pathError('cmdline-metal')).toBe('invalid platform-arch: "metal"');
    expect(pathError('cmdline-metal-secureboot')).toBe('invalid platform-arch: "metal"');
    expect(pathError('metal.iso')).toBe('invalid platform-arch: "metal"');
    expect(pathError('metal-s390x.raw')).toBe('invalid architecture: "s390x"');
    expect(pathError('installer-amd64-secureboot-x.tar')).toBe('invalid architecture: "amd64-secureboot-x"');
    expect(pathError('')).toBe('invalid profile path: ""');
    // Upstream crashes (HTTP 500) on these; imagekit says why instead.
    expect(pathError('iso-amd64.raw')).toMatch(/^invalid profile path: "iso-amd64.raw": "iso" is not a disk image platform$/);
  });

  it('falls through like upstream when a prefix matches but its suffix does not', () => {
    // `initramfs-…` without `.xz` and `installer-…` without `.tar` are disk image paths.
    expect(parseAssetPath('initramfs-amd64.raw').platform).toBe('initramfs');
    expect(parseAssetPath('initramfs-amd64.qcow2').output.kind).toBe('image');
    expect(pathError('installer-amd64.qcow2')).toMatch(/"installer" is not a disk image platform$/);
    // `.iso` is tried before the installer forms.
    expect(parseAssetPath('installer-amd64.iso').output.kind).toBe('iso');
  });
});

describe('profileForAsset (§2.7)', () => {
  const schematic = (yaml: string): Schematic => decodeSchematic(yaml);
  const docs = schematic(`customization:
  extraKernelArgs: [net.ifnames=0]
  meta: [{key: 10, value: x}]
  systemExtensions:
    officialExtensions: [siderolabs/gvisor, siderolabs/intel-ucode]
`);

  it('disk image: args + META applied, extensions and the schematic extension requested, defaults filled', () => {
    const r = profileForAsset('metal-amd64.raw.xz', docs, '1.11.0', noSecureBootFiles);
    expect(r.versionTag).toBe('v1.11.0');
    expect(r.profile.version).toBe('v1.11.0');
    expect(r.profile.name).toBe('Talos');
    expect(r.profile.output.outFormat).toBe('.xz');
    expect(r.profile.customization.extraKernelArgs).toEqual(['net.ifnames=0']);
    expect(r.profile.customization.metaContents).toEqual([{ key: 10, value: 'x' }]);
    expect(r.officialExtensions).toEqual([
      { name: 'siderolabs/gvisor', alias: null },
      { name: 'siderolabs/intel-ucode', alias: null },
    ]);
    expect(r.schematicExtension).toBe(true);
    expect(r.overlay).toBeNull();
    // FillDefaults ran: boot assets and the bootloader for amd64 ≥ 1.10.
    expect(r.profile.input.kernel.path).toBe('/usr/install/amd64/vmlinuz');
    expect(r.profile.input.baseInstaller.imageRef).toBe('ghcr.io/siderolabs/installer-base:v1.11.0');
    expect(r.profile.output.imageOptions!.bootloader).toBe('dual-boot');
  });

  it('without fillDefaults the profile is exactly what the factory hands the imager', () => {
    const r = profileForAsset('metal-amd64.raw.xz', docs, 'v1.11.0', { fillDefaults: false });
    const want = parseAssetPath('metal-amd64.raw.xz');
    want.customization.extraKernelArgs = ['net.ifnames=0'];
    want.customization.metaContents = [{ key: 10, value: 'x' }];
    want.version = 'v1.11.0';
    want.name = 'Talos';
    expect(r.profile).toEqual(want);
  });

  it('cmdline: args and META, no extensions, no schematic extension', () => {
    const r = profileForAsset('cmdline-aws-amd64', docs, 'v1.11.0');
    expect(r.profile.output.kind).toBe('cmdline');
    expect(r.profile.customization.extraKernelArgs).toEqual(['net.ifnames=0']);
    expect(r.profile.customization.metaContents).toHaveLength(1);
    expect(r.officialExtensions).toEqual([]);
    expect(r.schematicExtension).toBe(false);
  });

  it('kernel: nothing from the schematic; initramfs: extensions only', () => {
    const k = profileForAsset('kernel-amd64', docs, 'v1.11.0', noSecureBootFiles);
    expect(k.profile.customization.extraKernelArgs).toEqual([]);
    expect(k.officialExtensions).toEqual([]);
    const i = profileForAsset('initramfs-amd64.xz', docs, 'v1.11.0', noSecureBootFiles);
    expect(i.profile.customization.extraKernelArgs).toEqual([]);
    expect(i.profile.customization.metaContents).toEqual([]);
    expect(i.officialExtensions.map((e) => e.name)).toEqual(['siderolabs/gvisor', 'siderolabs/intel-ucode']);
    expect(i.schematicExtension).toBe(true);
  });

  it('installer and UKI: extra args only from 1.10 on or with SecureBoot; never META', () => {
    expect(profileForAsset('installer-amd64.tar', docs, 'v1.9.0').profile.customization.extraKernelArgs).toEqual([]);
    const i10 = profileForAsset('installer-amd64.tar', docs, 'v1.10.0').profile;
    expect(i10.customization.extraKernelArgs).toEqual(['net.ifnames=0']);
    expect(i10.customization.metaContents).toEqual([]);
    expect(
      profileForAsset('installer-amd64-secureboot.tar', docs, 'v1.9.0', noSecureBootFiles).profile.customization.extraKernelArgs,
    ).toEqual(['net.ifnames=0']);
    expect(profileForAsset('metal-amd64-uki.efi', docs, 'v1.9.0').profile.customization.extraKernelArgs).toEqual([]);
    expect(profileForAsset('metal-amd64-uki.efi', docs, 'v1.10.0').profile.customization.extraKernelArgs).toEqual(['net.ifnames=0']);
  });

  it('bootloader and sector size go to the disk image; bootloader to the ISO', () => {
    const s = schematic('customization: {bootloader: grub, diskImage: {sectorSize: 4096}}');
    const img = profileForAsset('metal-amd64.raw.xz', s, 'v1.12.0', { fillDefaults: false }).profile.output.imageOptions!;
    expect(img.bootloader).toBe('grub');
    expect(img.diskSectorSize).toBe(4096);
    const iso = profileForAsset('metal-amd64.iso', s, 'v1.12.0', { fillDefaults: false }).profile.output;
    expect(iso.isoOptions!.bootloader).toBe('grub');
    expect(iso.imageOptions).toBeNull();
  });

  it('embedded machine configuration needs Talos ≥ 1.12 (not applied to cmdline/kernel)', () => {
    const s = schematic('customization:\n  embeddedMachineConfiguration: |\n    apiVersion: v1alpha1\n');
    expect(() => profileForAsset('metal-amd64.iso', s, 'v1.11.0')).toThrow(
      'error enhancing profile from schematic: embedding configuration is not supported for Talos version v1.11.0',
    );
    expect(profileForAsset('metal-amd64.iso', s, 'v1.12.0', noSecureBootFiles).profile.customization.embeddedMachineConfiguration).toBe(
      'apiVersion: v1alpha1\n',
    );
    expect(profileForAsset('cmdline-metal-amd64', s, 'v1.11.0').profile.customization.embeddedMachineConfiguration).toBe('');
  });

  it('SecureBoot: enrollKeys validated only for SecureBoot assets, applied to ISO/disk; service assets copied', () => {
    const s = schematic('customization: {secureboot: {enrollKeys: FORCE, includeWellKnownCertificates: true}}');
    const iso = profileForAsset('metal-amd64-secureboot.iso', s, 'v1.12.0', noSecureBootFiles).profile;
    expect(iso.output.isoOptions!.sdBootEnrollKeys).toBe('force');
    expect(iso.input.secureboot!.includeWellKnownCerts).toBe(true);
    expect(iso.input.secureboot!.secureBootSigner.keyPath).toBe('/secureboot/uki-signing-key.pem');
    const uki = profileForAsset('metal-amd64-secureboot-uki.efi', s, 'v1.12.0', noSecureBootFiles).profile;
    expect(uki.output.isoOptions).toBeNull();

    const bad = schematic('customization: {secureboot: {enrollKeys: sometimes}}');
    expect(profileForAsset('metal-amd64.iso', bad, 'v1.12.0', noSecureBootFiles).profile.output.isoOptions!.sdBootEnrollKeys).toBe('if-safe');
    expect(() => profileForAsset('metal-amd64-secureboot.iso', bad, 'v1.12.0', noSecureBootFiles)).toThrow(
      'error enhancing profile from schematic: invalid secureboot enrollKeys value "sometimes": sometimes does not belong to SDBootEnrollKeys values',
    );

    const assets = emptySecureBootAssets();
    assets.secureBootSigner.keyPath = '/keys/uki.key';
    assets.secureBootSigner.certPath = '/keys/uki.crt';
    assets.pcrSigner.keyPath = '/keys/pcr.key';
    const withAssets = profileForAsset('metal-amd64-secureboot.raw.zst', s, 'v1.12.0', { secureBootAssets: assets, ...noSecureBootFiles }).profile;
    expect(withAssets.input.secureboot!.secureBootSigner.keyPath).toBe('/keys/uki.key');
    expect(withAssets.input.secureboot!.includeWellKnownCerts).toBe(true);
    expect(withAssets.output.imageOptions!.sdBootEnrollKeys).toBe('force');
    expect(assets.includeWellKnownCerts).toBe(false);

    expect(() => profileForAsset('metal-amd64-secureboot.iso', s, 'v1.12.0', { secureBootAssets: null })).toThrow(
      'error enhancing profile from schematic: secure boot is disabled',
    );
  });

  it('overlay: needs Talos ≥ 1.7; options carried; overlay profile merged with the factory\'s fields cleared', () => {
    const s = schematic(`overlay:
  image: siderolabs/sbc-raspberrypi
  name: rpi_generic
  options:
    configTxt: "gpu_mem=128\\n"
    n: 5
customization:
  systemExtensions:
    officialExtensions: [siderolabs/iscsi-tools]
`);
    expect(() => profileForAsset('metal-arm64.raw.xz', s, 'v1.6.0')).toThrow(
      'error enhancing profile from schematic: overlay is not supported for Talos version v1.6.0',
    );
    const overlayProfile = emptyProfile();
    overlayProfile.arch = 'amd64';
    overlayProfile.platform = 'should-not-win';
    overlayProfile.customization.extraKernelArgs = ['console=ttyAMA0'];
    overlayProfile.output.kind = 'iso';
    overlayProfile.output.imageOptions = { diskSize: 1, diskFormat: 'qcow2', diskFormatOptions: 'x', diskSectorSize: 0, bootloader: 'sd-boot', sdBootEnrollKeys: 'if-safe' };
    const r = profileForAsset('metal-arm64.raw.xz', s, 'v1.7.0', { fillDefaults: false, overlayProfile });
    expect(r.overlay).toEqual({ name: 'rpi_generic', image: 'siderolabs/sbc-raspberrypi' });
    expect(r.profile.platform).toBe('metal');
    expect(r.profile.arch).toBe('arm64');
    expect(r.profile.output.kind).toBe('image');
    expect(r.profile.customization.extraKernelArgs).toEqual(['console=ttyAMA0']);
    expect(r.profile.output.imageOptions!.bootloader).toBe('sd-boot');
    expect(r.profile.output.imageOptions!.diskFormat).toBe('raw');
    expect(r.profile.output.imageOptions!.diskSize).toBe(MIN_RAW_DISK_SIZE);
    expect(r.profile.overlay!.name).toBe('rpi_generic');
    expect(r.profile.overlay!.options).toEqual(new GoMap([['configTxt', 'gpu_mem=128\n'], ['n', 5n]]));
    expect(r.officialExtensions).toEqual([{ name: 'siderolabs/iscsi-tools', alias: null }]);
    // The overlay itself is ignored for cmdline.
    expect(profileForAsset('cmdline-metal-arm64', s, 'v1.7.0').profile.overlay).toBeNull();
  });

  it('mergeOverlayProfile leaves the caller\'s profiles unchanged', () => {
    const base = parseAssetPath('metal-arm64.raw.xz');
    const overlay = emptyProfile();
    overlay.customization.extraKernelArgs = ['a'];
    const merged = mergeOverlayProfile(base, overlay);
    expect(merged.customization.extraKernelArgs).toEqual(['a']);
    expect(base.customization.extraKernelArgs).toEqual([]);
    expect(overlay.customization.extraKernelArgs).toEqual(['a']);
  });

  it('renamed official extensions carry their alias', () => {
    expect(extensionNameAlias('siderolabs/gasket')).toBe('siderolabs/gasket-driver');
    expect(extensionNameAlias('siderolabs/nvidia-fabricmanager')).toBe('siderolabs/nvidia-fabric-manager-lts');
    expect(extensionNameAlias('siderolabs/gvisor')).toBeNull();
    expect(extensionNameAlias('toString')).toBeNull();
    const r = profileForAsset('metal-amd64.iso', schematic('customization: {systemExtensions: {officialExtensions: [siderolabs/i915-ucode]}}'), 'v1.12.0', noSecureBootFiles);
    expect(r.officialExtensions).toEqual([{ name: 'siderolabs/i915-ucode', alias: 'siderolabs/i915' }]);
  });

  it('errors carry the factory\'s 400 text', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect((e as { exitCode: number }).exitCode).toBe(2);
        return upstreamMessage(e);
      }
      throw new Error('accepted');
    };
    expect(err(() => profileForAsset('metal-amd64.ssd', docs, 'v1.11.0'))).toBe('error parsing profile from path: invalid profile path: "metal-amd64.ssd"');
    expect(err(() => profileForAsset('metal-amd64.raw.xz', docs, '1.5'))).toMatch(/^error parsing version: /);
    expect(err(() => profileForAsset('metal-amd64.raw.xz', docs, 'v1.11'))).toMatch(/^error parsing version: /);
  });
});
