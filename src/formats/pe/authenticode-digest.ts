/**
 * Authenticode image digest (talos-imager.md §7.1; Microsoft "Windows Authenticode Portable
 * Executable Signature Format", "Calculating the PE Image Hash"):
 *   1. the headers up to SizeOfHeaders, leaving out the CheckSum field and data directory 4;
 *   2. every section with SizeOfRawData > 0, ordered by PointerToRawData;
 *   3. the bytes after SUM_OF_BYTES_HASHED up to FILE_SIZE minus the certificate table size;
 *   4. zeros up to a multiple of 8 of FILE_SIZE.
 */
import { createHash } from 'node:crypto';
import { assembly } from '../../core/errors.js';
import type { PeHeaders } from './pe-file.js';

export type DigestAlgorithm = 'sha256' | 'sha384' | 'sha512';

export interface HashRange {
  start: number;
  end: number;
}

export interface AuthenticodePlan {
  /** File ranges hashed, in hashing order. */
  ranges: HashRange[];
  /** Zero bytes hashed after the ranges. */
  padding: number;
}

export function authenticodePlan(pe: PeHeaders): AuthenticodePlan {
  const ranges: HashRange[] = [];
  const push = (start: number, end: number) => {
    if (end > start) ranges.push({ start, end });
  };
  const sizeOfHeaders = pe.optional.sizeOfHeaders;
  push(0, pe.checksumOffset);
  if (pe.certificateDirectoryOffset !== null) {
    push(pe.checksumOffset + 4, pe.certificateDirectoryOffset);
    push(pe.certificateDirectoryOffset + 8, sizeOfHeaders);
  } else {
    push(pe.checksumOffset + 4, sizeOfHeaders);
  }
  let sumOfBytesHashed = sizeOfHeaders;
  const sorted = pe.sections.filter((s) => s.sizeOfRawData > 0).sort((a, b) => a.pointerToRawData - b.pointerToRawData);
  for (const s of sorted) {
    push(s.pointerToRawData, s.pointerToRawData + s.sizeOfRawData);
    sumOfBytesHashed += s.sizeOfRawData;
  }
  const certificateSize = pe.certificateTable?.size ?? 0;
  push(sumOfBytesHashed, pe.fileSize - certificateSize);
  return { ranges, padding: (8 - (pe.fileSize % 8)) % 8 };
}

/** Authenticode digest of a PE image held in memory. */
export function authenticodeDigest(pe: PeHeaders & { bytes: Uint8Array }, algorithm: DigestAlgorithm = 'sha256'): Buffer {
  const { ranges, padding } = authenticodePlan(pe);
  const hash = createHash(algorithm);
  for (const r of ranges) hash.update(pe.bytes.subarray(r.start, r.end));
  hash.update(new Uint8Array(padding));
  return hash.digest();
}

/**
 * Authenticode digest of a PE image given as a stream of its bytes from offset 0 (the UKI writer
 * streams kernel and initramfs). The plan's ranges must be in ascending, non-overlapping order, as
 * they are for images whose sections are packed after the headers in table order.
 */
export async function authenticodeDigestOfStream(
  pe: PeHeaders,
  chunks: AsyncIterable<Uint8Array>,
  algorithm: DigestAlgorithm = 'sha256',
): Promise<Buffer> {
  const { ranges, padding } = authenticodePlan(pe);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]!.start < ranges[i - 1]!.end) {
      throw assembly('E_PE_LAYOUT', 'PE image sections are not laid out in file order; cannot hash it as a stream');
    }
  }
  const hash = createHash(algorithm);
  let pos = 0;
  let ri = 0;
  for await (const chunk of chunks) {
    const chunkEnd = pos + chunk.byteLength;
    while (ri < ranges.length && ranges[ri]!.start < chunkEnd) {
      const r = ranges[ri]!;
      const from = Math.max(r.start, pos);
      const to = Math.min(r.end, chunkEnd);
      if (to > from) hash.update(chunk.subarray(from - pos, to - pos));
      if (r.end <= chunkEnd) ri++;
      else break;
    }
    pos = chunkEnd;
  }
  if (pos !== pe.fileSize) throw assembly('E_PE_LAYOUT', `PE image stream is ${pos} bytes, its headers say ${pe.fileSize}`);
  hash.update(new Uint8Array(padding));
  return hash.digest();
}
