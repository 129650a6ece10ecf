/**
 * Positioned reads over an image (a file, a buffer, or a partition inside a disk). Readers of on-disk
 * structures take this so they can check a multi-GiB image without loading it.
 */
import { invalidInput } from '../../core/errors.js';

export interface ByteReader {
  /** Total bytes readable. */
  readonly size: number;
  /** Exactly `length` bytes at `offset`; the caller has checked the range against `size`. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

function checkRange(reader: ByteReader, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > reader.size) {
    throw invalidInput('E_READ_RANGE', `${what}: read of ${length} bytes at ${offset} is outside the ${reader.size}-byte image`);
  }
}

/** Read with a bounds check that names the structure being read. */
export async function readExact(reader: ByteReader, offset: number, length: number, what: string): Promise<Buffer> {
  checkRange(reader, offset, length, what);
  const b = await reader.read(offset, length);
  if (b.byteLength !== length) throw invalidInput('E_READ_SHORT', `${what}: short read (${b.byteLength} of ${length} bytes at ${offset})`);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export function bufferReader(bytes: Uint8Array): ByteReader {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    size: b.length,
    async read(offset, length) {
      checkRange(this, offset, length, 'buffer');
      return b.subarray(offset, offset + length);
    },
  };
}

/** A window `[offset, offset + size)` of another reader (a partition). */
export function sliceReader(parent: ByteReader, offset: number, size: number): ByteReader {
  checkRange(parent, offset, size, 'slice');
  return {
    size,
    async read(o, length) {
      checkRange(this, o, length, 'slice');
      return parent.read(offset + o, length);
    },
  };
}
