import { describe, expect, it } from 'vitest';
import { quirksFor, type Quirks } from '../../../src/profile/quirks.js';

const MiB = 1024 * 1024;

/** [quirk, last version where it is false/true, first version where it flips] from talos-imager.md §3. */
const thresholds: Array<[keyof Quirks, string, string, boolean]> = [
  // [name, version just below the threshold, threshold version, value at/after threshold]
  ['supportsResetGrubOption', '1.3.9', '1.4.0', true],
  ['supportsUKI', '1.4.9', '1.5.0', true],
  ['supportsCompressedEncodedMETA', '1.6.2', '1.6.3', true],
  ['supportsOverlay', '1.6.9', '1.7.0', true],
  ['useZstdCompression', '1.7.9', '1.8.0', true],
  ['supportsISOLabel', '1.7.9', '1.8.0', true],
  ['supportsMetalPlatformConsoleTTYS0', '1.7.9', '1.8.0', false],
  ['supportsHaltIfInstalled', '1.7.9', '1.8.0', true],
  ['skipDataPartitions', '1.7.9', '1.8.0', true],
  ['supportsSELinux', '1.9.9', '1.10.0', true],
  ['useSDBootForUEFI', '1.9.9', '1.10.0', true],
  ['supportsUKIProfiles', '1.9.9', '1.10.0', true],
  ['supportsUnifiedInstaller', '1.9.9', '1.10.0', true],
  ['supportsIMA', '1.10.99', '1.11.0', false],
  ['supportsEmbeddedConfig', '1.11.9', '1.12.0', true],
  ['supportsDisablingModuleSignatureVerification', '1.11.9', '1.12.0', true],
  ['isoSupportsSettingBootloader', '1.11.9', '1.12.0', true],
  ['procMemOverrideNever', '1.12.9', '1.13.0', true],
  ['supportsFactoryTalosctlDownload', '1.10.9', '1.11.0', true],
  ['dropInitOnAllocInArgs', '1.13.9', '1.14.0', true],
  ['nvmeCoreIoTimeoutAWSOnly', '1.13.9', '1.14.0', true],
  ['forcesLockdownConfidentiality', '1.13.9', '1.14.0', false],
];

describe('quirksFor (talos-imager.md §3)', () => {
  it.each(thresholds)('%s flips between %s and %s', (name, below, at, after) => {
    expect(quirksFor(below)[name]).toBe(!after);
    expect(quirksFor(`v${at}`)[name]).toBe(after);
  });

  it('drops the pre-release: 1.14.0-beta.1 answers as 1.14.0', () => {
    const q = quirksFor('v1.14.0-beta.1');
    expect(q.dropInitOnAllocInArgs).toBe(true);
    expect(q.forcesLockdownConfidentiality).toBe(false);
    expect(q.version).toMatchObject({ major: 1, minor: 14, patch: 0, prerelease: [] });
  });

  it('an unparsable version is the latest Talos, except the (!) quirks which are false', () => {
    const q = quirksFor('main');
    expect(q.version).toBeNull();
    for (const [name, , , after] of thresholds) {
      const bang = ['supportsMetalPlatformConsoleTTYS0', 'useSDBootForUEFI', 'supportsIMA', 'forcesLockdownConfidentiality'].includes(name);
      expect(q[name], name).toBe(bang ? false : after);
    }
    expect(q.partitionSizes.grubBoot).toBe(2000 * MiB);
    expect(q.xfsMkfsConfig).toBe('/usr/share/xfsprogs/mkfs/lts_6.18.conf');
    expect(q.kernelModulesPath).toBe('/usr/lib/modules');
    expect(q.xfsMinAllocationGroupSize).toBe(64 * 1024 * MiB);
  });

  it('compression, paths and partition sizes', () => {
    expect(quirksFor('1.7.0').extensionCompression).toBe('xz');
    expect(quirksFor('1.8.0').extensionCompression).toBe('zstd');
    expect(quirksFor('1.9.0').kernelModulesPath).toBe('/lib/modules');
    expect(quirksFor('1.9.0').firmwarePath).toBe('/lib/firmware');
    expect(quirksFor('1.10.0').firmwarePath).toBe('/usr/lib/firmware');
    const old = quirksFor('1.10.5').partitionSizes;
    const cur = quirksFor('1.11.0').partitionSizes;
    expect(old.ukiEFI).toBe(1101 * MiB);
    expect(cur.ukiEFI).toBe(2101 * MiB);
    expect(cur).toMatchObject({ grubEFI: 100 * MiB, grubBIOS: 1 * MiB, grubBoot: 2000 * MiB, meta: 1 * MiB, state: 100 * MiB, ephemeralMin: 2048 * MiB });
    expect(quirksFor('1.13.9').xfsMinAllocationGroupSize).toBe(0);
  });

  it.each([
    ['1.4.0', 'lts_6.1.conf'],
    ['1.7.9', 'lts_6.1.conf'],
    ['1.8.0', 'lts_6.6.conf'],
    ['1.9.5', 'lts_6.6.conf'],
    ['1.10.0', 'lts_6.12.conf'],
    ['1.12.9', 'lts_6.12.conf'],
    ['1.13.0', 'lts_6.18.conf'],
  ])('XFS mkfs config for %s is %s', (v, file) => expect(quirksFor(v).xfsMkfsConfig).toBe(`/usr/share/xfsprogs/mkfs/${file}`));
});
