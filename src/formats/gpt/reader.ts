/**
 * GPT reader that checks everything a firmware or `sgdisk -v` would (talos-imager.md §9.3): the
 * protective MBR, both headers (signature, revision, size, CRC32, self/alternate LBAs, usable range),
 * both entry arrays (size and count sanity, position, CRC32, equality), and every used entry (order,
 * bounds, overlaps, duplicate GUIDs). Any violation is a one-line `invalidInput` error; oddities that
 * tools tolerate (a backup header not at the very end, a PMBR size that does not match) are warnings.
 */
import { crc32 } from 'node:zlib';
import { invalidInput } from '../../core/errors.js';
import { readExact, type ByteReader } from './byte-reader.js';
import { decodeGptHeader, GPT_SIGNATURE, type GptHeader } from './header.js';
import { decodePartitionEntry, GPT_ENTRY_SIZE } from './partition-entry.js';
import { decodeProtectiveMbr, type ProtectiveMbr } from './protective-mbr.js';
import { entryArraySectors, type GptPartition, type GptTable } from './table.js';

/** Upper bound on an entry array we are willing to read (the usual one is 16 KiB). */
const MAX_ENTRY_ARRAY_BYTES = 4 * 1024 * 1024;

export interface ReadGptOptions {
  /** Force a sector size; by default 512 and then 4096 are tried. */
  sectorSize?: number;
  /** Name of the image in error messages. */
  name?: string;
}

export interface GptReadResult {
  table: GptTable;
  protectiveMbr: ProtectiveMbr;
  warnings: string[];
}

const hex32 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** Does the image carry a GPT signature at LBA 1 for this sector size? */
async function hasSignatureAt(reader: ByteReader, sectorSize: number): Promise<boolean> {
  if (reader.size < sectorSize * 2) return false;
  const b = await reader.read(sectorSize, 8);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1') === GPT_SIGNATURE;
}

export async function detectGptSectorSize(reader: ByteReader): Promise<number | null> {
  for (const ss of [512, 4096]) if (await hasSignatureAt(reader, ss)) return ss;
  return null;
}

async function readEntries(reader: ByteReader, h: GptHeader, ss: number, what: string): Promise<Buffer> {
  const bytes = h.entryCount * h.entrySize;
  const arr = await readExact(reader, h.entriesLba * ss, bytes, `${what} entry array`);
  const computed = crc32(arr);
  if (computed !== h.entriesCrc) {
    throw invalidInput('E_GPT_CRC', `${what} entry array CRC32 mismatch (stored ${hex32(h.entriesCrc)}, computed ${hex32(computed)})`);
  }
  return arr;
}

export async function readGpt(reader: ByteReader, options: ReadGptOptions = {}): Promise<GptReadResult> {
  const name = options.name ?? 'disk';
  const warnings: string[] = [];
  const ss = options.sectorSize ?? (await detectGptSectorSize(reader));
  if (ss === null) throw invalidInput('E_GPT_NO_HEADER', `${name}: no GPT header at LBA 1 (tried 512- and 4096-byte sectors)`);
  if (reader.size % ss !== 0) warnings.push(`image size ${reader.size} is not a multiple of the ${ss}-byte sector`);
  const lastLba = Math.floor(reader.size / ss) - 1;
  if (lastLba < 33) throw invalidInput('E_GPT_LAYOUT', `${name}: ${reader.size} bytes is too small for a GPT`);

  const pmbr = decodeProtectiveMbr(await readExact(reader, 0, 512, `${name} LBA 0`), name);
  if (pmbr.startLba !== 1) throw invalidInput('E_GPT_PMBR', `${name}: protective MBR partition starts at LBA ${pmbr.startLba}, not 1`);
  const expectPmbrSize = Math.min(lastLba, 0xffffffff);
  if (pmbr.sizeLba !== expectPmbrSize) warnings.push(`protective MBR covers ${pmbr.sizeLba} sectors, expected ${expectPmbrSize}`);

  const primaryWhat = `${name} primary GPT header`;
  const h = decodeGptHeader(await readExact(reader, ss, ss, primaryWhat), primaryWhat);
  if (h.myLba !== 1) throw invalidInput('E_GPT_HEADER', `${primaryWhat}: MyLBA is ${h.myLba}, not 1`);
  if (h.entrySize < GPT_ENTRY_SIZE || h.entrySize % GPT_ENTRY_SIZE !== 0 || (h.entrySize & (h.entrySize - 1)) !== 0) {
    throw invalidInput('E_GPT_ENTRIES', `${primaryWhat}: entry size ${h.entrySize} is not 128 × 2^n`);
  }
  if (h.entryCount < 1 || h.entryCount * h.entrySize > MAX_ENTRY_ARRAY_BYTES) {
    throw invalidInput('E_GPT_ENTRIES', `${primaryWhat}: ${h.entryCount} entries of ${h.entrySize} bytes is not a sane entry array`);
  }
  const arraySectors = entryArraySectors(h.entryCount, h.entrySize, ss);
  if (h.alternateLba <= 1 || h.alternateLba > lastLba) {
    throw invalidInput('E_GPT_HEADER', `${primaryWhat}: backup header LBA ${h.alternateLba} is outside the disk (last LBA ${lastLba})`);
  }
  if (h.alternateLba !== lastLba) warnings.push(`backup header at LBA ${h.alternateLba}, not at the last LBA ${lastLba}`);
  if (h.entriesLba < 2 || h.entriesLba + arraySectors > h.firstUsableLba) {
    throw invalidInput('E_GPT_LAYOUT', `${primaryWhat}: entry array at LBA ${h.entriesLba} (+${arraySectors}) overlaps the usable area from LBA ${h.firstUsableLba}`);
  }
  if (h.firstUsableLba > h.lastUsableLba + 1 || h.lastUsableLba >= h.alternateLba) {
    throw invalidInput('E_GPT_LAYOUT', `${primaryWhat}: usable LBAs ${h.firstUsableLba}..${h.lastUsableLba} are inconsistent with the backup header at ${h.alternateLba}`);
  }
  const entries = await readEntries(reader, h, ss, `${name} primary`);

  const backupWhat = `${name} backup GPT header`;
  const b = decodeGptHeader(await readExact(reader, h.alternateLba * ss, ss, backupWhat), backupWhat);
  if (b.myLba !== h.alternateLba || b.alternateLba !== 1) {
    throw invalidInput('E_GPT_HEADER', `${backupWhat}: MyLBA/AlternateLBA are ${b.myLba}/${b.alternateLba}, expected ${h.alternateLba}/1`);
  }
  for (const k of ['firstUsableLba', 'lastUsableLba', 'diskGuid', 'entryCount', 'entrySize', 'entriesCrc'] as const) {
    if (b[k] !== h[k]) throw invalidInput('E_GPT_MISMATCH', `${backupWhat}: ${k} ${String(b[k])} differs from the primary's ${String(h[k])}`);
  }
  if (b.entriesLba <= h.lastUsableLba || b.entriesLba + arraySectors > b.myLba) {
    throw invalidInput('E_GPT_LAYOUT', `${backupWhat}: entry array at LBA ${b.entriesLba} is not between the usable area and the backup header`);
  }
  const backupEntries = await readEntries(reader, b, ss, `${name} backup`);
  if (!backupEntries.equals(entries)) throw invalidInput('E_GPT_MISMATCH', `${name}: primary and backup entry arrays differ`);

  const partitions: GptPartition[] = [];
  for (let i = 0; i < h.entryCount; i++) {
    const what = `${name} GPT entry ${i + 1}`;
    const e = decodePartitionEntry(entries.subarray(i * h.entrySize, i * h.entrySize + GPT_ENTRY_SIZE), what);
    if (!e) continue;
    if (e.firstLba > e.lastLba) throw invalidInput('E_GPT_ENTRY', `${what}: first LBA ${e.firstLba} is after last LBA ${e.lastLba}`);
    if (e.firstLba < h.firstUsableLba || e.lastLba > h.lastUsableLba) {
      throw invalidInput('E_GPT_ENTRY', `${what} (${JSON.stringify(e.name)}): LBAs ${e.firstLba}..${e.lastLba} are outside the usable ${h.firstUsableLba}..${h.lastUsableLba}`);
    }
    partitions.push({ ...e, index: i + 1 });
  }
  const byStart = [...partitions].sort((x, y) => x.firstLba - y.firstLba);
  for (let i = 1; i < byStart.length; i++) {
    const prev = byStart[i - 1]!;
    const cur = byStart[i]!;
    if (cur.firstLba <= prev.lastLba) {
      throw invalidInput('E_GPT_OVERLAP', `${name}: partitions ${prev.index} and ${cur.index} overlap (LBA ${cur.firstLba} ≤ ${prev.lastLba})`);
    }
  }
  const seen = new Set<string>();
  for (const p of partitions) {
    if (seen.has(p.guid)) throw invalidInput('E_GPT_ENTRY', `${name}: partition GUID ${p.guid} is used twice`);
    seen.add(p.guid);
  }

  return {
    table: {
      sectorSize: ss,
      lastLba: h.alternateLba,
      diskGuid: h.diskGuid,
      primaryEntriesLba: h.entriesLba,
      backupEntriesLba: b.entriesLba,
      firstUsableLba: h.firstUsableLba,
      lastUsableLba: h.lastUsableLba,
      entryCount: h.entryCount,
      entrySize: h.entrySize,
      partitions,
    },
    protectiveMbr: pmbr,
    warnings,
  };
}
