/**
 * The GPT header (UEFI spec §5.3.2; talos-imager.md §9.3): 92 bytes at the start of LBA 1 (primary)
 * and of the last LBA (backup), the rest of the sector zero. All integers little-endian.
 */
import { crc32 } from 'node:zlib';
import { invalidInput } from '../../core/errors.js';
import { guidFromBytes, guidToBytes } from './guid.js';

export const GPT_SIGNATURE = 'EFI PART';
export const GPT_REVISION = 0x00010000;
export const GPT_HEADER_SIZE = 92;

const O = {
  signature: 0,
  revision: 8,
  headerSize: 12,
  headerCrc: 16,
  reserved: 20,
  myLba: 24,
  alternateLba: 32,
  firstUsableLba: 40,
  lastUsableLba: 48,
  diskGuid: 56,
  entriesLba: 72,
  entryCount: 80,
  entrySize: 84,
  entriesCrc: 88,
} as const;

export interface GptHeader {
  myLba: number;
  alternateLba: number;
  firstUsableLba: number;
  lastUsableLba: number;
  diskGuid: string;
  entriesLba: number;
  entryCount: number;
  entrySize: number;
  entriesCrc: number;
}

/** One sector holding the header with both CRCs filled in. */
export function encodeGptHeader(h: GptHeader, sectorSize: number): Buffer {
  const s = Buffer.alloc(sectorSize);
  s.write(GPT_SIGNATURE, O.signature, 'latin1');
  s.writeUInt32LE(GPT_REVISION, O.revision);
  s.writeUInt32LE(GPT_HEADER_SIZE, O.headerSize);
  s.writeBigUInt64LE(BigInt(h.myLba), O.myLba);
  s.writeBigUInt64LE(BigInt(h.alternateLba), O.alternateLba);
  s.writeBigUInt64LE(BigInt(h.firstUsableLba), O.firstUsableLba);
  s.writeBigUInt64LE(BigInt(h.lastUsableLba), O.lastUsableLba);
  guidToBytes(h.diskGuid).copy(s, O.diskGuid);
  s.writeBigUInt64LE(BigInt(h.entriesLba), O.entriesLba);
  s.writeUInt32LE(h.entryCount, O.entryCount);
  s.writeUInt32LE(h.entrySize, O.entrySize);
  s.writeUInt32LE(h.entriesCrc >>> 0, O.entriesCrc);
  s.writeUInt32LE(crc32(s.subarray(0, GPT_HEADER_SIZE)), O.headerCrc);
  return s;
}

/** A u64 field that must fit a JS safe integer (any larger LBA cannot be on a real disk). */
function lbaField(s: Buffer, offset: number, field: string, what: string): number {
  const v = s.readBigUInt64LE(offset);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidInput('E_GPT_HEADER', `${what}: ${field} ${v} is out of range`);
  return Number(v);
}

/**
 * Parse and check one header sector: signature, revision, header size, header CRC, reserved field.
 * Positional checks (LBAs against the disk) are the reader's job.
 */
export function decodeGptHeader(sector: Uint8Array, what: string): GptHeader {
  const s = Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength);
  if (s.subarray(0, 8).toString('latin1') !== GPT_SIGNATURE) {
    throw invalidInput('E_GPT_NO_HEADER', `${what}: no "EFI PART" signature`);
  }
  const revision = s.readUInt32LE(O.revision);
  if (revision !== GPT_REVISION) {
    throw invalidInput('E_GPT_HEADER', `${what}: unsupported revision 0x${revision.toString(16).padStart(8, '0')}`);
  }
  const headerSize = s.readUInt32LE(O.headerSize);
  if (headerSize < GPT_HEADER_SIZE || headerSize > s.length) {
    throw invalidInput('E_GPT_HEADER', `${what}: header size ${headerSize} is outside 92..${s.length}`);
  }
  const stored = s.readUInt32LE(O.headerCrc);
  const copy = Buffer.from(s.subarray(0, headerSize));
  copy.writeUInt32LE(0, O.headerCrc);
  const computed = crc32(copy);
  if (stored !== computed) {
    throw invalidInput(
      'E_GPT_CRC',
      `${what}: header CRC32 mismatch (stored 0x${stored.toString(16).padStart(8, '0')}, computed 0x${computed.toString(16).padStart(8, '0')})`,
    );
  }
  if (s.readUInt32LE(O.reserved) !== 0) throw invalidInput('E_GPT_HEADER', `${what}: reserved header field is not zero`);
  return {
    myLba: lbaField(s, O.myLba, 'MyLBA', what),
    alternateLba: lbaField(s, O.alternateLba, 'AlternateLBA', what),
    firstUsableLba: lbaField(s, O.firstUsableLba, 'FirstUsableLBA', what),
    lastUsableLba: lbaField(s, O.lastUsableLba, 'LastUsableLBA', what),
    diskGuid: guidFromBytes(s.subarray(O.diskGuid, O.diskGuid + 16)),
    entriesLba: lbaField(s, O.entriesLba, 'PartitionEntryLBA', what),
    entryCount: s.readUInt32LE(O.entryCount),
    entrySize: s.readUInt32LE(O.entrySize),
    entriesCrc: s.readUInt32LE(O.entriesCrc),
  };
}
