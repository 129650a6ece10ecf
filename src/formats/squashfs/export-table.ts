/** Export (NFS) table: the u64 reference of inode number n at index n − 1. */
export function encodeExportRecords(refs: readonly bigint[]): Buffer {
  const b = Buffer.alloc(8 * refs.length);
  refs.forEach((r, i) => b.writeBigUInt64LE(r, 8 * i));
  return b;
}
