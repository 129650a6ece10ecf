import { createHash, createPublicKey, verify } from 'node:crypto';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../src/core/errors.js';
import {
  appendSections,
  authenticodeDigest,
  decodeSpcIndirectDataContent,
  parsePe,
  peAssemblyBytes,
  pemSigner,
  signPe,
  signPeAssembly,
  type CertificateSigner,
} from '../../../src/formats/pe/index.js';
import { missingTools, runTool, tempDir } from '../../helpers/tools.js';
import { signedAttributesSet } from './der.js';
import { makeTestKeyPair, type TestKeyPair } from './test-keys.js';
import { fill, syntheticPe, upstreamLikeStub } from './synthetic-pe.js';

const skip = missingTools('openssl');

function signatureOf(signed: Uint8Array, index = 0) {
  const pe = parsePe(signed);
  const cert = pe.certificates[index]!;
  expect(cert.revision).toBe(0x200);
  expect(cert.certificateType).toBe(2);
  const ci = AsnConvert.parse(cert.data, ContentInfo);
  expect(ci.contentType).toBe('1.2.840.113549.1.7.2');
  return { pe, der: cert.data, sd: AsnConvert.parse(ci.content, SignedData) };
}

describe.skipIf(skip)('signPe (talos-imager.md §7.1)', () => {
  let t: ReturnType<typeof tempDir>;
  let keys: TestKeyPair;
  let signer: CertificateSigner;
  beforeAll(() => {
    t = tempDir('imagekit-pe-sign-');
    keys = makeTestKeyPair(t.dir, 'db');
    signer = pemSigner(keys.cert, keys.key);
  });
  afterAll(() => t?.cleanup());

  it('writes SignedData{SpcIndirectDataContent} exactly as specified', async () => {
    const input = upstreamLikeStub();
    const signed = await signPe(input, signer, { signingTime: 1700000000 });
    const { pe, sd } = signatureOf(signed);
    expect(sd.version).toBe(1);
    // sha256 with explicit NULL parameters, in digestAlgorithms, DigestInfo and SignerInfo.
    expect(sd.digestAlgorithms.map((a) => a.algorithm)).toEqual(['2.16.840.1.101.3.4.2.1']);
    const sha256Null = Buffer.from('300d06096086480165030402010500', 'hex');
    const rsaNull = Buffer.from('300d06092a864886f70d0101010500', 'hex');
    const hexCount = (hay: Buffer, needle: Buffer) => hay.toString('hex').split(needle.toString('hex')).length - 1;
    const der = Buffer.from(signatureOf(signed).der);
    expect(hexCount(der, sha256Null)).toBe(3);
    expect(hexCount(der, rsaNull)).toBe(2); // the certificate SPKI and digestEncryptionAlgorithm
    expect(sd.encapContentInfo.eContentType).toBe('1.3.6.1.4.1.311.2.1.4');
    const spcDer = new Uint8Array(sd.encapContentInfo.eContent!.any!);
    const spc = decodeSpcIndirectDataContent(spcDer);
    expect(spc.type).toBe('1.3.6.1.4.1.311.2.1.15');
    expect(spc.digestAlgorithm).toBe('2.16.840.1.101.3.4.2.1');
    expect(Buffer.from(spc.digest)).toEqual(authenticodeDigest(pe));
    expect(sd.certificates).toHaveLength(1);
    expect(Buffer.from(AsnConvert.serialize(sd.certificates![0]!.certificate!))).toEqual(keys.certDer);
    const si = sd.signerInfos[0]!;
    expect(si.version).toBe(1);
    expect(si.signatureAlgorithm.algorithm).toBe('1.2.840.113549.1.1.1');
    expect(si.signedAttrs!.map((a) => a.attrType)).toEqual(['1.2.840.113549.1.9.3', '1.2.840.113549.1.9.5', '1.2.840.113549.1.9.4']);
    // signingTime = UTCTime 231114221320Z
    expect(Buffer.from(si.signedAttrs![1]!.attrValues[0]!).toString('latin1')).toContain('231114221320Z');
    // messageDigest = SHA-256 of the SpcIndirectDataContent value octets (no tag/length)
    const md = AsnConvert.parse(si.signedAttrs![2]!.attrValues[0]!, OctetString);
    const valueOctets = spcDer.subarray(spcDer[1]! < 0x80 ? 2 : 2 + (spcDer[1]! & 0x7f));
    expect(Buffer.from(md.buffer)).toEqual(createHash('sha256').update(valueOctets).digest());
    // The signature covers the DER SET of the attributes.
    const set = signedAttributesSet(Buffer.from(AsnConvert.serialize(si)));
    expect(verify('sha256', set, createPublicKey(keys.cert), Buffer.from(si.signature.buffer))).toBe(true);
  });

  it('is deterministic for a fixed signing time, and the time changes only the signature', async () => {
    const input = upstreamLikeStub();
    const a = await signPe(input, signer, { signingTime: 0 });
    const b = await signPe(input, signer, { signingTime: 0 });
    const c = await signPe(input, signer, { signingTime: 86400 });
    expect(Buffer.from(a)).toEqual(Buffer.from(b));
    expect(Buffer.from(a)).not.toEqual(Buffer.from(c));
    const off = parsePe(a).certificateTable!.offset;
    expect(Buffer.from(a.subarray(0, off))).toEqual(Buffer.from(c.subarray(0, off)));
    const none = signatureOf(await signPe(input, signer, { signingTime: null })).sd;
    expect(none.signerInfos[0]!.signedAttrs!.map((x) => x.attrType)).toEqual(['1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4']);
  });

  it('pads an unaligned image to 8 bytes and points data directory 4 at the certificate', async () => {
    const input = syntheticPe({
      sectionAlignment: 0x1000, fileAlignment: 0x200, imageBase: 0n,
      sections: [{ name: '.text', virtualAddress: 0x1000, virtualSize: 0x10, data: fill(0x10, 1), characteristics: 0x60000020 }],
      trailing: fill(13, 2),
    });
    expect(input.length % 8).not.toBe(0);
    const signed = await signPe(input, signer, { signingTime: 0 });
    const pe = parsePe(signed);
    const aligned = Math.ceil(input.length / 8) * 8;
    expect(pe.certificateTable).toEqual({ offset: aligned, size: signed.length - aligned });
    expect(pe.certificateTable!.size % 8).toBe(0);
    expect(signed.subarray(input.length, aligned).every((x) => x === 0)).toBe(true);
    // CheckSum is not recomputed.
    expect(pe.optional.checkSum).toBe(0x1234abcd);
    // Digest of the signed file = digest of the unsigned input (zero padding included in both).
    expect(authenticodeDigest(pe)).toEqual(authenticodeDigest(parsePe(input)));
  });

  it('appends a second signature to a signed image, keeping the first', async () => {
    const other = makeTestKeyPair(t.dir, 'other');
    const once = await signPe(upstreamLikeStub(), signer, { signingTime: 0 });
    const twice = await signPe(once, pemSigner(other.cert, other.key), { signingTime: 0 });
    const pe = parsePe(twice);
    expect(pe.certificates).toHaveLength(2);
    expect(Buffer.from(twice.subarray(0, once.length - 0))).not.toEqual(Buffer.from(once)); // directory size changed
    expect(Buffer.from(pe.certificates[0]!.data)).toEqual(Buffer.from(parsePe(once).certificates[0]!.data));
  });

  it('signs a streamed assembly like the in-memory image', async () => {
    const asm = appendSections(upstreamLikeStub(), [{ name: '.linux', content: fill(5000, 3) }], { timeDateStamp: 0 });
    const unsigned = await peAssemblyBytes(asm);
    const viaStream = await peAssemblyBytes(await signPeAssembly(asm, signer, { signingTime: 5 }));
    const viaBytes = await signPe(unsigned, signer, { signingTime: 5 });
    expect(Buffer.from(viaStream)).toEqual(Buffer.from(viaBytes));
  });

  it('rejects keys that do not fit', () => {
    const other = makeTestKeyPair(t.dir, 'mismatch');
    expect(() => pemSigner(keys.cert, other.key)).toThrow(/does not belong/);
    const ec = runTool('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    try {
      pemSigner(keys.cert, ec.stdout);
      throw new Error('accepted an EC key');
    } catch (err) {
      expect(err).toBeInstanceOf(ImagekitError);
      expect((err as ImagekitError).code).toBe('E_SIGNER_KEY_TYPE');
    }
    expect(() => pemSigner('not a cert', keys.key)).toThrow(ImagekitError);
  });
});
