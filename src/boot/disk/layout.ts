/**
 * Talos disk layouts (talos-imager.md §9.2, §9.3): which partitions a `kind: image` disk has for a
 * bootloader and target version, in creation order, with label-derived GUIDs. Only sd-boot can be
 * built here: dual-boot and grub need an XFS BOOT partition and GRUB images (a later issue), so they
 * fail with exit code 3 rather than producing a wrong image.
 */
import { unsupported } from '../../core/errors.js';
import { guidFromLabel, PartitionType, planGpt, type GptPartitionRequest, type GptTable } from '../../formats/gpt/index.js';
import type { PartitionSizes } from '../../profile/quirks.js';

export type DiskBootloader = 'sd-boot' | 'dual-boot' | 'grub';

/** The disk GUID Talos gives every image (`GUIDFromLabel("talos-image-disk")`). */
export const TALOS_DISK_GUID = guidFromLabel('talos-image-disk');

export interface DiskLayoutOptions {
  bootloader: DiskBootloader;
  diskSize: number;
  /** 512 (default) or 4096 (`imageOptions.diskSectorSize`). */
  sectorSize?: number;
  /** From `quirksFor(version).partitionSizes`: EFI = ukiEFI, META = meta, STATE = state. */
  partitionSizes: Pick<PartitionSizes, 'ukiEFI' | 'meta' | 'state'>;
  /** Targets < 1.8 (quirk SkipDataPartitions false): also STATE and EPHEMERAL (rest of the disk). */
  dataPartitions?: boolean;
}

export function checkBootloader(bootloader: string): asserts bootloader is 'sd-boot' {
  if (bootloader === 'sd-boot') return;
  if (bootloader === 'dual-boot' || bootloader === 'grub') {
    throw unsupported(
      'E_BOOTLOADER_UNSUPPORTED',
      `disk images with bootloader "${bootloader}" need an XFS BOOT partition and GRUB, which imagekit cannot build yet; use --bootloader sd-boot (profile: output.imageOptions.bootloader: sd-boot)`,
    );
  }
  throw unsupported('E_BOOTLOADER_UNSUPPORTED', `unknown disk bootloader "${bootloader}"; use --bootloader sd-boot`);
}

const part = (name: string, typeGuid: string, size: number): GptPartitionRequest => ({ name, typeGuid, guid: guidFromLabel(name), size });

/** Partition requests in creation order. */
export function talosPartitions(o: DiskLayoutOptions): GptPartitionRequest[] {
  checkBootloader(o.bootloader);
  const parts = [part('EFI', PartitionType.efiSystem, o.partitionSizes.ukiEFI), part('META', PartitionType.linuxData, o.partitionSizes.meta)];
  if (o.dataPartitions) {
    parts.push(part('STATE', PartitionType.linuxData, o.partitionSizes.state), part('EPHEMERAL', PartitionType.linuxData, 0));
  }
  return parts;
}

/** The GPT of a Talos disk image. */
export function planTalosDisk(o: DiskLayoutOptions): GptTable {
  return planGpt({ diskSize: o.diskSize, sectorSize: o.sectorSize ?? 512, diskGuid: TALOS_DISK_GUID }, talosPartitions(o));
}
