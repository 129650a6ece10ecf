/**
 * A GPT partition table in memory and its layout planner. The planner follows go-blockdevice, which
 * Talos uses (talos-imager.md §9.3): 128 entries of 128 bytes, entries at LBA 2 (+ skipped LBAs),
 * backup entries just before the backup header at the last LBA, FirstUsableLBA rounded up to the
 * alignment (max(sector, 1 MiB)), and each partition placed in the smallest aligned free range that
 * fits ("best fit"), so Talos's whole-MiB partitions sit back to back from LBA 2048.
 */
import { invalidInput } from '../../core/errors.js';
import { normalizeGuid } from './guid.js';
import { encodePartitionName, GPT_ENTRY_SIZE, type GptPartitionEntry } from './partition-entry.js';

export interface GptPartition extends GptPartitionEntry {
  /** 1-based position in the entry array (the Linux partition number). */
  index: number;
}

export interface GptTable {
  /** Logical sector size in bytes. */
  sectorSize: number;
  /** Last LBA of the disk (sectors − 1); the backup header lives here. */
  lastLba: number;
  diskGuid: string;
  primaryEntriesLba: number;
  backupEntriesLba: number;
  firstUsableLba: number;
  lastUsableLba: number;
  entryCount: number;
  entrySize: number;
  /** Used entries in entry-array order. */
  partitions: GptPartition[];
}

export interface GptPartitionRequest {
  name: string;
  typeGuid: string;
  /** Unique partition GUID. */
  guid: string;
  /** Size in bytes, a multiple of the sector size; 0 = the largest contiguous free range. */
  size: number;
  attributes?: bigint;
}

export interface GptPlanOptions {
  /** Disk size in bytes, a multiple of `sectorSize`. */
  diskSize: number;
  /** Logical sector size: 512 (default) or 4096 (`diskSectorSize`). */
  sectorSize?: number;
  diskGuid: string;
  /** Number of entries in each array. Default 128. */
  entryCount?: number;
  /** Partition alignment in bytes; default max(sector, 1 MiB) as go-blockdevice. */
  alignment?: number;
  /** LBAs left free between the primary header and the primary entries (overlay `partitionOptions.offset`). Default 0. */
  skipLbas?: number;
}

const MIB = 1024 * 1024;

export function checkSectorSize(sectorSize: number, what = 'sector size'): void {
  if (!Number.isInteger(sectorSize) || sectorSize < 512 || sectorSize > 4096 || (sectorSize & (sectorSize - 1)) !== 0) {
    throw invalidInput('E_SECTOR_SIZE', `${what} must be 512, 1024, 2048 or 4096 bytes, got ${sectorSize}`);
  }
}

/** Sectors taken by an entry array. */
export function entryArraySectors(entryCount: number, entrySize: number, sectorSize: number): number {
  return Math.ceil((entryCount * entrySize) / sectorSize);
}

interface FreeRange {
  low: number;
  /** Exclusive, aligned down. */
  high: number;
  /** Insert position in the LBA-ordered partition list. */
  position: number;
}

function freeRanges(parts: GptPartitionEntry[], firstUsable: number, lastUsable: number, align: number): FreeRange[] {
  const ranges: FreeRange[] = [];
  let low = firstUsable;
  for (let i = 0; i <= parts.length; i++) {
    const high = i < parts.length ? parts[i]!.firstLba - 1 : lastUsable;
    const lowA = Math.ceil(low / align) * align;
    const highA = Math.floor(high / align) * align;
    if (highA > lowA) ranges.push({ low: lowA, high: highA, position: i });
    if (i < parts.length) low = parts[i]!.lastLba + 1;
  }
  return ranges;
}

/** Lay out an empty table and allocate the requested partitions in order. */
export function planGpt(options: GptPlanOptions, requests: GptPartitionRequest[]): GptTable {
  const sectorSize = options.sectorSize ?? 512;
  checkSectorSize(sectorSize);
  const { diskSize } = options;
  if (!Number.isSafeInteger(diskSize) || diskSize <= 0 || diskSize % sectorSize !== 0) {
    throw invalidInput('E_DISK_SIZE', `disk size ${diskSize} is not a positive multiple of the ${sectorSize}-byte sector`);
  }
  const entryCount = options.entryCount ?? 128;
  if (!Number.isInteger(entryCount) || entryCount < 1 || entryCount > 4096) {
    throw invalidInput('E_GPT_ENTRIES', `GPT entry count must be 1..4096, got ${entryCount}`);
  }
  const skip = options.skipLbas ?? 0;
  if (!Number.isSafeInteger(skip) || skip < 0) throw invalidInput('E_GPT_LAYOUT', `skipped LBAs must be ≥ 0, got ${skip}`);
  const alignBytes = options.alignment ?? Math.max(sectorSize, MIB);
  if (!Number.isSafeInteger(alignBytes) || alignBytes < sectorSize || alignBytes % sectorSize !== 0) {
    throw invalidInput('E_GPT_LAYOUT', `alignment ${alignBytes} is not a multiple of the ${sectorSize}-byte sector`);
  }
  const align = alignBytes / sectorSize;
  const lastLba = diskSize / sectorSize - 1;
  const arraySectors = entryArraySectors(entryCount, GPT_ENTRY_SIZE, sectorSize);
  const primaryEntriesLba = 2 + skip;
  const backupEntriesLba = lastLba - arraySectors;
  const firstUsableLba = Math.ceil((primaryEntriesLba + arraySectors) / align) * align;
  const lastUsableLba = backupEntriesLba - 1;
  if (lastLba < 33 || firstUsableLba > lastUsableLba) {
    throw invalidInput('E_DISK_SIZE', `disk of ${diskSize} bytes is too small for a GPT with ${sectorSize}-byte sectors`);
  }
  if (requests.length > entryCount) {
    throw invalidInput('E_GPT_ENTRIES', `${requests.length} partitions do not fit ${entryCount} GPT entries`);
  }

  const parts: GptPartitionEntry[] = [];
  for (const req of requests) {
    encodePartitionName(req.name);
    if (!Number.isSafeInteger(req.size) || req.size < 0 || req.size % sectorSize !== 0) {
      throw invalidInput('E_GPT_LAYOUT', `partition ${JSON.stringify(req.name)}: size ${req.size} is not a multiple of the ${sectorSize}-byte sector`);
    }
    const ranges = freeRanges(parts, firstUsableLba, lastUsableLba, align);
    let chosen: FreeRange | undefined;
    let sectors: number;
    if (req.size === 0) {
      for (const r of ranges) if (!chosen || r.high - r.low > chosen.high - chosen.low) chosen = r;
      sectors = chosen ? chosen.high - chosen.low : 0;
    } else {
      sectors = req.size / sectorSize;
      for (const r of ranges) {
        const free = r.high - r.low;
        if (free >= sectors && (!chosen || free < chosen.high - chosen.low)) chosen = r;
      }
    }
    if (!chosen || sectors === 0) {
      throw invalidInput(
        'E_DISK_TOO_SMALL',
        `partition ${JSON.stringify(req.name)} (${req.size === 0 ? 'rest of disk' : `${req.size} bytes`}) does not fit on a ${diskSize}-byte disk`,
      );
    }
    parts.splice(chosen.position, 0, {
      name: req.name,
      typeGuid: normalizeGuid(req.typeGuid),
      guid: normalizeGuid(req.guid),
      firstLba: chosen.low,
      lastLba: chosen.low + sectors - 1,
      attributes: req.attributes ?? 0n,
    });
  }
  return {
    sectorSize,
    lastLba,
    diskGuid: normalizeGuid(options.diskGuid),
    primaryEntriesLba,
    backupEntriesLba,
    firstUsableLba,
    lastUsableLba,
    entryCount,
    entrySize: GPT_ENTRY_SIZE,
    partitions: parts.map((p, i) => ({ ...p, index: i + 1 })),
  };
}

/** Byte range of a partition: `[offset, offset + size)`. */
export function partitionRange(table: GptTable, p: GptPartitionEntry): { offset: number; size: number } {
  return { offset: p.firstLba * table.sectorSize, size: (p.lastLba - p.firstLba + 1) * table.sectorSize };
}

/** Find a partition by name (GPT label). */
export function findPartition(table: GptTable, name: string): GptPartition | undefined {
  return table.partitions.find((p) => p.name === name);
}
