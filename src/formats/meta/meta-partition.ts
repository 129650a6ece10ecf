/**
 * The META partition (talos-imager.md §9.6): all zeros when there are no values (Talos accepts a META
 * with no valid ADV), otherwise two identical Talos ADV copies at bytes 0 and 256 KiB and zeros
 * after them (the legacy syslinux ADV area at the end stays zero).
 */
import { invalidInput } from '../../core/errors.js';
import type { RandomAccessSink } from '../../core/sink.js';
import { ADV_LENGTH, decodeTalosAdv, encodeTalosAdv, type AdvTag } from './talos-adv.js';

export const META_ADV_COPIES = 2;

/**
 * Write META at `offset` (a partition of `size` bytes), in increasing order: the two copies, then a
 * hole for the rest — or a hole for all of it when `tags` is empty.
 */
export async function writeMetaPartition(sink: RandomAccessSink, offset: number, size: number, tags: AdvTag[]): Promise<void> {
  if (size < META_ADV_COPIES * ADV_LENGTH) throw invalidInput('E_META_SIZE', `META partition of ${size} bytes cannot hold two ${ADV_LENGTH}-byte ADV copies`);
  if (tags.length === 0) {
    await sink.hole(offset, size);
    return;
  }
  const copy = encodeTalosAdv(tags);
  await sink.write(offset, Buffer.concat([copy, copy]));
  await sink.hole(offset + 2 * ADV_LENGTH, size - 2 * ADV_LENGTH);
}

export interface MetaContents {
  /** `empty`: no ADV at all (all zeros); `valid`: both copies good; `degraded`: one good copy. */
  state: 'empty' | 'valid' | 'degraded';
  tags: AdvTag[];
  /** Why each copy failed (null when it is good). */
  copyErrors: [string | null, string | null];
}

const isZero = (b: Buffer) => b.every((x) => x === 0);

/** Decode the first 512 KiB of a META partition. Throws when it is neither empty nor a valid ADV. */
export function decodeMetaPartition(bytes: Uint8Array, what = 'META partition'): MetaContents {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 2 * ADV_LENGTH) throw invalidInput('E_META_SIZE', `${what}: ${b.length} bytes, need ${2 * ADV_LENGTH}`);
  const copies = [b.subarray(0, ADV_LENGTH), b.subarray(ADV_LENGTH, 2 * ADV_LENGTH)];
  if (copies.every(isZero)) return { state: 'empty', tags: [], copyErrors: [null, null] };
  const results = copies.map((c, i) => {
    try {
      return { tags: decodeTalosAdv(c, `${what} copy ${i + 1}`), error: null };
    } catch (e) {
      return { tags: null, error: (e as Error).message };
    }
  });
  const good = results.find((r) => r.tags !== null);
  if (!good) throw invalidInput('E_META_CORRUPT', `${what}: no valid ADV copy (${results[0]!.error}; ${results[1]!.error})`);
  return {
    state: results.every((r) => r.tags !== null) ? 'valid' : 'degraded',
    tags: good.tags!,
    copyErrors: [results[0]!.error, results[1]!.error],
  };
}
