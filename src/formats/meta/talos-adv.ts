/**
 * The Talos ADV ("go-adv" `adv/talos`; talos-imager.md §9.6): a 256 KiB block, big-endian —
 * magic1 0x5A4B3C2D, then `{u32 tag, u32 size, value}` records packed back to back (tag 0 ends
 * them), SHA-256 of the whole block (computed with the hash field zeroed) at length − 36, magic2
 * 0xA5B4C3D2 at length − 4. Tags are bytes (1–255) although the format has room for 32 bits.
 *
 * Talos writes records in Go map order (random); we write them sorted by tag so the bytes are
 * reproducible (§13).
 */
import { createHash } from 'node:crypto';
import { invalidInput } from '../../core/errors.js';

export const ADV_LENGTH = 256 * 1024;
export const ADV_DATA_LENGTH = ADV_LENGTH - 40;
export const ADV_MAGIC1 = 0x5a4b3c2d;
export const ADV_MAGIC2 = 0xa5b4c3d2;
const CHECKSUM_OFFSET = ADV_LENGTH - 36;

export interface AdvTag {
  /** 1–255. */
  tag: number;
  value: Uint8Array;
}

function checkTags(tags: AdvTag[]): AdvTag[] {
  const seen = new Set<number>();
  let used = 0;
  for (const t of tags) {
    if (!Number.isInteger(t.tag) || t.tag < 1 || t.tag > 255) throw invalidInput('E_META_TAG', `META key ${t.tag} is not 1..255`);
    if (seen.has(t.tag)) throw invalidInput('E_META_TAG', `META key ${t.tag} is given twice`);
    seen.add(t.tag);
    used += 8 + t.value.byteLength;
  }
  if (used > ADV_DATA_LENGTH) throw invalidInput('E_META_FULL', `META values need ${used} bytes; the ADV holds ${ADV_DATA_LENGTH}`);
  return [...tags].sort((a, b) => a.tag - b.tag);
}

/** One 256 KiB ADV copy holding `tags` (sorted by tag). */
export function encodeTalosAdv(tags: AdvTag[]): Buffer {
  const buf = Buffer.alloc(ADV_LENGTH);
  buf.writeUInt32BE(ADV_MAGIC1, 0);
  buf.writeUInt32BE(ADV_MAGIC2, ADV_LENGTH - 4);
  let at = 4;
  for (const t of checkTags(tags)) {
    buf.writeUInt32BE(t.tag, at);
    buf.writeUInt32BE(t.value.byteLength, at + 4);
    buf.set(t.value, at + 8);
    at += 8 + t.value.byteLength;
  }
  createHash('sha256').update(buf).digest().copy(buf, CHECKSUM_OFFSET);
  return buf;
}

/** Decode one copy; throws with the reason when magic, checksum or a record is wrong. */
export function decodeTalosAdv(block: Uint8Array, what = 'META ADV'): AdvTag[] {
  const b = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  if (b.length !== ADV_LENGTH) throw invalidInput('E_META_ADV', `${what}: ${b.length} bytes, expected ${ADV_LENGTH}`);
  const m1 = b.readUInt32BE(0);
  if (m1 !== ADV_MAGIC1) throw invalidInput('E_META_ADV', `${what}: magic 0x${m1.toString(16)}, expected 0x${ADV_MAGIC1.toString(16)}`);
  const m2 = b.readUInt32BE(ADV_LENGTH - 4);
  if (m2 !== ADV_MAGIC2) throw invalidInput('E_META_ADV', `${what}: trailing magic 0x${m2.toString(16)}, expected 0x${ADV_MAGIC2.toString(16)}`);
  const copy = Buffer.from(b);
  copy.fill(0, CHECKSUM_OFFSET, CHECKSUM_OFFSET + 32);
  const sum = createHash('sha256').update(copy).digest();
  if (!sum.equals(b.subarray(CHECKSUM_OFFSET, CHECKSUM_OFFSET + 32))) throw invalidInput('E_META_CHECKSUM', `${what}: SHA-256 checksum mismatch`);
  const tags: AdvTag[] = [];
  const seen = new Set<number>();
  let at = 4;
  const end = CHECKSUM_OFFSET;
  while (end - at >= 8) {
    const tag = b.readUInt32BE(at);
    if (tag === 0) break;
    const size = b.readUInt32BE(at + 4);
    if (size > end - at - 8) throw invalidInput('E_META_ADV', `${what}: value of key ${tag} (${size} bytes) runs past the data area`);
    if (tag > 255) throw invalidInput('E_META_ADV', `${what}: key ${tag} is not a byte`);
    if (seen.has(tag)) throw invalidInput('E_META_ADV', `${what}: key ${tag} appears twice`);
    seen.add(tag);
    tags.push({ tag, value: Buffer.from(b.subarray(at + 8, at + 8 + size)) });
    at += 8 + size;
  }
  return tags;
}
