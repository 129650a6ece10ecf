/**
 * One GPT partition entry (UEFI spec §5.3.3): type GUID, unique GUID, first and last LBA
 * (inclusive), attribute bits, and a name of up to 36 UTF-16LE code units, NUL-padded.
 */
import { invalidInput } from '../../core/errors.js';
import { guidFromBytes, guidToBytes, ZERO_GUID } from './guid.js';

export const GPT_ENTRY_SIZE = 128;
export const GPT_NAME_UNITS = 36;

export interface GptPartitionEntry {
  typeGuid: string;
  guid: string;
  firstLba: number;
  lastLba: number;
  attributes: bigint;
  name: string;
}

/** UTF-16LE name bytes; throws when the name does not fit 36 code units or holds a NUL. */
export function encodePartitionName(name: string): Buffer {
  if (name.includes('\0')) throw invalidInput('E_GPT_NAME', `partition name ${JSON.stringify(name)} contains NUL`);
  if (name.length > GPT_NAME_UNITS) {
    throw invalidInput('E_GPT_NAME', `partition name ${JSON.stringify(name)} is longer than ${GPT_NAME_UNITS} UTF-16 code units`);
  }
  return Buffer.from(name, 'utf16le');
}

/** Write an entry into `out` (at least 128 bytes, zeroed by the caller). */
export function encodePartitionEntry(e: GptPartitionEntry, out: Buffer): void {
  guidToBytes(e.typeGuid).copy(out, 0);
  guidToBytes(e.guid).copy(out, 16);
  out.writeBigUInt64LE(BigInt(e.firstLba), 32);
  out.writeBigUInt64LE(BigInt(e.lastLba), 40);
  out.writeBigUInt64LE(BigInt.asUintN(64, e.attributes), 48);
  encodePartitionName(e.name).copy(out, 56);
}

/** Decode an entry; `null` for an unused entry (zero type GUID). */
export function decodePartitionEntry(b: Buffer, what: string): GptPartitionEntry | null {
  const typeGuid = guidFromBytes(b.subarray(0, 16));
  if (typeGuid === ZERO_GUID) return null;
  const first = b.readBigUInt64LE(32);
  const last = b.readBigUInt64LE(40);
  if (first > BigInt(Number.MAX_SAFE_INTEGER) || last > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidInput('E_GPT_ENTRY', `${what}: LBA out of range (${first}..${last})`);
  }
  const nameBytes = b.subarray(56, 56 + GPT_NAME_UNITS * 2);
  let end = 0;
  while (end < nameBytes.length && (nameBytes[end] !== 0 || nameBytes[end + 1] !== 0)) end += 2;
  return {
    typeGuid,
    guid: guidFromBytes(b.subarray(16, 32)),
    firstLba: Number(first),
    lastLba: Number(last),
    attributes: b.readBigUInt64LE(48),
    name: nameBytes.subarray(0, end).toString('utf16le'),
  };
}
