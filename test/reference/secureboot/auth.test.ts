/**
 * `.auth` files checked with efitools (cert-to-efi-sig-list, sign-efi-sig-list, sig-list-to-certs)
 * and openssl cms: same signature lists, same signed bundle, byte-identical `.auth` when efitools
 * wraps our detached signature, and the signature verifies.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContentInfo } from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authenticatedVariable,
  enrollmentOwnerGuid,
  generateEnrollmentDatabase,
  type EnrollmentFile,
} from '../../../src/boot/secureboot/index.js';
import { pemSigner, type CertificateSigner } from '../../../src/formats/pe/index.js';
import { missingTools, runTool, tempDir } from '../../helpers/tools.js';
import { makeTestKeyPair, type TestKeyPair } from '../../unit/pe/test-keys.js';

const skip = missingTools('openssl', 'cert-to-efi-sig-list', 'sign-efi-sig-list', 'sig-list-to-certs');
const EPOCH = 1700000000; // 2023-11-14 22:13:20 UTC
const EFITOOLS_TIME = '2023-11-14 22:13:20';

const eslOf = (auth: Uint8Array) => Buffer.from(auth.subarray(16 + Buffer.from(auth).readUInt32LE(16)));

describe.skipIf(skip)('.auth with efitools and openssl', () => {
  let t: ReturnType<typeof tempDir>;
  let keys: TestKeyPair;
  let signer: CertificateSigner;
  let files: EnrollmentFile[];
  beforeAll(async () => {
    t = tempDir('imagekit-auth-ref-');
    keys = makeTestKeyPair(t.dir, 'talos', 'imagekit enrollment test');
    signer = pemSigner(keys.cert, keys.key);
    files = await generateEnrollmentDatabase({ enrolledCertificatePem: keys.cert, signer, timestamp: EPOCH });
  });
  afterAll(() => t?.cleanup());

  it('our signature lists equal cert-to-efi-sig-list output, and sig-list-to-certs gets the certificate back', () => {
    const owner = enrollmentOwnerGuid(keys.cert);
    const ref = join(t.dir, 'ref.esl');
    expect(runTool('cert-to-efi-sig-list', ['-g', owner, keys.certPath, ref]).status).toBe(0);
    for (const f of files) expect(eslOf(f.contents)).toEqual(readFileSync(ref));
    const ours = join(t.dir, 'ours.esl');
    writeFileSync(ours, eslOf(files[0]!.contents));
    const prefix = join(t.dir, 'extracted');
    expect(runTool('sig-list-to-certs', [ours, prefix]).status).toBe(0);
    const der = readdirSync(t.dir).filter((n) => n.startsWith('extracted'));
    expect(der).toHaveLength(1);
    expect(readFileSync(join(t.dir, der[0]!))).toEqual(keys.certDer);
  });

  it('the signed bundle equals sign-efi-sig-list -o, and efitools wraps our SignedData into the same .auth', async () => {
    for (const [name, file, guidArgs] of [['PK', 'PK.auth', []], ['KEK', 'KEK.auth', []], ['db', 'db.auth', []]] as const) {
      const ours = files.find((f) => f.name === file)!.contents;
      const esl = join(t.dir, `${name}.esl`);
      writeFileSync(esl, eslOf(ours));
      const bundle = join(t.dir, `${name}.bundle`);
      const o = runTool('sign-efi-sig-list', [...guidArgs, '-o', '-t', EFITOOLS_TIME, name, esl, bundle]);
      expect(o.status).toBe(0);
      const vendor = name === 'db' ? 'd719b2cb-3d3a-4596-a3bc-dad00e67656f' : '8be4df61-93ca-11d2-aa0d-00e098032b8c';
      const v = await authenticatedVariable({ name, vendorGuid: vendor, data: eslOf(ours), timestamp: EPOCH }, signer);
      expect(Buffer.from(v.signedPayload)).toEqual(readFileSync(bundle));
      expect(Buffer.from(v.auth)).toEqual(Buffer.from(ours));
      // Hand our detached SignedData to efitools (-i embeds the given DER as the descriptor's CertData):
      // it must build the same file around it.
      const sigDer = join(t.dir, `${name}.signeddata.der`);
      writeFileSync(sigDer, v.signedData);
      const wrapped = join(t.dir, `${name}.efitools.auth`);
      const i = runTool('sign-efi-sig-list', ['-i', sigDer, '-t', EFITOOLS_TIME, name, esl, wrapped]);
      expect(i.status).toBe(0);
      expect(readFileSync(wrapped)).toEqual(Buffer.from(ours));
      const contentInfo = Buffer.from(AsnConvert.serialize(new ContentInfo({ contentType: '1.2.840.113549.1.7.2', content: Uint8Array.from(v.signedData).buffer })));
      // openssl verifies the detached signature over the bundle with our certificate as trust anchor.
      const der = join(t.dir, `${name}.p7.der`);
      writeFileSync(der, contentInfo);
      const verified = runTool('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', der, '-content', bundle, '-CAfile', keys.certPath, '-purpose', 'any', '-out', '/dev/null']);
      expect(verified.stderr).toContain('Verification successful');
      const tampered = Buffer.from(readFileSync(bundle));
      tampered[tampered.length - 1]! ^= 1;
      writeFileSync(`${bundle}.bad`, tampered);
      const refused = runTool('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', der, '-content', `${bundle}.bad`, '-CAfile', keys.certPath, '-purpose', 'any', '-out', '/dev/null']);
      expect(refused.status).not.toBe(0);
    }
  });

  it('efitools signing with the same key gives a structurally equal .auth (header, type, lists)', () => {
    const esl = join(t.dir, 'PK2.esl');
    writeFileSync(esl, eslOf(files.find((f) => f.name === 'PK.auth')!.contents));
    const out = join(t.dir, 'PK2.auth');
    expect(runTool('sign-efi-sig-list', ['-t', EFITOOLS_TIME, '-k', keys.keyPath, '-c', keys.certPath, 'PK', esl, out]).status).toBe(0);
    const ref = readFileSync(out);
    const ours = Buffer.from(files.find((f) => f.name === 'PK.auth')!.contents);
    expect(ours.subarray(0, 16)).toEqual(ref.subarray(0, 16)); // EFI_TIME
    expect(ours.subarray(20, 40)).toEqual(ref.subarray(20, 40)); // revision, type, PKCS7 GUID
    expect(eslOf(ours)).toEqual(eslOf(ref));
  });
});
