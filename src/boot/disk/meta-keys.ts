/** META keys (talos-imager.md §9.6, upstream `pkg/machinery/meta/constants.go`). */
export const MetaKey = {
  upgrade: 6,
  stagedUpgradeImageRef: 7,
  stagedUpgradeInstallOptions: 8,
  stateEncryptionConfig: 9,
  metalNetworkPlatformConfig: 10,
  downloadUrlCode: 11,
  userReserved1: 12,
  userReserved2: 13,
  userReserved3: 14,
  uuidOverride: 15,
  uniqueMachineToken: 16,
  diskImageBootloader: 17,
} as const;

const NAMES: Record<number, string> = {
  6: 'Upgrade',
  7: 'StagedUpgradeImageRef',
  8: 'StagedUpgradeInstallOptions',
  9: 'StateEncryptionConfig',
  10: 'MetalNetworkPlatformConfig',
  11: 'DownloadURLCode',
  12: 'UserReserved1',
  13: 'UserReserved2',
  14: 'UserReserved3',
  15: 'UUIDOverride',
  16: 'UniqueMachineToken',
  17: 'DiskImageBootloader',
};

/** `0x0a (MetalNetworkPlatformConfig)`, or just the hex key. */
export function metaKeyName(key: number): string {
  const hex = `0x${key.toString(16).padStart(2, '0')}`;
  return NAMES[key] ? `${hex} (${NAMES[key]})` : hex;
}
