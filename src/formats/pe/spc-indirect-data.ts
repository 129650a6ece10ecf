/**
 * Authenticode's SpcIndirectDataContent (talos-imager.md §7.1; Microsoft Authenticode PE format):
 *
 *   SpcIndirectDataContent ::= SEQUENCE { data SpcAttributeTypeAndOptionalValue, messageDigest DigestInfo }
 *   SpcAttributeTypeAndOptionalValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY }
 *   SpcPeImageData ::= SEQUENCE { flags BIT STRING, file [0] EXPLICIT SpcLink }
 *   SpcLink ::= CHOICE { ..., file [2] EXPLICIT SpcString }
 *   SpcString ::= CHOICE { unicode [0] IMPLICIT BMPString, ... }
 *   DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING }
 *
 * The schema classes use @peculiar/asn1-schema; the decorators are applied as plain calls because
 * the project compiles without `experimentalDecorators`.
 */
import { AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, BitString, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';

export const OID_SPC_INDIRECT_DATA = '1.3.6.1.4.1.311.2.1.4';
export const OID_SPC_PE_IMAGE_DATA = '1.3.6.1.4.1.311.2.1.15';
export const OID_SHA256 = '2.16.840.1.101.3.4.2.1';

export class SpcString {
  unicode?: string;
}
AsnProp({ type: AsnPropTypes.BmpString, context: 0, implicit: true })(SpcString.prototype, 'unicode');
AsnType({ type: AsnTypeTypes.Choice })(SpcString);

export class SpcLink {
  file?: SpcString;
}
AsnProp({ type: SpcString, context: 2 })(SpcLink.prototype, 'file');
AsnType({ type: AsnTypeTypes.Choice })(SpcLink);

export class SpcPeImageData {
  flags = new BitString();
  file?: SpcLink;
}
AsnProp({ type: BitString })(SpcPeImageData.prototype, 'flags');
AsnProp({ type: SpcLink, context: 0, optional: true })(SpcPeImageData.prototype, 'file');
AsnType({ type: AsnTypeTypes.Sequence })(SpcPeImageData);

export class SpcAttributeTypeAndOptionalValue {
  type = '';
  value: ArrayBuffer = new ArrayBuffer(0);
}
AsnProp({ type: AsnPropTypes.ObjectIdentifier })(SpcAttributeTypeAndOptionalValue.prototype, 'type');
AsnProp({ type: AsnPropTypes.Any })(SpcAttributeTypeAndOptionalValue.prototype, 'value');
AsnType({ type: AsnTypeTypes.Sequence })(SpcAttributeTypeAndOptionalValue);

export class DigestInfo {
  digestAlgorithm = new AlgorithmIdentifier();
  digest = new OctetString();
}
AsnProp({ type: AlgorithmIdentifier })(DigestInfo.prototype, 'digestAlgorithm');
AsnProp({ type: OctetString })(DigestInfo.prototype, 'digest');
AsnType({ type: AsnTypeTypes.Sequence })(DigestInfo);

export class SpcIndirectDataContent {
  data = new SpcAttributeTypeAndOptionalValue();
  messageDigest = new DigestInfo();
}
AsnProp({ type: SpcAttributeTypeAndOptionalValue })(SpcIndirectDataContent.prototype, 'data');
AsnProp({ type: DigestInfo })(SpcIndirectDataContent.prototype, 'messageDigest');
AsnType({ type: AsnTypeTypes.Sequence })(SpcIndirectDataContent);

const toBuffer = (b: ArrayBuffer) => new Uint8Array(b);

/**
 * DER SpcIndirectDataContent for a PE image digest (SHA-256), with the PE image data as every
 * signer writes it: empty flags and the file link `<<<Obsolete>>>`.
 */
export function encodeSpcIndirectDataContent(digest: Uint8Array): Uint8Array {
  const peImage = new SpcPeImageData();
  peImage.file = Object.assign(new SpcLink(), { file: Object.assign(new SpcString(), { unicode: '<<<Obsolete>>>' }) });
  const content = new SpcIndirectDataContent();
  content.data.type = OID_SPC_PE_IMAGE_DATA;
  content.data.value = AsnConvert.serialize(peImage);
  content.messageDigest.digestAlgorithm = new AlgorithmIdentifier({ algorithm: OID_SHA256, parameters: null });
  content.messageDigest.digest = new OctetString(digest);
  return toBuffer(AsnConvert.serialize(content));
}

/** The digest algorithm OID and digest held by a DER SpcIndirectDataContent. */
export function decodeSpcIndirectDataContent(der: Uint8Array): { type: string; digestAlgorithm: string; digest: Uint8Array } {
  const parsed = AsnConvert.parse(der, SpcIndirectDataContent);
  return {
    type: parsed.data.type,
    digestAlgorithm: parsed.messageDigest.digestAlgorithm.algorithm,
    digest: new Uint8Array(parsed.messageDigest.digest.buffer),
  };
}
