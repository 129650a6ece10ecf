/**
 * EFI_SIGNATURE_LIST (UEFI specification §32.4.1; talos-imager.md §7.3):
 *   SignatureType (GUID) | SignatureListSize u32 | SignatureHeaderSize u32 (0) | SignatureSize u32 |
 *   EFI_SIGNATURE_DATA[] { SignatureOwner (GUID) | SignatureData }
 * X.509 entries of one size share a list; another size starts a new list (go-uefi `Append`).
 */
import { invalidInput } from '../../core/errors.js';
import { EFI_CERT_X509_GUID, efiGuid, efiGuidText } from './efi-guid.js';

export interface SignatureEntry {
  /** Owner GUID, text form. */
  owner: string;
  /** DER certificate (for EFI_CERT_X509_GUID lists). */
  data: Uint8Array;
}

export interface SignatureList {
  /** Signature type GUID, text form. */
  type: string;
  entries: SignatureEntry[];
}

const HEADER_SIZE = 28;

/** Group X.509 certificates into lists the way go-uefi's SignatureDatabase.Append does. */
export function x509SignatureDatabase(entries: readonly SignatureEntry[]): SignatureList[] {
  const lists: SignatureList[] = [];
  for (const e of entries) {
    const same = lists.find((l) => l.type === EFI_CERT_X509_GUID && l.entries[0]!.data.byteLength === e.data.byteLength);
    if (same) {
      if (!same.entries.some((x) => x.owner === e.owner && Buffer.from(x.data).equals(Buffer.from(e.data)))) same.entries.push(e);
    } else {
      lists.push({ type: EFI_CERT_X509_GUID, entries: [e] });
    }
  }
  return lists;
}

export function encodeSignatureLists(lists: readonly SignatureList[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const l of lists) {
    if (l.entries.length === 0) continue;
    const size = 16 + l.entries[0]!.data.byteLength;
    if (l.entries.some((e) => 16 + e.data.byteLength !== size)) throw invalidInput('E_EFI_SIGLIST', 'every entry of an EFI_SIGNATURE_LIST must have the same size');
    const head = Buffer.alloc(HEADER_SIZE);
    Buffer.from(efiGuid(l.type)).copy(head, 0);
    head.writeUInt32LE(HEADER_SIZE + size * l.entries.length, 16);
    head.writeUInt32LE(0, 20);
    head.writeUInt32LE(size, 24);
    parts.push(head);
    for (const e of l.entries) parts.push(Buffer.from(efiGuid(e.owner)), Buffer.from(e.data));
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** Decode concatenated EFI_SIGNATURE_LISTs, checking every size against the input. */
export function parseSignatureLists(bytes: Uint8Array, label = 'EFI signature lists'): SignatureList[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lists: SignatureList[] = [];
  let pos = 0;
  while (pos < b.length) {
    if (pos + HEADER_SIZE > b.length) throw invalidInput('E_EFI_SIGLIST', `${label}: truncated list header at ${pos}`);
    const listSize = b.readUInt32LE(pos + 16);
    const headerSize = b.readUInt32LE(pos + 20);
    const sigSize = b.readUInt32LE(pos + 24);
    if (listSize < HEADER_SIZE || pos + listSize > b.length || sigSize < 16 || HEADER_SIZE + headerSize > listSize || (listSize - HEADER_SIZE - headerSize) % sigSize !== 0) {
      throw invalidInput('E_EFI_SIGLIST', `${label}: inconsistent list at ${pos} (size ${listSize}, header ${headerSize}, signature ${sigSize})`);
    }
    const entries: SignatureEntry[] = [];
    for (let at = pos + HEADER_SIZE + headerSize; at < pos + listSize; at += sigSize) {
      entries.push({ owner: efiGuidText(b.subarray(at, at + 16)), data: new Uint8Array(b.subarray(at + 16, at + sigSize)) });
    }
    lists.push({ type: efiGuidText(b.subarray(pos, pos + 16)), entries });
    pos += listSize;
  }
  return lists;
}
