/**
 * The attribute certificate table: WIN_CERTIFICATE entries, each 8-byte aligned, at the file offset
 * held by data directory 4 (talos-imager.md §7.1 "Embedding").
 */
import { invalidInput } from '../../core/errors.js';
import { WIN_CERT_HEADER_SIZE, WIN_CERT_REVISION_2_0, WIN_CERT_TYPE_PKCS_SIGNED_DATA } from './constants.js';

export interface WinCertificate {
  revision: number;
  certificateType: number;
  /** bCertificate: for type 2, a DER PKCS#7 ContentInfo (SignedData). */
  data: Uint8Array;
}

export const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** Decode every entry of a certificate table (`table` is exactly the directory's bytes). */
export function parseCertificateTable(table: Uint8Array, label: string): WinCertificate[] {
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const out: WinCertificate[] = [];
  let pos = 0;
  while (pos + WIN_CERT_HEADER_SIZE <= table.byteLength) {
    const length = view.getUint32(pos, true);
    if (length < WIN_CERT_HEADER_SIZE || length > table.byteLength - pos) {
      throw invalidInput('E_PE_CERTIFICATE', `${label}: WIN_CERTIFICATE at +${pos} has length ${length}, outside its ${table.byteLength}-byte table`);
    }
    out.push({
      revision: view.getUint16(pos + 4, true),
      certificateType: view.getUint16(pos + 6, true),
      data: table.subarray(pos + WIN_CERT_HEADER_SIZE, pos + length),
    });
    pos += align8(length);
  }
  return out;
}

/** One WIN_CERTIFICATE holding a PKCS#7 SignedData, zero-padded to a multiple of 8 bytes. */
export function encodeWinCertificate(pkcs7: Uint8Array): Uint8Array {
  const length = WIN_CERT_HEADER_SIZE + pkcs7.byteLength;
  const out = new Uint8Array(align8(length));
  const view = new DataView(out.buffer);
  view.setUint32(0, length, true);
  view.setUint16(4, WIN_CERT_REVISION_2_0, true);
  view.setUint16(6, WIN_CERT_TYPE_PKCS_SIGNED_DATA, true);
  out.set(pkcs7, WIN_CERT_HEADER_SIZE);
  return out;
}
