/**
 * The FAT boot sector (BIOS parameter block) and the FAT32 FSInfo sector (Microsoft FAT spec
 * "fatgen103" §3, §5). All integers little-endian. The boot code is a stub that hands control back to
 * the BIOS (`int 18h`): an ESP is never booted through its boot sector.
 */
import { invalidInput } from '../../core/errors.js';
import type { FatGeometry, FatType } from './geometry.js';

export const OEM_NAME = 'imagekit';
export const FSINFO_LEAD = 0x41615252; // "RRaA"
export const FSINFO_STRUCT = 0x61417272; // "rrAa"
export const FSINFO_TRAIL = 0xaa550000;

export interface BootSectorFields {
  geometry: FatGeometry;
  volumeId: number;
  /** 11-byte padded volume label (already validated), or "NO NAME    ". */
  label: string;
  hiddenSectors: number;
}

/** Boot code: `int 18h` (no bootable OS here, let the BIOS try the next device), then `hlt; jmp $-1`. */
const BOOT_STUB = [0xcd, 0x18, 0xf4, 0xeb, 0xfd];

export function encodeBootSector(f: BootSectorFields): Buffer {
  const g = f.geometry;
  const s = Buffer.alloc(g.sectorSize);
  const fat32 = g.fatType === 32;
  const codeOffset = fat32 ? 90 : 62;
  s.set([0xeb, codeOffset - 2, 0x90], 0);
  s.write(OEM_NAME, 3, 8, 'latin1');
  s.writeUInt16LE(g.sectorSize, 11);
  s[13] = g.sectorsPerCluster;
  s.writeUInt16LE(g.reservedSectors, 14);
  s[16] = g.fatCount;
  s.writeUInt16LE(g.rootEntries, 17);
  if (g.totalSectors < 65536) s.writeUInt16LE(g.totalSectors, 19);
  else s.writeUInt32LE(g.totalSectors, 32);
  s[21] = g.media;
  s.writeUInt16LE(fat32 ? 0 : g.fatSectors, 22);
  s.writeUInt16LE(g.sectorsPerTrack, 24);
  s.writeUInt16LE(g.heads, 26);
  s.writeUInt32LE(f.hiddenSectors >>> 0, 28);
  let vi: number;
  if (fat32) {
    s.writeUInt32LE(g.fatSectors, 36);
    s.writeUInt16LE(0, 40); // FAT mirroring on, active FAT 0
    s.writeUInt16LE(0, 42); // version 0.0
    s.writeUInt32LE(2, 44); // root directory cluster
    s.writeUInt16LE(g.fsInfoSector, 48);
    s.writeUInt16LE(g.backupBootSector, 50);
    vi = 64;
  } else {
    vi = 36;
  }
  s[vi] = g.media === 0xf8 ? 0x80 : 0x00; // drive number
  s[vi + 2] = 0x29; // extended boot signature: the next three fields are valid
  s.writeUInt32LE(f.volumeId >>> 0, vi + 3);
  s.write(f.label, vi + 7, 11, 'latin1');
  s.write(fat32 ? 'FAT32   ' : g.fatType === 16 ? 'FAT16   ' : 'FAT12   ', vi + 18, 8, 'latin1');
  s.set(BOOT_STUB, codeOffset);
  s[510] = 0x55;
  s[511] = 0xaa;
  return s;
}

export function encodeFsInfo(sectorSize: number, freeClusters: number, nextFree: number): Buffer {
  const s = Buffer.alloc(sectorSize);
  s.writeUInt32LE(FSINFO_LEAD, 0);
  s.writeUInt32LE(FSINFO_STRUCT, 484);
  s.writeUInt32LE(freeClusters >>> 0, 488);
  s.writeUInt32LE(nextFree >>> 0, 492);
  s.writeUInt32LE(FSINFO_TRAIL, 508);
  return s;
}

/** What a reader learns from the boot sector, after checking it. */
export interface ParsedBootSector {
  fatType: FatType;
  oemName: string;
  sectorSize: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  fatCount: number;
  rootEntries: number;
  totalSectors: number;
  media: number;
  fatSectors: number;
  sectorsPerTrack: number;
  heads: number;
  hiddenSectors: number;
  rootCluster: number;
  fsInfoSector: number;
  backupBootSector: number;
  /** Present when the extended boot signature (0x28/0x29) is there. */
  volumeId: number | null;
  label: string | null;
  fsTypeText: string | null;
  rootDirSectors: number;
  dataStartSector: number;
  clusterCount: number;
}

const isPow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;

/**
 * Parse and check a boot sector. The FAT type follows from the cluster count, as the FAT spec says
 * (< 4085: FAT12, < 65525: FAT16, else FAT32); the BPB shape must agree with it.
 */
export function decodeBootSector(sector: Uint8Array, what: string, imageSize?: number): ParsedBootSector {
  const s = Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength);
  const bad = (msg: string) => invalidInput('E_FAT_BOOT_SECTOR', `${what}: ${msg}`);
  if (s.length < 512) throw bad('shorter than 512 bytes');
  if (!(s[0] === 0xeb && s[2] === 0x90) && s[0] !== 0xe9) throw bad('no x86 jump at the start of the boot sector');
  if (s[510] !== 0x55 || s[511] !== 0xaa) throw bad('no boot signature 55 AA');
  const sectorSize = s.readUInt16LE(11);
  if (sectorSize < 512 || sectorSize > 4096 || !isPow2(sectorSize)) throw bad(`bytes per sector ${sectorSize} is not 512..4096`);
  const spc = s[13]!;
  if (!isPow2(spc)) throw bad(`sectors per cluster ${spc} is not a power of two`);
  const reservedSectors = s.readUInt16LE(14);
  if (reservedSectors < 1) throw bad('no reserved sectors');
  const fatCount = s[16]!;
  if (fatCount < 1 || fatCount > 4) throw bad(`FAT count ${fatCount} is not 1..4`);
  const rootEntries = s.readUInt16LE(17);
  const total16 = s.readUInt16LE(19);
  const totalSectors = total16 !== 0 ? total16 : s.readUInt32LE(32);
  if (totalSectors === 0) throw bad('total sector count is 0');
  if (imageSize !== undefined && totalSectors * sectorSize > imageSize) {
    throw bad(`boot sector claims ${totalSectors * sectorSize} bytes, the image has ${imageSize}`);
  }
  const media = s[21]!;
  const fat16Len = s.readUInt16LE(22);
  const isFat32Bpb = fat16Len === 0;
  const fatSectors = isFat32Bpb ? s.readUInt32LE(36) : fat16Len;
  if (fatSectors === 0) throw bad('FAT length is 0');
  if (isFat32Bpb && rootEntries !== 0) throw bad('FAT32 boot sector with a fixed root directory');
  if ((rootEntries * 32) % sectorSize !== 0) throw bad(`root directory of ${rootEntries} entries does not fill whole sectors`);
  const rootDirSectors = (rootEntries * 32) / sectorSize;
  const dataStartSector = reservedSectors + fatCount * fatSectors + rootDirSectors;
  if (dataStartSector >= totalSectors) throw bad(`data area starts at sector ${dataStartSector}, beyond the ${totalSectors} sectors`);
  const clusterCount = Math.floor((totalSectors - dataStartSector) / spc);
  const fatType: FatType = clusterCount < 4085 ? 12 : clusterCount < 65525 ? 16 : 32;
  if ((fatType === 32) !== isFat32Bpb) {
    // A FAT32 BPB with few clusters is what `mkfs.vfat -F 32` makes for small sizes; Linux and mtools
    // read it as FAT32 too. The reverse (FAT12/16 BPB with ≥ 65525 clusters) is corrupt.
    if (!isFat32Bpb) throw bad(`${clusterCount} clusters need FAT32 but the boot sector is FAT12/16-shaped`);
  }
  const type: FatType = isFat32Bpb ? 32 : fatType;
  const entriesPerFat = Math.floor((fatSectors * sectorSize * 8) / type);
  if (entriesPerFat < clusterCount + 2) throw bad(`FAT of ${fatSectors} sectors cannot map ${clusterCount} clusters`);
  const vi = type === 32 ? 64 : 36;
  const hasExt = s[vi + 2] === 0x29 || s[vi + 2] === 0x28;
  const full = s[vi + 2] === 0x29;
  const rootCluster = type === 32 ? s.readUInt32LE(44) : 0;
  if (type === 32 && (rootCluster < 2 || rootCluster >= clusterCount + 2)) throw bad(`root cluster ${rootCluster} is out of range`);
  return {
    fatType: type,
    oemName: s.subarray(3, 11).toString('latin1'),
    sectorSize,
    sectorsPerCluster: spc,
    reservedSectors,
    fatCount,
    rootEntries,
    totalSectors,
    media,
    fatSectors,
    sectorsPerTrack: s.readUInt16LE(24),
    heads: s.readUInt16LE(26),
    hiddenSectors: s.readUInt32LE(28),
    rootCluster,
    fsInfoSector: type === 32 ? s.readUInt16LE(48) : 0,
    backupBootSector: type === 32 ? s.readUInt16LE(50) : 0,
    volumeId: hasExt ? s.readUInt32LE(vi + 3) : null,
    label: full ? s.subarray(vi + 7, vi + 18).toString('latin1') : null,
    fsTypeText: full ? s.subarray(vi + 18, vi + 26).toString('latin1') : null,
    rootDirSectors,
    dataStartSector,
    clusterCount,
  };
}

export interface ParsedFsInfo {
  freeClusters: number;
  nextFree: number;
}

export function decodeFsInfo(sector: Uint8Array): ParsedFsInfo | null {
  const s = Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength);
  if (s.length < 512 || s.readUInt32LE(0) !== FSINFO_LEAD || s.readUInt32LE(484) !== FSINFO_STRUCT) return null;
  return { freeClusters: s.readUInt32LE(488), nextFree: s.readUInt32LE(492) };
}
