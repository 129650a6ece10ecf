/**
 * GUIDs as GPT stores them: the canonical text form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` on the
 * outside, the mixed-endian 16-byte layout on disk (the first three fields little-endian, the last
 * eight bytes as written; UEFI spec §5.3.1, go-blockdevice `gptutil.UUIDToGUID`).
 */
import { createHash } from 'node:crypto';
import { invalidInput } from '../../core/errors.js';

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Lower-case canonical form; throws on anything that is not a GUID. */
export function normalizeGuid(text: string): string {
  const g = text.trim().toLowerCase();
  if (!GUID_RE.test(g)) throw invalidInput('E_GUID_SYNTAX', `not a GUID: ${JSON.stringify(text)}`);
  return g;
}

/** Big-endian (RFC 4122 order) bytes of a GUID text. */
function uuidBytes(text: string): Buffer {
  return Buffer.from(normalizeGuid(text).replace(/-/g, ''), 'hex');
}

function swapFields(b: Uint8Array): Buffer {
  return Buffer.from([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8, 16)]);
}

/** The 16 on-disk bytes of a GUID (mixed-endian). */
export function guidToBytes(text: string): Buffer {
  return swapFields(uuidBytes(text));
}

/** Canonical text of 16 on-disk (mixed-endian) GUID bytes. */
export function guidFromBytes(bytes: Uint8Array): string {
  if (bytes.byteLength !== 16) throw invalidInput('E_GUID_SYNTAX', `a GUID is 16 bytes, got ${bytes.byteLength}`);
  const hex = swapFields(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

/**
 * A GUID derived from a label the way Talos does it (talos-imager.md §9.3, `GUIDFromLabel`): the
 * first 16 bytes of SHA-256(16 zero bytes ‖ label), marked as a version-8 RFC 4122 UUID.
 */
export function guidFromLabel(label: string): string {
  const h = createHash('sha256').update(Buffer.alloc(16)).update(label, 'utf8').digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
