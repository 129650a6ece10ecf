/** Well-known GPT partition type GUIDs (UEFI spec; talos-imager.md §9.2). */
export const PartitionType = {
  efiSystem: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  biosBoot: '21686148-6449-6e6f-744e-656564454649',
  linuxData: '0fc63daf-8483-4772-8e79-3d69d8477de4',
  microsoftBasicData: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7',
} as const;

const NAMES: Record<string, string> = {
  [PartitionType.efiSystem]: 'EFI System',
  [PartitionType.biosBoot]: 'BIOS boot',
  [PartitionType.linuxData]: 'Linux filesystem',
  [PartitionType.microsoftBasicData]: 'Microsoft basic data',
};

/** A human name for a type GUID, or the GUID itself. */
export function partitionTypeName(typeGuid: string): string {
  return NAMES[typeGuid.toLowerCase()] ?? typeGuid;
}

/** GPT attribute bits (UEFI spec table 5-7). */
export const PartitionAttribute = {
  requiredPartition: 1n << 0n,
  noBlockIoProtocol: 1n << 1n,
  legacyBiosBootable: 1n << 2n,
} as const;
