/**
 * The file allocation table: one entry per cluster, 12, 16 or 32 bits wide (fatgen103 §4). Entries 0
 * and 1 are reserved (media byte; end-of-chain and "clean" bits). We allocate every file as one
 * contiguous run, so the table is a list of runs.
 */
import type { FatType } from './geometry.js';

export const EOC: Record<FatType, number> = { 12: 0xfff, 16: 0xffff, 32: 0x0fffffff };
export const BAD: Record<FatType, number> = { 12: 0xff7, 16: 0xfff7, 32: 0x0ffffff7 };

/** A contiguous chain: clusters `first … first + count − 1`. */
export interface ClusterRun {
  first: number;
  count: number;
}

/**
 * The bytes of the FAT's used prefix: entries 0 … last used cluster, padded to whole sectors. The
 * rest of the FAT is zeros (free clusters) and can stay a hole.
 */
export function encodeFatPrefix(fatType: FatType, media: number, runs: ClusterRun[], sectorSize: number): Buffer {
  let last = 1;
  for (const r of runs) if (r.count > 0) last = Math.max(last, r.first + r.count - 1);
  const values = new Uint32Array(last + 1);
  values[0] = (EOC[fatType] & ~0xff) | media;
  values[1] = EOC[fatType];
  for (const r of runs) {
    for (let i = 0; i < r.count - 1; i++) values[r.first + i] = r.first + i + 1;
    if (r.count > 0) values[r.first + r.count - 1] = EOC[fatType];
  }
  const bytes = fatType === 12 ? Math.ceil(((last + 1) * 3) / 2) : (last + 1) * (fatType / 8);
  const out = Buffer.alloc(Math.ceil(bytes / sectorSize) * sectorSize);
  if (fatType === 32) {
    for (let i = 0; i <= last; i++) out.writeUInt32LE(values[i]!, i * 4);
  } else if (fatType === 16) {
    for (let i = 0; i <= last; i++) out.writeUInt16LE(values[i]!, i * 2);
  } else {
    for (let i = 0; i <= last; i++) writeFat12(out, i, values[i]!);
  }
  return out;
}

function writeFat12(out: Buffer, cluster: number, value: number): void {
  const at = cluster + (cluster >> 1);
  if (cluster & 1) {
    out[at] = (out[at]! & 0x0f) | ((value & 0x0f) << 4);
    out[at + 1] = (value >> 4) & 0xff;
  } else {
    out[at] = value & 0xff;
    out[at + 1] = (out[at + 1]! & 0xf0) | ((value >> 8) & 0x0f);
  }
}

/** Read entry `cluster` from FAT bytes that start at entry 0. */
export function readFatEntry(fatType: FatType, fat: Buffer, cluster: number): number {
  if (fatType === 32) return fat.readUInt32LE(cluster * 4) & 0x0fffffff;
  if (fatType === 16) return fat.readUInt16LE(cluster * 2);
  const at = cluster + (cluster >> 1);
  const v = fat.readUInt16LE(at);
  return cluster & 1 ? v >> 4 : v & 0x0fff;
}

/** Byte range in the FAT that holds entry `cluster`. */
export function fatEntryRange(fatType: FatType, cluster: number): { offset: number; length: number } {
  if (fatType === 12) return { offset: cluster + (cluster >> 1), length: 2 };
  return { offset: (cluster * fatType) / 8, length: fatType / 8 };
}
