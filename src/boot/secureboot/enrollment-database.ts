/**
 * SecureBoot key-enrollment database for sd-boot (`loader/keys/auto/{PK,KEK,db}.auth`,
 * talos-imager.md §7.3, upstream `internal/pkg/secureboot/database`):
 *   - owner GUID: SHA-256 name-based UUID of the enrolled certificate's PEM bytes;
 *   - PK = {cert}; KEK = {cert} (+ Microsoft KEK CAs); db = {cert} (+ Microsoft UEFI CAs);
 *   - every variable signed by the same signer (PK is self-signed).
 */
import { invalidInput } from '../../core/errors.js';
import { certificateFromPem, type CertificateSigner } from '../../formats/pe/signer.js';
import { authenticatedVariable } from './authenticated-variable.js';
import { EFI_GLOBAL_VARIABLE_GUID, EFI_IMAGE_SECURITY_DATABASE_GUID, MICROSOFT_SIGNATURE_OWNER_GUID, sha256NameUuid } from './efi-guid.js';
import { encodeSignatureLists, x509SignatureDatabase, type SignatureEntry } from './efi-signature-list.js';
import { WELL_KNOWN_DB_CERTIFICATES, WELL_KNOWN_KEK_CERTIFICATES, type WellKnownCertificate } from './well-known-certificates.js';

export interface EnrollmentDatabaseOptions {
  /** The certificate to enroll as it was read (PEM bytes: its exact bytes give the owner GUID). */
  enrolledCertificatePem: Uint8Array | string;
  /** Signs all three variables (upstream: the SecureBoot signer, whose certificate is the enrolled one). */
  signer: CertificateSigner;
  /** Add the Microsoft KEK and UEFI CA certificates (`includeWellKnownCertificates`). */
  includeWellKnownCertificates?: boolean;
  /** Seconds since the epoch for EFI_TIME and the PKCS#7 signing time (SOURCE_DATE_EPOCH). */
  timestamp: number;
}

export interface EnrollmentFile {
  /** `db.auth`, `KEK.auth`, `PK.auth`. */
  name: string;
  contents: Uint8Array;
}

const wellKnown = (certs: readonly WellKnownCertificate[]): SignatureEntry[] =>
  certs.map((c) => ({ owner: MICROSOFT_SIGNATURE_OWNER_GUID, data: new Uint8Array(Buffer.from(c.der, 'base64')) }));

/** The signature owner GUID Talos derives from the enrolled certificate (text form). */
export function enrollmentOwnerGuid(enrolledCertificatePem: Uint8Array | string): string {
  const bytes = typeof enrolledCertificatePem === 'string' ? Buffer.from(enrolledCertificatePem, 'utf8') : enrolledCertificatePem;
  return sha256NameUuid(bytes);
}

/** PK, KEK and db `.auth` files, in upstream's order (db, KEK, PK). */
export async function generateEnrollmentDatabase(options: EnrollmentDatabaseOptions): Promise<EnrollmentFile[]> {
  const pem = options.enrolledCertificatePem;
  const cert = certificateFromPem(pem, 'enrolled SecureBoot certificate');
  if (typeof pem !== 'string' && !Buffer.from(pem).toString('latin1').includes('-----BEGIN')) {
    throw invalidInput('E_ENROLL_CERT', 'the enrolled certificate must be given as PEM (its bytes name the owner GUID)');
  }
  const owner = enrollmentOwnerGuid(pem);
  const own: SignatureEntry = { owner, data: new Uint8Array(cert.raw) };
  const extraKek = options.includeWellKnownCertificates ? wellKnown(WELL_KNOWN_KEK_CERTIFICATES) : [];
  const extraDb = options.includeWellKnownCertificates ? wellKnown(WELL_KNOWN_DB_CERTIFICATES) : [];
  const variables = [
    { file: 'db.auth', name: 'db', guid: EFI_IMAGE_SECURITY_DATABASE_GUID, entries: [own, ...extraDb] },
    { file: 'KEK.auth', name: 'KEK', guid: EFI_GLOBAL_VARIABLE_GUID, entries: [own, ...extraKek] },
    { file: 'PK.auth', name: 'PK', guid: EFI_GLOBAL_VARIABLE_GUID, entries: [own] },
  ];
  const out: EnrollmentFile[] = [];
  for (const v of variables) {
    const data = encodeSignatureLists(x509SignatureDatabase(v.entries));
    const { auth } = await authenticatedVariable({ name: v.name, vendorGuid: v.guid, data, timestamp: options.timestamp }, options.signer);
    out.push({ name: v.file, contents: auth });
  }
  return out;
}
