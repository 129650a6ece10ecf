/**
 * GPT encoder and writer (talos-imager.md §9.3). The table is split into the two byte runs a disk
 * holds — the head (protective MBR, primary header, primary entries) and the tail (backup entries,
 * backup header) — so a disk writer can emit the head, then partition contents, then the tail, in
 * increasing offset order (what a compressing RandomAccessSink needs).
 */
import { crc32 } from 'node:zlib';
import type { RandomAccessSink } from '../../core/sink.js';
import { encodeGptHeader } from './header.js';
import { encodePartitionEntry } from './partition-entry.js';
import { encodeProtectiveMbr } from './protective-mbr.js';
import { entryArraySectors, type GptTable } from './table.js';

export interface EncodedGpt {
  /** Bytes from offset 0: LBA 0 (protective MBR), LBA 1 (primary header), gap, primary entries. */
  head: Buffer;
  /** Absolute offset of `tail`. */
  tailOffset: number;
  /** Backup entries followed by the backup header (up to the end of the disk). */
  tail: Buffer;
}

/** The entry array with every used entry in place. */
export function encodeEntryArray(table: GptTable): Buffer {
  const arr = Buffer.alloc(table.entryCount * table.entrySize);
  for (const p of table.partitions) {
    encodePartitionEntry(p, arr.subarray((p.index - 1) * table.entrySize, p.index * table.entrySize));
  }
  return arr;
}

export function encodeGpt(table: GptTable): EncodedGpt {
  const ss = table.sectorSize;
  const entries = encodeEntryArray(table);
  const entriesCrc = crc32(entries);
  const arraySectors = entryArraySectors(table.entryCount, table.entrySize, ss);
  const common = {
    firstUsableLba: table.firstUsableLba,
    lastUsableLba: table.lastUsableLba,
    diskGuid: table.diskGuid,
    entryCount: table.entryCount,
    entrySize: table.entrySize,
    entriesCrc,
  };

  const head = Buffer.alloc((table.primaryEntriesLba + arraySectors) * ss);
  encodeProtectiveMbr(table.lastLba).copy(head, 0);
  encodeGptHeader({ ...common, myLba: 1, alternateLba: table.lastLba, entriesLba: table.primaryEntriesLba }, ss).copy(head, ss);
  entries.copy(head, table.primaryEntriesLba * ss);

  const tail = Buffer.alloc((table.lastLba + 1 - table.backupEntriesLba) * ss);
  entries.copy(tail, 0);
  encodeGptHeader(
    { ...common, myLba: table.lastLba, alternateLba: 1, entriesLba: table.backupEntriesLba },
    ss,
  ).copy(tail, (table.lastLba - table.backupEntriesLba) * ss);
  return { head, tailOffset: table.backupEntriesLba * ss, tail };
}

/** Write both copies of the table (head, then tail) and size the sink to the disk. */
export async function writeGpt(sink: RandomAccessSink, table: GptTable): Promise<void> {
  const g = encodeGpt(table);
  await sink.write(0, g.head);
  await sink.write(g.tailOffset, g.tail);
  await sink.setSize((table.lastLba + 1) * table.sectorSize);
}
