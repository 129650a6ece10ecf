/**
 * PKCS#7 SignedData as the Talos signer writes it for Authenticode and for authenticated EFI
 * variables (talos-imager.md §7.1 "PKCS#7 SignedData", §7.3):
 *
 *   ContentInfo { signedData, SignedData {
 *     version 1, digestAlgorithms { sha256/NULL },
 *     contentInfo { contentType, [0] EXPLICIT content (absent when detached) },
 *     certificates [0] { the signing certificate },
 *     signerInfos { SignerInfo { version 1, issuerAndSerialNumber, sha256/NULL,
 *       authenticatedAttributes [0] { contentType, signingTime (optional), messageDigest },
 *       rsaEncryption/NULL, signature } } } }
 *
 * The signature is RSASSA-PKCS1-v1_5/SHA-256 over the DER of the attribute SET. Built with the
 * typed @peculiar/asn1-cms schemas.
 */
import { createHash } from 'node:crypto';
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  ContentInfo,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
  DigestAlgorithmIdentifiers,
} from '@peculiar/asn1-cms';
import { AsnArray, AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, Time } from '@peculiar/asn1-x509';
import { assembly, invalidInput } from '../../core/errors.js';
import type { CertificateSigner } from './signer.js';
import { OID_SHA256 } from './spc-indirect-data.js';

export const OID_DATA = '1.2.840.113549.1.7.1';
export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
export const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
export const OID_ATTR_CONTENT_TYPE = '1.2.840.113549.1.9.3';
export const OID_ATTR_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
export const OID_ATTR_SIGNING_TIME = '1.2.840.113549.1.9.5';

/** SET OF Attribute, to get the DER that the signature covers (tag 0x31, not the [0] of SignerInfo). */
class AttributeSet extends AsnArray<Attribute> {}
AsnType({ type: AsnTypeTypes.Set, itemType: Attribute })(AttributeSet);

/** An OBJECT IDENTIFIER value as a standalone DER element (attribute value). */
class ObjectIdentifierValue {
  value = '';
}
AsnProp({ type: AsnPropTypes.ObjectIdentifier })(ObjectIdentifierValue.prototype, 'value');
AsnType({ type: AsnTypeTypes.Choice })(ObjectIdentifierValue);

export interface SignedDataInput {
  /** OID of the signed content (SpcIndirectDataContent for Authenticode, id-data for EFI variables). */
  contentType: string;
  /** DER placed in `contentInfo [0] EXPLICIT`; omitted for a detached signature. */
  content?: Uint8Array;
  /** The bytes whose SHA-256 is the messageDigest attribute. */
  digestedContent: Uint8Array;
  /** signingTime attribute; null leaves it out. */
  signingTime: Date | null;
}

export interface SignedDataOutput {
  /** DER ContentInfo { signedData, [0] SignedData }: what goes into a WIN_CERTIFICATE. */
  contentInfo: Uint8Array;
  /** DER SignedData alone: what an EFI_VARIABLE_AUTHENTICATION_2 carries. */
  signedData: Uint8Array;
}

const nullParams = (algorithm: string) => new AlgorithmIdentifier({ algorithm, parameters: null });
const u8 = (b: ArrayBuffer) => new Uint8Array(b);

/** Parse the signer's certificate, insisting that re-encoding gives back the same bytes. */
function parseCertificate(der: Uint8Array): Certificate {
  let cert: Certificate;
  try {
    cert = AsnConvert.parse(der, Certificate);
  } catch (err) {
    throw invalidInput('E_SIGNER_CERTIFICATE', `signing certificate is not DER X.509 (${(err as Error).message})`, err);
  }
  if (!Buffer.from(AsnConvert.serialize(cert)).equals(Buffer.from(der))) {
    throw invalidInput('E_SIGNER_CERTIFICATE', 'signing certificate is not in canonical DER (cannot be embedded unchanged)');
  }
  return cert;
}

/** Encode signingTime as RFC 5652 asks: UTCTime for 1950-2049, GeneralizedTime otherwise. */
function timeValue(date: Date): ArrayBuffer {
  const year = date.getUTCFullYear();
  const time = year >= 1950 && year < 2050 ? new Time({ utcTime: date }) : new Time({ generalTime: date });
  return AsnConvert.serialize(time);
}

export async function signPkcs7(input: SignedDataInput, signer: CertificateSigner): Promise<SignedDataOutput> {
  const cert = parseCertificate(signer.certificate);
  const messageDigest = createHash('sha256').update(input.digestedContent).digest();

  const attributes: Attribute[] = [
    new Attribute({ attrType: OID_ATTR_CONTENT_TYPE, attrValues: [AsnConvert.serialize(Object.assign(new ObjectIdentifierValue(), { value: input.contentType }))] }),
  ];
  if (input.signingTime) {
    if (Number.isNaN(input.signingTime.getTime())) throw invalidInput('E_SIGNING_TIME', 'signing time is not a valid date');
    attributes.push(new Attribute({ attrType: OID_ATTR_SIGNING_TIME, attrValues: [timeValue(input.signingTime)] }));
  }
  attributes.push(new Attribute({ attrType: OID_ATTR_MESSAGE_DIGEST, attrValues: [AsnConvert.serialize(new OctetString(messageDigest))] }));
  // DER orders a SET OF by the encodings of its elements.
  const encoded = attributes.map((a) => ({ a, der: Buffer.from(AsnConvert.serialize(a)) }));
  encoded.sort((x, y) => Buffer.compare(x.der, y.der));
  const sortedAttributes = encoded.map((e) => e.a);
  const signedAttributesDer = u8(AsnConvert.serialize(new AttributeSet(sortedAttributes)));

  const signature = await signer.sign(signedAttributesDer);
  if (!(signature instanceof Uint8Array) || signature.byteLength === 0) throw assembly('E_SIGNER_FAILED', 'the signer returned no signature');

  const signerInfo = new SignerInfo({
    version: 1,
    sid: new SignerIdentifier({
      issuerAndSerialNumber: new IssuerAndSerialNumber({ issuer: cert.tbsCertificate.issuer, serialNumber: cert.tbsCertificate.serialNumber }),
    }),
    digestAlgorithm: nullParams(OID_SHA256),
    signedAttrs: sortedAttributes,
    signatureAlgorithm: nullParams(OID_RSA_ENCRYPTION),
    signature: new OctetString(signature),
  });
  const signedData = new SignedData({
    version: 1,
    digestAlgorithms: new DigestAlgorithmIdentifiers([nullParams(OID_SHA256)]),
    encapContentInfo: new EncapsulatedContentInfo({
      eContentType: input.contentType,
      ...(input.content ? { eContent: new EncapsulatedContent({ any: Uint8Array.from(input.content).buffer }) } : {}),
    }),
    certificates: new CertificateSet([new CertificateChoices({ certificate: cert })]),
    signerInfos: new SignerInfos([signerInfo]),
  });
  const signedDataDer = u8(AsnConvert.serialize(signedData));
  const contentInfo = u8(AsnConvert.serialize(new ContentInfo({ contentType: OID_SIGNED_DATA, content: Uint8Array.from(signedDataDer).buffer })));
  return { contentInfo, signedData: signedDataDer };
}
