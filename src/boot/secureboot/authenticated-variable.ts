/**
 * Time-based authenticated variable payloads (`.auth` files, UEFI specification §8.2.2 "Using the
 * EFI_VARIABLE_AUTHENTICATION_2 descriptor"; talos-imager.md §7.3):
 *
 *   EFI_TIME | WIN_CERTIFICATE_UEFI_GUID { dwLength, wRevision 0x0200, wCertificateType 0x0EF1,
 *              CertType EFI_CERT_TYPE_PKCS7_GUID, CertData = DER SignedData (no ContentInfo) } | data
 *
 * The signature is a detached PKCS#7 (content type id-data) over
 *   UTF-16LE(name) || vendor GUID || u32le(attributes) || EFI_TIME || data.
 */
import { signPkcs7, OID_DATA } from '../../formats/pe/pkcs7-signed-data.js';
import type { CertificateSigner } from '../../formats/pe/signer.js';
import { EFI_CERT_TYPE_PKCS7_GUID, efiGuid } from './efi-guid.js';
import { efiTime } from './efi-time.js';

export const EFI_VARIABLE_NON_VOLATILE = 0x01;
export const EFI_VARIABLE_BOOTSERVICE_ACCESS = 0x02;
export const EFI_VARIABLE_RUNTIME_ACCESS = 0x04;
export const EFI_VARIABLE_TIME_BASED_AUTHENTICATED_WRITE_ACCESS = 0x20;
/** NV | BS | RT | TIME_BASED_AUTHENTICATED_WRITE_ACCESS = 0x27. */
export const SECURE_BOOT_VARIABLE_ATTRIBUTES =
  EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS | EFI_VARIABLE_RUNTIME_ACCESS | EFI_VARIABLE_TIME_BASED_AUTHENTICATED_WRITE_ACCESS;

const WIN_CERT_TYPE_EFI_GUID = 0x0ef1;

export interface AuthenticatedVariableInput {
  /** Variable name, e.g. `PK`, `KEK`, `db`. */
  name: string;
  /** Vendor GUID (text form). */
  vendorGuid: string;
  /** Variable data (EFI signature lists). */
  data: Uint8Array;
  /** Seconds since the epoch for EFI_TIME (SOURCE_DATE_EPOCH). */
  timestamp: number;
  attributes?: number;
  /** signingTime attribute of the PKCS#7; defaults to `timestamp`, null leaves it out. */
  signingTime?: Date | null;
}

export interface AuthenticatedVariable {
  /** The `.auth` file: EFI_VARIABLE_AUTHENTICATION_2 followed by the data. */
  auth: Uint8Array;
  /** The bytes the PKCS#7 signature covers. */
  signedPayload: Uint8Array;
  /** DER SignedData carried in the descriptor. */
  signedData: Uint8Array;
}

function utf16le(s: string): Buffer {
  return Buffer.from(s, 'utf16le');
}

export async function authenticatedVariable(input: AuthenticatedVariableInput, signer: CertificateSigner): Promise<AuthenticatedVariable> {
  const time = efiTime(input.timestamp);
  const attrs = Buffer.alloc(4);
  attrs.writeUInt32LE(input.attributes ?? SECURE_BOOT_VARIABLE_ATTRIBUTES);
  const signedPayload = new Uint8Array(Buffer.concat([utf16le(input.name), Buffer.from(efiGuid(input.vendorGuid)), attrs, Buffer.from(time), Buffer.from(input.data)]));
  const signingTime = input.signingTime === undefined ? new Date(input.timestamp * 1000) : input.signingTime;
  const { signedData } = await signPkcs7({ contentType: OID_DATA, digestedContent: signedPayload, signingTime }, signer);
  const header = Buffer.alloc(8);
  header.writeUInt32LE(8 + 16 + signedData.byteLength, 0);
  header.writeUInt16LE(0x0200, 4);
  header.writeUInt16LE(WIN_CERT_TYPE_EFI_GUID, 6);
  const auth = Buffer.concat([Buffer.from(time), header, Buffer.from(efiGuid(EFI_CERT_TYPE_PKCS7_GUID)), Buffer.from(signedData), Buffer.from(input.data)]);
  return { auth: new Uint8Array(auth), signedPayload, signedData };
}
