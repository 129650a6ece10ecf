/**
 * Version quirks: how the imager's behaviour depends on the *target* Talos version
 * (talos-imager.md §3; upstream `pkg/machinery/imager/quirks/quirks.go`, `partitions.go`).
 *
 * `quirksFor(version)` parses the version tolerantly and drops pre-release and build parts, so
 * `v1.14.0-beta.1` answers as `1.14.0`. When the version does not parse, every quirk answers as
 * for the latest Talos, except the few marked "(!)" below, which answer `false`.
 *
 * Every other room asks this object rather than comparing versions itself.
 */
import { compareVersions, mustParseVersion, parseTalosVersion, type TalosVersion } from './version.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Partition sizes in bytes (talos-imager.md §3 "Partition sizes", §9.2). */
export interface PartitionSizes {
  /** EFI partition of grub-only disk images: 100 MiB. */
  readonly grubEFI: number;
  /** BIOS boot partition (GRUB core.img): 1 MiB. */
  readonly grubBIOS: number;
  /** BOOT partition (XFS): 2000 MiB for ≥ 1.11, 1000 MiB below. */
  readonly grubBoot: number;
  /** EFI partition when sd-boot holds everything: grubEFI + grubBIOS + grubBoot (2101 / 1101 MiB). */
  readonly ukiEFI: number;
  /** META partition: 1 MiB. */
  readonly meta: number;
  /** STATE partition (targets < 1.8 only): 100 MiB. */
  readonly state: number;
  /** Minimum EPHEMERAL size: 2 GiB. */
  readonly ephemeralMin: number;
}

export interface Quirks {
  /** The parsed target version without pre-release/build, or null when it did not parse. */
  readonly version: TalosVersion | null;
  /** ≥ 1.4: "Reset" GRUB menu entry. */
  readonly supportsResetGrubOption: boolean;
  /** ≥ 1.5: UKI built, SecureBoot allowed, `uki` output allowed. */
  readonly supportsUKI: boolean;
  /** ≥ 1.6.3: the META environment value may be gzipped (talos-imager.md §5.3). */
  readonly supportsCompressedEncodedMETA: boolean;
  /** ≥ 1.7: overlays (unused by the imager at HEAD). */
  readonly supportsOverlay: boolean;
  /** ≥ 1.8: zstd for extension squashfs images and the appended initramfs; xz below. */
  readonly useZstdCompression: boolean;
  /** Same rule as `useZstdCompression`, as the codec name rooms pass to their compressor. */
  readonly extensionCompression: 'zstd' | 'xz';
  /** ≥ 1.8: ISO volume id / volume set id. */
  readonly supportsISOLabel: boolean;
  /** ≥ 1.5: multi-document machine configuration. */
  readonly supportsMultidoc: boolean;
  /** < 1.8 (!): metal amd64 adds `console=ttyS0`. */
  readonly supportsMetalPlatformConsoleTTYS0: boolean;
  /** ≥ 1.8: ISO command line gets `talos.halt_if_installed=1`. */
  readonly supportsHaltIfInstalled: boolean;
  /** ≥ 1.8: image mode does not pre-create STATE/EPHEMERAL. */
  readonly skipDataPartitions: boolean;
  /** ≥ 1.10: `selinux=1`. */
  readonly supportsSELinux: boolean;
  /** ≥ 1.10 (!): sd-boot / dual-boot defaults and unified installer artifacts. */
  readonly useSDBootForUEFI: boolean;
  /** `/usr/lib/modules` for ≥ 1.10 (and unparsable), `/lib/modules` below. */
  readonly kernelModulesPath: string;
  /** `/usr/lib/firmware` for ≥ 1.10 (and unparsable), `/lib/firmware` below. */
  readonly firmwarePath: string;
  /** ≥ 1.10: multi-profile UKI (`.profile` sections). */
  readonly supportsUKIProfiles: boolean;
  /** ≥ 1.10: default base installer is `installer-base`. */
  readonly supportsUnifiedInstaller: boolean;
  /** Partition sizes (BOOT 2000 MiB from 1.11, 1000 MiB below). */
  readonly partitionSizes: PartitionSizes;
  /** mkfs.xfs config file: lts_6.18 (≥ 1.13 and unparsable), lts_6.12 (≥ 1.10), lts_6.6 (1.8–1.9), lts_6.1 (older). */
  readonly xfsMkfsConfig: string;
  /** Minimum XFS allocation group size in bytes: 64 GiB for ≥ 1.14 (and unparsable), 0 below. */
  readonly xfsMinAllocationGroupSize: number;
  /** ≤ 1.10.99 (!): `ima_*` kernel arguments. */
  readonly supportsIMA: boolean;
  /** ≥ 1.12: embedded machine config (the imager does not check it; it always embeds). */
  readonly supportsEmbeddedConfig: boolean;
  /** ≥ 1.12: `module.sig_enforce=1`. */
  readonly supportsDisablingModuleSignatureVerification: boolean;
  /** ≥ 1.12: `isoOptions.bootloader` honoured. */
  readonly isoSupportsSettingBootloader: boolean;
  /** ≥ 1.13: `proc_mem.force_override=never`. */
  readonly procMemOverrideNever: boolean;
  /** ≥ 1.11.0-alpha.3 (so ≥ 1.11.0 once the pre-release is dropped): Image Factory talosctl downloads. */
  readonly supportsFactoryTalosctlDownload: boolean;
  /** ≥ 1.14: drop `init_on_alloc=1` from the default arguments. */
  readonly dropInitOnAllocInArgs: boolean;
  /** ≥ 1.14: `nvme_core.io_timeout=4294967295` only on AWS. */
  readonly nvmeCoreIoTimeoutAWSOnly: boolean;
  /** < 1.14 (!): SecureBoot adds `lockdown=confidentiality`. */
  readonly forcesLockdownConfidentiality: boolean;
}

const v = mustParseVersion;
const V1_4 = v('1.4.0');
const V1_5 = v('1.5.0');
const V1_6_3 = v('1.6.3');
const V1_7 = v('1.7.0');
const V1_8 = v('1.8.0');
const V1_10 = v('1.10.0');
const V1_10_99 = v('1.10.99');
const V1_11 = v('1.11.0');
const V1_11_ALPHA3 = v('1.11.0-alpha.3');
const V1_12 = v('1.12.0');
const V1_13 = v('1.13.0');
const V1_14 = v('1.14.0');

function partitionSizes(bootSize: number): PartitionSizes {
  const grubEFI = 100 * MiB;
  const grubBIOS = 1 * MiB;
  return {
    grubEFI,
    grubBIOS,
    grubBoot: bootSize,
    ukiEFI: grubEFI + grubBIOS + bootSize,
    meta: 1 * MiB,
    state: 100 * MiB,
    ephemeralMin: 2 * GiB,
  };
}

/** Quirks for a target version string (as written in the profile, e.g. `v1.11.0` or `1.14.0-beta.1`). */
export function quirksFor(version: string): Quirks {
  const parsed = parseTalosVersion(version);
  const ver: TalosVersion | null = parsed && { major: parsed.major, minor: parsed.minor, patch: parsed.patch, prerelease: [], build: [] };
  // "at least": unparsable versions count as the latest Talos.
  const gte = (min: TalosVersion) => ver === null || compareVersions(ver, min) >= 0;
  // The "(!)" rules: unparsable answers false.
  const gteStrict = (min: TalosVersion) => ver !== null && compareVersions(ver, min) >= 0;
  const ltStrict = (max: TalosVersion) => ver !== null && compareVersions(ver, max) < 0;

  const zstd = gte(V1_8);
  const usrMerge = gte(V1_10);
  let xfsMkfsConfig: string;
  if (ver === null || compareVersions(ver, V1_13) >= 0) xfsMkfsConfig = 'lts_6.18.conf';
  else if (compareVersions(ver, V1_10) >= 0) xfsMkfsConfig = 'lts_6.12.conf';
  else if (compareVersions(ver, V1_8) >= 0) xfsMkfsConfig = 'lts_6.6.conf';
  else xfsMkfsConfig = 'lts_6.1.conf';

  return {
    version: ver,
    supportsResetGrubOption: gte(V1_4),
    supportsUKI: gte(V1_5),
    supportsCompressedEncodedMETA: gte(V1_6_3),
    supportsOverlay: gte(V1_7),
    useZstdCompression: zstd,
    extensionCompression: zstd ? 'zstd' : 'xz',
    supportsISOLabel: gte(V1_8),
    supportsMultidoc: gte(V1_5),
    supportsMetalPlatformConsoleTTYS0: ltStrict(V1_8),
    supportsHaltIfInstalled: gte(V1_8),
    skipDataPartitions: gte(V1_8),
    supportsSELinux: gte(V1_10),
    useSDBootForUEFI: gteStrict(V1_10),
    kernelModulesPath: usrMerge ? '/usr/lib/modules' : '/lib/modules',
    firmwarePath: usrMerge ? '/usr/lib/firmware' : '/lib/firmware',
    supportsUKIProfiles: gte(V1_10),
    supportsUnifiedInstaller: gte(V1_10),
    partitionSizes: partitionSizes(ver !== null && compareVersions(ver, V1_11) < 0 ? 1000 * MiB : 2000 * MiB),
    xfsMkfsConfig: `/usr/share/xfsprogs/mkfs/${xfsMkfsConfig}`,
    xfsMinAllocationGroupSize: ver !== null && compareVersions(ver, V1_14) < 0 ? 0 : 64 * GiB,
    supportsIMA: ver !== null && compareVersions(ver, V1_10_99) <= 0,
    supportsEmbeddedConfig: gte(V1_12),
    supportsDisablingModuleSignatureVerification: gte(V1_12),
    isoSupportsSettingBootloader: gte(V1_12),
    procMemOverrideNever: gte(V1_13),
    supportsFactoryTalosctlDownload: gte(V1_11_ALPHA3),
    dropInitOnAllocInArgs: gte(V1_14),
    nvmeCoreIoTimeoutAWSOnly: gte(V1_14),
    forcesLockdownConfidentiality: ltStrict(V1_14),
  };
}
