/**
 * EFI GUIDs: text form `aabbccdd-eeff-gghh-iijj-kkllmmnnoopp`, stored with the first three fields
 * little-endian (the "mixed-endian" EFI_GUID layout, talos-imager.md §7.3).
 */
import { createHash } from 'node:crypto';
import { invalidInput } from '../../core/errors.js';

const GUID_RE = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i;

/** 16 bytes of an EFI_GUID from its text form. */
export function efiGuid(text: string): Uint8Array {
  const m = GUID_RE.exec(text);
  if (!m) throw invalidInput('E_EFI_GUID', `not a GUID: ${JSON.stringify(text)}`);
  const out = Buffer.alloc(16);
  out.writeUInt32LE(parseInt(m[1]!, 16), 0);
  out.writeUInt16LE(parseInt(m[2]!, 16), 4);
  out.writeUInt16LE(parseInt(m[3]!, 16), 6);
  Buffer.from(m[4]! + m[5]!, 'hex').copy(out, 8);
  return new Uint8Array(out);
}

/** Text form of a stored EFI_GUID. */
export function efiGuidText(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, 16);
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
  return `${hex(b.readUInt32LE(0), 8)}-${hex(b.readUInt16LE(4), 4)}-${hex(b.readUInt16LE(6), 4)}-${b.subarray(8, 10).toString('hex')}-${b.subarray(10, 16).toString('hex')}`;
}

/** RFC 4122 namespace for X.500 names (big-endian UUID bytes). */
export const UUID_NAMESPACE_X500 = '6ba7b814-9dad-11d1-80b4-00c04fd430c8';

/**
 * Name-based UUID as google/uuid `NewHash(sha256.New(), NameSpaceX500, data, 4)` makes it (Talos's
 * signature owner, talos-imager.md §7.3): SHA-256(namespace || data), first 16 bytes, version nibble
 * 4, RFC 4122 variant.
 */
export function sha256NameUuid(data: Uint8Array, namespace = UUID_NAMESPACE_X500): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha256').update(ns).update(data).digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Well-known GUIDs (UEFI specification §8.2, §32.4). */
export const EFI_GLOBAL_VARIABLE_GUID = '8be4df61-93ca-11d2-aa0d-00e098032b8c';
export const EFI_IMAGE_SECURITY_DATABASE_GUID = 'd719b2cb-3d3a-4596-a3bc-dad00e67656f';
export const EFI_CERT_X509_GUID = 'a5c059a1-94e4-4aa7-87b5-ab155c2bf072';
export const EFI_CERT_TYPE_PKCS7_GUID = '4aafd29d-68df-49ee-8aa9-347d375665a7';
/** Owner GUID Microsoft uses for its certificates. */
export const MICROSOFT_SIGNATURE_OWNER_GUID = '77fa9abd-0359-4d32-bd60-28f4e78f784b';
