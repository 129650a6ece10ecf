/**
 * FAT geometry chosen the way `mkfs.fat` 4.2 (dosfstools) chooses it for an image file, so that an
 * ESP we write has the cluster size, FAT size and data offset `mkfs.vfat -F 32` would give it
 * (talos-imager.md §9.4): CHS heads/sectors from the size, floppy presets for floppy sizes, the
 * FAT32 cluster size table (≤ 260 MiB: 1 sector, ≤ 8 GiB: 8, ≤ 16 GiB: 16, ≤ 32 GiB: 32, else 64),
 * the sector count rounded down to whole tracks, reserved sectors and FAT lengths aligned to the
 * cluster size, and the cluster-count search that doubles the cluster size until the type fits.
 */
import { invalidInput } from '../../core/errors.js';

export type FatType = 12 | 16 | 32;

export const MAX_CLUSTERS_12 = 4084;
export const MIN_CLUSTERS_16 = 4087;
export const MAX_CLUSTERS_16 = 65524;
export const MIN_CLUSTERS_32 = 65525;
export const MAX_CLUSTERS_32 = 268435446;

export interface FatGeometryOptions {
  /** Bytes available for the filesystem (the partition size). */
  size: number;
  /** Logical sector size (mkfs `-S`). Default 512. */
  sectorSize?: number;
  /** FAT width (mkfs `-F`); default: what mkfs.fat picks (FAT32 from 512 MiB, else FAT12/16). */
  fatType?: FatType;
  /** Sectors per cluster (mkfs `-s`); default: mkfs.fat's choice. */
  sectorsPerCluster?: number;
  /** Number of FATs (mkfs `-f`). Default 2. */
  fatCount?: number;
}

export interface FatGeometry {
  fatType: FatType;
  sectorSize: number;
  sectorsPerCluster: number;
  /** Bytes per cluster. */
  clusterSize: number;
  reservedSectors: number;
  fatCount: number;
  /** Sectors per FAT. */
  fatSectors: number;
  /** Root directory slots (FAT12/16; 0 on FAT32). */
  rootEntries: number;
  rootDirSectors: number;
  /** Sectors the filesystem spans (≤ size / sectorSize; mkfs rounds down to whole tracks). */
  totalSectors: number;
  /** Data clusters, numbered 2 … clusterCount + 1. */
  clusterCount: number;
  /** First sector of the data area (cluster 2). */
  dataStartSector: number;
  media: number;
  sectorsPerTrack: number;
  heads: number;
  /** FAT32 only: FSInfo sector and backup boot sector. */
  fsInfoSector: number;
  backupBootSector: number;
}

const cdiv = (a: number, b: number) => Math.ceil(a / b);

interface Floppy {
  sectorsPerTrack: number;
  heads: number;
  media: number;
  clusterSectors: number;
  rootEntries: number;
}
/** mkfs.fat presets for image files whose size is a floppy size (in KiB). */
const FLOPPIES: Record<number, Floppy> = {
  360: { sectorsPerTrack: 9, heads: 2, media: 0xfd, clusterSectors: 2, rootEntries: 112 },
  720: { sectorsPerTrack: 9, heads: 2, media: 0xf9, clusterSectors: 2, rootEntries: 112 },
  1200: { sectorsPerTrack: 15, heads: 2, media: 0xf9, clusterSectors: 1, rootEntries: 224 },
  1440: { sectorsPerTrack: 18, heads: 2, media: 0xf0, clusterSectors: 1, rootEntries: 224 },
  2880: { sectorsPerTrack: 36, heads: 2, media: 0xf0, clusterSectors: 2, rootEntries: 224 },
};

export function planFatGeometry(options: FatGeometryOptions): FatGeometry {
  const ss = options.sectorSize ?? 512;
  if (!Number.isInteger(ss) || ss < 512 || ss > 4096 || (ss & (ss - 1)) !== 0) {
    throw invalidInput('E_SECTOR_SIZE', `FAT sector size must be 512, 1024, 2048 or 4096 bytes, got ${ss}`);
  }
  const size = options.size;
  if (!Number.isSafeInteger(size) || size <= 0) throw invalidInput('E_FAT_SIZE', `FAT size must be a positive byte count, got ${size}`);
  const fatCount = options.fatCount ?? 2;
  if (!Number.isInteger(fatCount) || fatCount < 1 || fatCount > 4) throw invalidInput('E_FAT_SIZE', `FAT count must be 1..4, got ${fatCount}`);
  const userSpc = options.sectorsPerCluster;
  if (userSpc !== undefined && (!Number.isInteger(userSpc) || userSpc < 1 || userSpc > 128 || (userSpc & (userSpc - 1)) !== 0)) {
    throw invalidInput('E_FAT_SIZE', `sectors per cluster must be a power of two 1..128, got ${userSpc}`);
  }

  // establish_params()
  const deviceSectors = Math.floor(size / ss);
  let heads: number;
  let sectorsPerTrack: number;
  if (deviceSectors <= 524288) {
    heads = deviceSectors <= 32768 ? 2 : deviceSectors <= 65536 ? 4 : deviceSectors <= 262144 ? 8 : 16;
    sectorsPerTrack = deviceSectors <= 4096 ? 16 : 32;
  } else {
    heads = deviceSectors <= 16 * 63 * 1024 ? 16 : deviceSectors <= 32 * 63 * 1024 ? 32 : deviceSectors <= 64 * 63 * 1024 ? 64 : deviceSectors <= 128 * 63 * 1024 ? 128 : 255;
    sectorsPerTrack = 63;
  }
  let media = 0xf8;
  let spc = 4;
  let rootEntries = 512;
  const floppy = FLOPPIES[Math.floor(size / 1024)];
  if (floppy) {
    ({ sectorsPerTrack, heads, media } = floppy);
    spc = floppy.clusterSectors;
    rootEntries = floppy.rootEntries;
  }
  let fatType = options.fatType;
  const userFat = fatType !== undefined;
  if (fatType === undefined && size >= 512 * 1024 * 1024) fatType = 32;
  if (fatType === 32) {
    const s = deviceSectors;
    spc = s > 32 * 1024 * 1024 * 2 ? 64 : s > 16 * 1024 * 1024 * 2 ? 32 : s > 8 * 1024 * 1024 * 2 ? 16 : s > 260 * 1024 * 2 ? 8 : 1;
  }

  // setup_tables()
  if (userSpc !== undefined) spc = userSpc;
  if (fatType === 32) rootEntries = 0;
  let reserved = fatType === 32 ? 32 : 1;
  const blocks = Math.floor(size / 1024);
  const orphaned = Math.floor((size % 1024) / ss);
  let totalSectors = Math.min(Math.floor((blocks * 1024) / ss) + orphaned, 0xffffffff);
  let align = true;
  totalSectors = Math.floor(totalSectors / sectorsPerTrack) * sectorsPerTrack;
  const alignObject = (sectors: number, cs: number) => (align ? Math.ceil(sectors / cs) * cs : sectors);
  const rootDirSectorsInitial = cdiv(rootEntries * 32, ss);
  if (totalSectors <= 8192) align = false;

  const maxSpc = userSpc ?? 128;
  let clust12 = 0, clust16 = 0, clust32 = 0;
  let fatLen12 = 0, fatLen16 = 0, fatLen32 = 0;
  for (;;) {
    const fatdata32 = totalSectors - alignObject(reserved, spc);
    const fatdata1216 = fatdata32 - alignObject(rootDirSectorsInitial, spc);

    clust12 = Math.floor((2 * (fatdata1216 * ss + fatCount * 3)) / (2 * spc * ss + fatCount * 3));
    fatLen12 = alignObject(cdiv(((clust12 + 2) * 3 + 1) >> 1, ss), spc);
    clust12 = Math.floor((fatdata1216 - fatCount * fatLen12) / spc);
    const max12 = Math.min(Math.floor((fatLen12 * 2 * ss) / 3), MAX_CLUSTERS_12);
    if (clust12 > max12 || clust12 < 0) clust12 = 0;

    clust16 = Math.floor((fatdata1216 * ss + fatCount * 4) / (spc * ss + fatCount * 2));
    fatLen16 = alignObject(cdiv((clust16 + 2) * 2, ss), spc);
    clust16 = Math.floor((fatdata1216 - fatCount * fatLen16) / spc);
    const max16 = Math.min(Math.floor((fatLen16 * ss) / 2), MAX_CLUSTERS_16);
    if (clust16 > max16 || clust16 < 0) clust16 = 0;
    if (clust16 && clust16 < MIN_CLUSTERS_16) clust16 = 0;

    clust32 = Math.floor((fatdata32 * ss + fatCount * 8) / (spc * ss + fatCount * 4));
    fatLen32 = alignObject(cdiv((clust32 + 2) * 4, ss), spc);
    clust32 = Math.floor((fatdata32 - fatCount * fatLen32) / spc);
    const max32 = Math.min(Math.floor((fatLen32 * ss) / 4), MAX_CLUSTERS_32);
    if (clust32 > max32 || clust32 < 0) clust32 = 0;
    if (clust32 && clust32 < MIN_CLUSTERS_32 && !(userFat && fatType === 32)) clust32 = 0;

    if ((clust12 && (fatType === undefined || fatType === 12)) || (clust16 && (fatType === undefined || fatType === 16)) || (clust32 && fatType === 32)) break;
    spc *= 2;
    if (spc > maxSpc) {
      throw invalidInput('E_FAT_SIZE', `${size} bytes is too small or too large for FAT${fatType ?? ''} with ${ss}-byte sectors`);
    }
  }
  if (fatType === undefined) fatType = clust16 > clust12 ? 16 : 12;
  const clusterCount = fatType === 12 ? clust12 : fatType === 16 ? clust16 : clust32;
  const fatSectors = fatType === 12 ? fatLen12 : fatType === 16 ? fatLen16 : fatLen32;
  if (!clusterCount) throw invalidInput('E_FAT_SIZE', `${size} bytes is too small or too large for FAT${fatType}`);
  reserved = alignObject(reserved, spc);
  if (fatType !== 32 && align) rootEntries = alignObject(rootDirSectorsInitial, spc) * (ss >> 5);
  const rootDirSectors = cdiv(rootEntries * 32, ss);
  const dataStartSector = reserved + fatCount * fatSectors + rootDirSectors;
  // mkfs.fat: "Too few blocks for viable filesystem"
  const dataStartBlock = Math.ceil((dataStartSector * (ss / 512)) / 2);
  if (blocks < dataStartBlock + 32) throw invalidInput('E_FAT_SIZE', `${size} bytes is too small for a FAT filesystem`);

  return {
    fatType,
    sectorSize: ss,
    sectorsPerCluster: spc,
    clusterSize: spc * ss,
    reservedSectors: reserved,
    fatCount,
    fatSectors,
    rootEntries,
    rootDirSectors,
    totalSectors,
    clusterCount,
    dataStartSector,
    media,
    sectorsPerTrack,
    heads,
    fsInfoSector: fatType === 32 ? 1 : 0,
    backupBootSector: fatType === 32 ? (reserved >= 7 ? 6 : reserved >= 4 ? reserved - 2 : reserved >= 3 ? reserved - 1 : 0) : 0,
  };
}

/** Byte offset of a cluster (≥ 2) from the start of the filesystem. */
export function clusterOffset(g: FatGeometry, cluster: number): number {
  return (g.dataStartSector + (cluster - 2) * g.sectorsPerCluster) * g.sectorSize;
}
