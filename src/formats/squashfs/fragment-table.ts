/** Fragment table: one 16-byte record per fragment block {start u64, size word u32, unused u32}. */
export interface FragmentEntry {
  start: number;
  /** On-disk size, with bit 24 set when stored raw. */
  sizeWord: number;
}

export const FRAGMENT_ENTRY_SIZE = 16;

export function encodeFragmentRecords(entries: readonly FragmentEntry[]): Buffer {
  const b = Buffer.alloc(FRAGMENT_ENTRY_SIZE * entries.length);
  entries.forEach((e, i) => {
    b.writeBigUInt64LE(BigInt(e.start), i * FRAGMENT_ENTRY_SIZE);
    b.writeUInt32LE(e.sizeWord, i * FRAGMENT_ENTRY_SIZE + 8);
  });
  return b;
}

export function decodeFragmentRecord(b: Buffer, at = 0): FragmentEntry {
  return { start: Number(b.readBigUInt64LE(at)), sizeWord: b.readUInt32LE(at + 8) };
}
