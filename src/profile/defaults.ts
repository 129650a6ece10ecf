/**
 * FillDefaults (talos-imager.md §1.5; upstream `Input.FillDefaults` in `input.go`,
 * `Output.FillDefaults` in `output.go`): boot asset paths, the base installer image, SecureBoot
 * signer paths, the disk image bootloader and the disk size for the target version.
 */
import { existsSync } from 'node:fs';
import { cloneProfile } from './merge.js';
import { quirksFor } from './quirks.js';
import {
  emptyImageOptions,
  emptyISOOptions,
  emptySecureBootAssets,
  type BootloaderKind,
  type ContainerAsset,
  type Input,
  type Output,
  type Profile,
  type SigningKey,
  type SigningKeyAndCertificate,
} from './schema.js';

const MiB = 1024 * 1024;

export interface FillDefaultsOptions {
  /**
   * Whether a file exists; the pre-built enrollment files `/secureboot/{PK,KEK,db}.auth` are filled
   * in only when they exist (as the imager checks inside its container). Default: the local file system.
   */
  fileExists?: (path: string) => boolean;
}

const isZeroContainer = (c: ContainerAsset) => c.imageRef === '' && !c.forceInsecure && c.tarballPath === '' && c.ociPath === '';
const isZeroRecord = (r: SigningKeyAndCertificate | SigningKey) => Object.values(r).every((v) => v === '');

/** Boot asset inside the imager image (`/usr/install/<arch>/…`, talos-imager.md §2.1). */
export const bootAssetPath = (arch: string, file: 'vmlinuz' | 'initramfs.xz' | 'systemd-stub.efi' | 'systemd-boot.efi') =>
  `/usr/install/${arch}/${file}`;

/** `Input.FillDefaults(arch, version, secureboot)`. */
export function fillInputDefaults(input: Input, arch: string, version: string, secureboot: boolean, opts: FillDefaultsOptions = {}): void {
  const fileExists = opts.fileExists ?? existsSync;
  if (input.kernel.path === '') input.kernel.path = bootAssetPath(arch, 'vmlinuz');
  if (input.initramfs.path === '') input.initramfs.path = bootAssetPath(arch, 'initramfs.xz');
  if (isZeroContainer(input.baseInstaller)) {
    // Targets < 1.10 had the boot assets in the installer image itself; later ones use installer-base.
    const repo = quirksFor(version).supportsUnifiedInstaller ? 'ghcr.io/siderolabs/installer-base' : 'ghcr.io/siderolabs/installer';
    input.baseInstaller.imageRef = `${repo}:${version}`;
  }
  if (input.sdStub.path === '') input.sdStub.path = bootAssetPath(arch, 'systemd-stub.efi');
  if (input.sdBoot.path === '') input.sdBoot.path = bootAssetPath(arch, 'systemd-boot.efi');
  if (!secureboot) return;
  const sb = (input.secureboot ??= emptySecureBootAssets());
  if (isZeroRecord(sb.secureBootSigner)) {
    sb.secureBootSigner.keyPath = '/secureboot/uki-signing-key.pem';
    sb.secureBootSigner.certPath = '/secureboot/uki-signing-cert.pem';
  }
  if (isZeroRecord(sb.pcrSigner)) sb.pcrSigner.keyPath = '/secureboot/pcr-signing-key.pem';
  if (sb.platformKeyPath === '' && fileExists('/secureboot/PK.auth')) sb.platformKeyPath = '/secureboot/PK.auth';
  if (sb.keyExchangeKeyPath === '' && fileExists('/secureboot/KEK.auth')) sb.keyExchangeKeyPath = '/secureboot/KEK.auth';
  if (sb.signatureKeyPath === '' && fileExists('/secureboot/db.auth')) sb.signatureKeyPath = '/secureboot/db.auth';
}

/**
 * The bootloader for a disk image or ISO (`selectBootloader`, talos-imager.md §1.5, §8): a choice
 * already made is kept unless SecureBoot is on; SecureBoot → sd-boot; arm64 ≥ 1.10 → sd-boot;
 * < 1.10 → grub; otherwise dual-boot.
 */
export function selectBootloader(current: BootloaderKind, arch: string, version: string, secureboot: boolean): BootloaderKind {
  if (current !== 'none' && !secureboot) return current;
  const sdBoot = quirksFor(version).useSDBootForUEFI;
  if (secureboot) return 'sd-boot';
  if (arch === 'arm64' && sdBoot) return 'sd-boot';
  if (!sdBoot) return 'grub';
  return 'dual-boot';
}

/** `Output.FillDefaults(arch, version, secureboot)`. */
export function fillOutputDefaults(output: Output, arch: string, version: string, secureboot: boolean): void {
  const q = quirksFor(version);
  if (output.kind === 'image') {
    const io = (output.imageOptions ??= emptyImageOptions());
    io.bootloader = selectBootloader(io.bootloader, arch, version, secureboot);
    const sizes = q.partitionSizes;
    // The base sizes were designed for a 1000 MiB BOOT partition.
    io.diskSize += sizes.grubBoot - 1000 * MiB;
    if (io.bootloader === 'dual-boot') io.diskSize += sizes.grubBIOS + sizes.grubBoot;
  } else if (output.kind === 'iso') {
    if (!q.isoSupportsSettingBootloader) return;
    const iso = (output.isoOptions ??= emptyISOOptions());
    iso.bootloader = selectBootloader(iso.bootloader, arch, version, secureboot);
  }
}

/** Both FillDefaults on a copy of the profile, for its own arch, version and SecureBoot setting. */
export function fillDefaults(profile: Profile, opts: FillDefaultsOptions = {}): Profile {
  const p = cloneProfile(profile);
  const secureboot = p.secureboot === true;
  fillInputDefaults(p.input, p.arch, p.version, secureboot, opts);
  fillOutputDefaults(p.output, p.arch, p.version, secureboot);
  return p;
}
