import { createHash, createPublicKey, verify } from 'node:crypto';
import { SignedData } from '@peculiar/asn1-cms';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authenticatedVariable,
  efiGuid,
  efiGuidText,
  efiTime,
  encodeSignatureLists,
  enrollmentOwnerGuid,
  generateEnrollmentDatabase,
  parseSignatureLists,
  sha256NameUuid,
  WELL_KNOWN_DB_CERTIFICATES,
  WELL_KNOWN_KEK_CERTIFICATES,
  x509SignatureDatabase,
} from '../../../src/boot/secureboot/index.js';
import { ImagekitError } from '../../../src/core/errors.js';
import { pemSigner, type CertificateSigner } from '../../../src/formats/pe/index.js';
import { missingTools, tempDir } from '../../helpers/tools.js';
import { signedAttributesSet } from '../pe/der.js';
import { makeTestKeyPair, type TestKeyPair } from '../pe/test-keys.js';

describe('EFI GUIDs, time, signature lists', () => {
  it('stores GUIDs mixed-endian', () => {
    expect(Buffer.from(efiGuid('8be4df61-93ca-11d2-aa0d-00e098032b8c')).toString('hex')).toBe('61dfe48bca93d211aa0d00e098032b8c');
    expect(efiGuidText(efiGuid('d719b2cb-3d3a-4596-a3bc-dad00e67656f'))).toBe('d719b2cb-3d3a-4596-a3bc-dad00e67656f');
    expect(() => efiGuid('nope')).toThrow(ImagekitError);
  });

  it('name-based SHA-256 UUID as google/uuid NewHash(sha256, X500, data, 4)', () => {
    const data = Buffer.from('-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n');
    const h = createHash('sha256').update(Buffer.from('6ba7b8149dad11d180b400c04fd430c8', 'hex')).update(data).digest();
    h[6] = (h[6]! & 0x0f) | 0x40;
    h[8] = (h[8]! & 0x3f) | 0x80;
    const hex = h.subarray(0, 16).toString('hex');
    expect(sha256NameUuid(data)).toBe(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`);
    expect(sha256NameUuid(data)[14]).toBe('4');
    expect(enrollmentOwnerGuid(data.toString())).toBe(sha256NameUuid(data));
  });

  it('EFI_TIME from SOURCE_DATE_EPOCH (UTC)', () => {
    expect(Buffer.from(efiTime(1700000000)).toString('hex')).toBe('e7070b0e160d14000000000000000000');
    expect(Buffer.from(efiTime(0)).toString('hex')).toBe('b2070101000000000000000000000000');
    expect(() => efiTime(-1)).toThrow(ImagekitError);
  });

  it('groups certificates by size like go-uefi and round-trips', () => {
    const a = { owner: '11111111-2222-3333-4444-555555555555', data: new Uint8Array(10).fill(1) };
    const b = { owner: '77fa9abd-0359-4d32-bd60-28f4e78f784b', data: new Uint8Array(12).fill(2) };
    const c = { owner: '77fa9abd-0359-4d32-bd60-28f4e78f784b', data: new Uint8Array(10).fill(3) };
    const lists = x509SignatureDatabase([a, b, c, c]);
    expect(lists.map((l) => l.entries.length)).toEqual([2, 1]);
    const bytes = encodeSignatureLists(lists);
    expect(bytes.length).toBe(28 + 2 * 26 + 28 + 28);
    const v = Buffer.from(bytes);
    expect(v.subarray(0, 16).toString('hex')).toBe('a159c0a5e494a74a87b5ab155c2bf072');
    expect([v.readUInt32LE(16), v.readUInt32LE(20), v.readUInt32LE(24)]).toEqual([80, 0, 26]);
    expect(parseSignatureLists(bytes)).toEqual(lists);
    expect(() => parseSignatureLists(bytes.subarray(0, 40))).toThrow(ImagekitError);
    const bad = Buffer.from(bytes);
    bad.writeUInt32LE(7, 24);
    expect(() => parseSignatureLists(bad)).toThrow(ImagekitError);
  });

  it('the well-known Microsoft certificates are intact', () => {
    for (const c of [...WELL_KNOWN_DB_CERTIFICATES, ...WELL_KNOWN_KEK_CERTIFICATES]) {
      expect(createHash('sha256').update(Buffer.from(c.der, 'base64')).digest('hex')).toBe(c.sha256);
    }
  });
});

describe.skipIf(missingTools('openssl'))('.auth files (talos-imager.md §7.3)', () => {
  let t: ReturnType<typeof tempDir>;
  let keys: TestKeyPair;
  let signer: CertificateSigner;
  beforeAll(() => {
    t = tempDir('imagekit-auth-');
    keys = makeTestKeyPair(t.dir, 'talos', 'imagekit enrollment test');
    signer = pemSigner(keys.cert, keys.key);
  });
  afterAll(() => t?.cleanup());

  it('EFI_VARIABLE_AUTHENTICATION_2 layout and a detached signature over the payload', async () => {
    const data = encodeSignatureLists(x509SignatureDatabase([{ owner: enrollmentOwnerGuid(keys.cert), data: new Uint8Array(keys.certDer) }]));
    const v = await authenticatedVariable({ name: 'PK', vendorGuid: '8be4df61-93ca-11d2-aa0d-00e098032b8c', data, timestamp: 1700000000 }, signer);
    const a = Buffer.from(v.auth);
    expect(a.subarray(0, 16)).toEqual(Buffer.from(efiTime(1700000000)));
    const dwLength = a.readUInt32LE(16);
    expect([a.readUInt16LE(20), a.readUInt16LE(22)]).toEqual([0x0200, 0x0ef1]);
    expect(efiGuidText(a.subarray(24, 40))).toBe('4aafd29d-68df-49ee-8aa9-347d375665a7');
    expect(dwLength).toBe(24 + v.signedData.length);
    expect(a.subarray(40, 16 + dwLength)).toEqual(Buffer.from(v.signedData));
    expect(a.subarray(16 + dwLength)).toEqual(Buffer.from(data));
    expect(Buffer.from(v.signedPayload)).toEqual(Buffer.concat([Buffer.from('PK', 'utf16le'), Buffer.from(efiGuid('8be4df61-93ca-11d2-aa0d-00e098032b8c')), Buffer.from([0x27, 0, 0, 0]), Buffer.from(efiTime(1700000000)), Buffer.from(data)]));
    // SignedData: detached id-data, messageDigest = SHA-256(payload), signature by the key.
    const sd = AsnConvert.parse(v.signedData, SignedData);
    expect(sd.encapContentInfo.eContentType).toBe('1.2.840.113549.1.7.1');
    expect(sd.encapContentInfo.eContent).toBeUndefined();
    const si = sd.signerInfos[0]!;
    const md = si.signedAttrs!.find((x) => x.attrType === '1.2.840.113549.1.9.4')!;
    expect(Buffer.from(AsnConvert.parse(md.attrValues[0]!, OctetString).buffer)).toEqual(createHash('sha256').update(v.signedPayload).digest());
    const set = signedAttributesSet(Buffer.from(AsnConvert.serialize(si)));
    expect(verify('sha256', set, createPublicKey(keys.cert), Buffer.from(si.signature.buffer))).toBe(true);
    expect(verify('sha256', Buffer.concat([set, Buffer.from([0])]), createPublicKey(keys.cert), Buffer.from(si.signature.buffer))).toBe(false);
  });

  it('PK/KEK/db with and without the well-known certificates, reproducibly', async () => {
    const opts = { enrolledCertificatePem: keys.cert, signer, timestamp: 1700000000 };
    const files = await generateEnrollmentDatabase(opts);
    expect(files.map((f) => f.name)).toEqual(['db.auth', 'KEK.auth', 'PK.auth']);
    const again = await generateEnrollmentDatabase(opts);
    expect(again.map((f) => Buffer.from(f.contents).toString('hex'))).toEqual(files.map((f) => Buffer.from(f.contents).toString('hex')));
    const esl = (auth: Uint8Array) => parseSignatureLists(auth.subarray(16 + Buffer.from(auth).readUInt32LE(16)));
    const owner = enrollmentOwnerGuid(keys.cert);
    for (const f of files) {
      const lists = esl(f.contents);
      expect(lists).toHaveLength(1);
      expect(lists[0]!.entries).toEqual([{ owner, data: new Uint8Array(keys.certDer) }]);
    }
    const withMs = await generateEnrollmentDatabase({ ...opts, includeWellKnownCertificates: true });
    const [db, kek, pk] = withMs.map((f) => esl(f.contents));
    expect(db!.flatMap((l) => l.entries.map((e) => e.owner))).toEqual([owner, '77fa9abd-0359-4d32-bd60-28f4e78f784b', '77fa9abd-0359-4d32-bd60-28f4e78f784b', '77fa9abd-0359-4d32-bd60-28f4e78f784b']);
    expect(kek!.flatMap((l) => l.entries)).toHaveLength(3);
    expect(pk!.flatMap((l) => l.entries)).toHaveLength(1);
    expect(Buffer.from(db!.flatMap((l) => l.entries)[1]!.data).toString('base64')).toBe(WELL_KNOWN_DB_CERTIFICATES[0]!.der);
  });

  it('refuses a DER certificate as the enrolled PEM', async () => {
    await expect(generateEnrollmentDatabase({ enrolledCertificatePem: new Uint8Array(keys.certDer), signer, timestamp: 0 })).rejects.toThrow(/PEM/);
  });
});
