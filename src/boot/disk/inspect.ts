/**
 * `imagekit inspect`: what is on a disk image — the GPT (checked), and for each partition its
 * filesystem: FAT (type, label, serial, cluster size, files), META (ADV keys), all zeros, or unknown.
 * A bare FAT image (no GPT) is reported as one filesystem.
 */
import { decodeBootSector, FatReader, type FatNode } from '../../formats/fat/index.js';
import { detectGptSectorSize, partitionTypeName, readExact, readGpt, sliceReader, type ByteReader } from '../../formats/gpt/index.js';
import { ADV_LENGTH, ADV_MAGIC1, decodeMetaPartition } from '../../formats/meta/index.js';
import { metaKeyName } from './meta-keys.js';

export interface FatReport {
  kind: 'fat';
  fatType: 12 | 16 | 32;
  label: string | null;
  volumeId: string | null;
  sectorSize: number;
  clusterSize: number;
  clusterCount: number;
  freeClusters: number;
  files: FatNode[];
  warnings: string[];
}
export interface MetaReport {
  kind: 'meta';
  state: 'empty' | 'valid' | 'degraded';
  keys: { key: number; name: string; size: number; value: string }[];
}
export type FilesystemReport = FatReport | MetaReport | { kind: 'zeros' } | { kind: 'unknown' } | { kind: 'error'; message: string };

export interface PartitionReport {
  index: number;
  name: string;
  type: string;
  typeName: string;
  guid: string;
  firstLba: number;
  lastLba: number;
  offset: number;
  size: number;
  attributes: string;
  filesystem: FilesystemReport;
}

export interface DiskReport {
  size: number;
  /** Null for a bare filesystem image. */
  gpt: { sectorSize: number; diskGuid: string; firstUsableLba: number; lastUsableLba: number; entryCount: number; warnings: string[] } | null;
  partitions: PartitionReport[];
  /** A bare filesystem image (no partition table). */
  filesystem: FilesystemReport | null;
}

const PROBE = 4096;

async function isFat(reader: ByteReader): Promise<boolean> {
  if (reader.size < 512) return false;
  try {
    decodeBootSector(await readExact(reader, 0, 512, 'probe'), 'probe');
    return true;
  } catch {
    return false;
  }
}

function preview(value: Uint8Array): string {
  const text = Buffer.from(value).toString('utf8');
  const printable = /^[\x20-\x7e\t\n\r]*$/.test(text);
  const shown = printable ? JSON.stringify(text) : `0x${Buffer.from(value.subarray(0, 32)).toString('hex')}${value.length > 32 ? '…' : ''}`;
  return shown.length > 120 ? `${shown.slice(0, 117)}…` : shown;
}

async function inspectFilesystem(reader: ByteReader, label: string, listFiles: boolean, partitionName?: string): Promise<FilesystemReport> {
  const isMetaPartition = partitionName === 'META';
  try {
    if (await isFat(reader)) {
      const v = await FatReader.open(reader, label);
      const files = listFiles ? await v.walk() : [];
      return {
        kind: 'fat',
        fatType: v.info.fatType,
        label: v.info.rootLabel ?? v.info.label?.trimEnd() ?? null,
        volumeId: v.info.volumeId === null ? null : v.info.volumeId.toString(16).toUpperCase().padStart(8, '0').replace(/^(.{4})/, '$1-'),
        sectorSize: v.info.sectorSize,
        clusterSize: v.info.clusterSize,
        clusterCount: v.info.clusterCount,
        freeClusters: v.info.fsInfo?.freeClusters ?? (await v.countFreeClusters()),
        files,
        warnings: v.warnings,
      };
    }
    const head = await readExact(reader, 0, Math.min(PROBE, reader.size), label);
    if (reader.size >= 2 * ADV_LENGTH && (head.readUInt32BE(0) === ADV_MAGIC1 || isMetaPartition)) {
      const bytes = await readExact(reader, 0, 2 * ADV_LENGTH, label);
      const m = decodeMetaPartition(bytes, label);
      if (m.state !== 'empty' || isMetaPartition) {
        return {
          kind: 'meta',
          state: m.state,
          keys: m.tags.map((t) => ({ key: t.tag, name: metaKeyName(t.tag), size: t.value.byteLength, value: preview(t.value) })),
        };
      }
    }
    return head.every((b) => b === 0) ? { kind: 'zeros' } : { kind: 'unknown' };
  } catch (e) {
    return { kind: 'error', message: (e as Error).message };
  }
}

export interface InspectOptions {
  /** Name in messages. Default "disk". */
  name?: string;
  /** Walk FAT filesystems and list their files. Default true. */
  listFiles?: boolean;
}

export async function inspectDisk(reader: ByteReader, options: InspectOptions = {}): Promise<DiskReport> {
  const name = options.name ?? 'disk';
  const listFiles = options.listFiles ?? true;
  if ((await detectGptSectorSize(reader)) === null && (await isFat(reader))) {
    return { size: reader.size, gpt: null, partitions: [], filesystem: await inspectFilesystem(reader, name, listFiles) };
  }
  const { table, warnings } = await readGpt(reader, { name });
  const partitions: PartitionReport[] = [];
  for (const p of table.partitions) {
    const offset = p.firstLba * table.sectorSize;
    const size = (p.lastLba - p.firstLba + 1) * table.sectorSize;
    partitions.push({
      index: p.index,
      name: p.name,
      type: p.typeGuid,
      typeName: partitionTypeName(p.typeGuid),
      guid: p.guid,
      firstLba: p.firstLba,
      lastLba: p.lastLba,
      offset,
      size,
      attributes: `0x${p.attributes.toString(16).padStart(16, '0')}`,
      filesystem: await inspectFilesystem(sliceReader(reader, offset, size), `${name} partition ${p.index} ${p.name}`, listFiles, p.name),
    });
  }
  return {
    size: reader.size,
    gpt: { sectorSize: table.sectorSize, diskGuid: table.diskGuid, firstUsableLba: table.firstUsableLba, lastUsableLba: table.lastUsableLba, entryCount: table.entryCount, warnings },
    partitions,
    filesystem: null,
  };
}

const human = (n: number) => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    u++;
  }
  return u === 0 && n >= 1024 ? `${n} B` : `${v} ${units[u]}`;
};

function describeFilesystem(fs: FilesystemReport, indent: string): string[] {
  switch (fs.kind) {
    case 'fat': {
      const out = [
        `${indent}filesystem: FAT${fs.fatType}, label ${fs.label === null ? '(none)' : JSON.stringify(fs.label)}, serial ${fs.volumeId ?? '(none)'}, ` +
          `${fs.clusterSize}-byte clusters (${fs.clusterCount} clusters, ${fs.freeClusters} free), ${fs.sectorSize}-byte sectors`,
      ];
      for (const w of fs.warnings) out.push(`${indent}warning: ${w}`);
      for (const f of fs.files) out.push(`${indent}  ${f.type === 'dir' ? 'd' : '-'} ${String(f.size).padStart(12)}  ${f.path}${f.type === 'dir' ? '/' : ''}`);
      return out;
    }
    case 'meta':
      if (fs.state === 'empty') return [`${indent}META: empty (all zeros, no values)`];
      return [`${indent}META: Talos ADV, ${fs.state === 'valid' ? 'both copies valid' : 'one copy valid'}, ${fs.keys.length} key(s)`, ...fs.keys.map((k) => `${indent}  ${k.name}: ${k.value} (${k.size} bytes)`)];
    case 'zeros':
      return [`${indent}no filesystem (zeros)`];
    case 'unknown':
      return [`${indent}unknown content`];
    case 'error':
      return [`${indent}error: ${fs.message}`];
  }
}

/** Plain-text rendering for the CLI. */
export function formatDiskReport(r: DiskReport, name: string): string {
  const lines: string[] = [];
  if (!r.gpt) {
    lines.push(`${name}: ${r.size} bytes, no partition table`);
    lines.push(...describeFilesystem(r.filesystem!, ''));
    return lines.join('\n') + '\n';
  }
  lines.push(`${name}: ${r.size} bytes (${human(r.size)}), GPT, ${r.gpt.sectorSize}-byte sectors, disk GUID ${r.gpt.diskGuid}`);
  lines.push(`usable LBAs ${r.gpt.firstUsableLba}..${r.gpt.lastUsableLba}, ${r.gpt.entryCount} entries`);
  for (const w of r.gpt.warnings) lines.push(`warning: ${w}`);
  for (const p of r.partitions) {
    lines.push('');
    lines.push(`#${p.index} ${p.name || '(no name)'}: LBA ${p.firstLba}..${p.lastLba} (${human(p.size)}), ${p.typeName}, GUID ${p.guid}, attributes ${p.attributes}`);
    lines.push(...describeFilesystem(p.filesystem, '  '));
  }
  return lines.join('\n') + '\n';
}
