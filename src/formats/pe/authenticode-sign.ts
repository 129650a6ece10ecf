/**
 * Authenticode signing (talos-imager.md §7.1 "Embedding"): pad the file to a multiple of 8, append a
 * WIN_CERTIFICATE holding PKCS#7 SignedData{SpcIndirectDataContent}, and point data directory 4 at
 * it. The PE CheckSum is not recomputed, as upstream.
 *
 * Reproducible: the signing time comes from the caller (SOURCE_DATE_EPOCH), never from the clock;
 * RSASSA-PKCS1-v1_5 signatures are deterministic, so equal inputs give equal bytes.
 */
import { assembly, invalidInput, unsupported } from '../../core/errors.js';
import { authenticodeDigest, authenticodeDigestOfStream } from './authenticode-digest.js';
import { align8, encodeWinCertificate } from './certificate-table.js';
import { parsePe, parsePeHeaders, type PeHeaders } from './pe-file.js';
import { peAssemblyChunks, type PeAssembly } from './pe-assembly.js';
import { signPkcs7 } from './pkcs7-signed-data.js';
import type { CertificateSigner } from './signer.js';
import { encodeSpcIndirectDataContent, OID_SPC_INDIRECT_DATA } from './spc-indirect-data.js';

export interface SignPeOptions {
  /**
   * The signingTime attribute: seconds since the epoch (pass SOURCE_DATE_EPOCH) or a Date. Upstream
   * writes the current time; null leaves the attribute out.
   */
  signingTime: number | Date | null;
  /** Name of the image in messages. */
  label?: string;
}

function signingDate(t: SignPeOptions['signingTime']): Date | null {
  if (t === null) return null;
  if (t instanceof Date) return t;
  if (!Number.isSafeInteger(t) || t < 0) throw invalidInput('E_SIGNING_TIME', `signing time must be non-negative seconds since the epoch, got ${t}`);
  return new Date(t * 1000);
}

/** DER ContentInfo(SignedData(SpcIndirectDataContent)) for an Authenticode SHA-256 image digest. */
export async function authenticodeSignature(digest: Uint8Array, signer: CertificateSigner, options: SignPeOptions): Promise<Uint8Array> {
  const spc = encodeSpcIndirectDataContent(digest);
  // The messageDigest attribute covers the content octets of SpcIndirectDataContent, without its
  // SEQUENCE tag and length (Authenticode PE format, "signerInfos").
  const { contentInfo } = await signPkcs7(
    { contentType: OID_SPC_INDIRECT_DATA, content: spc, digestedContent: derContentOctets(spc), signingTime: signingDate(options.signingTime) },
    signer,
  );
  return contentInfo;
}

/** The value octets of a DER element (after its tag and length). */
function derContentOctets(der: Uint8Array): Uint8Array {
  const first = der[1]!;
  const headerLength = first < 0x80 ? 2 : 2 + (first & 0x7f);
  return der.subarray(headerLength);
}

function requireCertificateDirectory(pe: PeHeaders, label: string): number {
  if (pe.certificateDirectoryOffset === null) {
    throw unsupported('E_PE_NO_CERT_DIRECTORY', `${label}: the image has fewer than 5 data directories, so it cannot carry a signature`);
  }
  return pe.certificateDirectoryOffset;
}

function setCertificateDirectory(header: Uint8Array, at: number, offset: number, size: number): void {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  view.setUint32(at, offset, true);
  view.setUint32(at + 4, size, true);
}

/**
 * Sign a PE image held in memory (sd-boot, a UKI read back). An existing signature is kept and the
 * new one appended after it, as upstream does.
 */
export async function signPe(bytes: Uint8Array, signer: CertificateSigner, options: SignPeOptions): Promise<Uint8Array> {
  const label = options.label ?? 'PE image';
  const pe = parsePe(bytes, label);
  const dirAt = requireCertificateDirectory(pe, label);
  const existing = pe.certificateTable;
  if (existing && (existing.offset + existing.size !== bytes.byteLength || existing.offset % 8 !== 0 || existing.size % 8 !== 0)) {
    throw invalidInput('E_PE_CERTIFICATE', `${label}: the existing certificate table is not an 8-byte aligned block at the end of the file`);
  }
  // The digest hashes zero padding up to a multiple of 8, the same bytes the padded file holds.
  const digest = authenticodeDigest(pe);
  const certificate = encodeWinCertificate(await authenticodeSignature(digest, signer, options));
  const baseLength = align8(bytes.byteLength);
  const tableOffset = existing ? existing.offset : baseLength;
  const tableSize = (existing?.size ?? 0) + certificate.byteLength;
  const out = new Uint8Array(baseLength + certificate.byteLength);
  out.set(bytes);
  out.set(certificate, baseLength);
  setCertificateDirectory(out, dirAt, tableOffset, tableSize);
  return out;
}

/** Sign an assembled (streamed) image: hashes it as a stream, then adds the certificate as trailer. */
export async function signPeAssembly(asm: PeAssembly, signer: CertificateSigner, options: SignPeOptions): Promise<PeAssembly> {
  const label = options.label ?? 'PE image';
  if (asm.trailer.byteLength > 0 || asm.headers.certificateTable) throw assembly('E_PE_ALREADY_SIGNED', `${label}: already signed`);
  const dirAt = requireCertificateDirectory(asm.headers, label);
  const digest = await authenticodeDigestOfStream(asm.headers, peAssemblyChunks(asm));
  const certificate = encodeWinCertificate(await authenticodeSignature(digest, signer, options));
  const tableOffset = align8(asm.size);
  const trailer = new Uint8Array(tableOffset - asm.size + certificate.byteLength);
  trailer.set(certificate, tableOffset - asm.size);
  const header = Uint8Array.from(asm.header);
  setCertificateDirectory(header, dirAt, tableOffset, certificate.byteLength);
  const size = asm.size + trailer.byteLength;
  return { headers: parsePeHeaders(header, size, label), header, parts: asm.parts, trailer, size };
}
