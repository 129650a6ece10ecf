/**
 * SecureBoot inputs of a build (talos-imager.md §6.4, §7, §9.4): the signers from the profile's
 * `input.secureboot` (key files; upstream's defaults are `/secureboot/uki-signing-key.pem`,
 * `uki-signing-cert.pem`, `pcr-signing-key.pem`), and the key-enrollment `.auth` files of a disk
 * image: pre-built (`platformKeyPath`, `keyExchangeKeyPath`, `signatureKeyPath`, all or none) or
 * generated from the signing certificate. Remote signers (gRPC signer addresses, Azure Key Vault,
 * AWS KMS) are not implemented and refused with exit code 3.
 */
import { readFile } from 'node:fs/promises';
import { invalidInput, ioError, unsupported } from '../core/errors.js';
import { generateEnrollmentDatabase } from '../boot/secureboot/enrollment-database.js';
import { pcrSignerFromPem, type PcrSigner } from '../boot/secureboot/pcr-signature.js';
import type { SecureBootEnrollment } from '../boot/disk/esp.js';
import { pemSigner, type CertificateSigner } from '../formats/pe/signer.js';
import type { Profile, SecureBootAssets, SigningKey, SigningKeyAndCertificate } from '../profile/schema.js';

export interface SecureBootSigners {
  signer: CertificateSigner;
  /** The signing certificate as read (its PEM bytes name the enrollment owner GUID). */
  certificatePem: Uint8Array;
  pcrSigner: PcrSigner;
}

function checkFileSigner(s: SigningKeyAndCertificate | SigningKey, what: string): void {
  const remote = [
    ['signerAddress', s.signerAddress],
    ['azureVaultURL', s.azureVaultURL],
    ['awsKMSKeyID', s.awsKMSKeyID],
  ].filter(([, v]) => v !== '');
  if (remote.length > 0) {
    throw unsupported('E_SECUREBOOT_SIGNER_UNSUPPORTED', `${what}: ${remote.map(([k]) => k).join(', ')} signers are not supported yet; use keyPath${'certPath' in s ? '/certPath' : ''} files`);
  }
  if (s.keyPath === '') throw invalidInput('E_SECUREBOOT_SIGNER', `${what}: keyPath is empty`);
  if ('certPath' in s && s.certPath === '') throw invalidInput('E_SECUREBOOT_SIGNER', `${what}: certPath is empty`);
}

/** Refuse what cannot be signed, before anything is read. */
export function checkSecureBoot(p: Profile): void {
  if (p.secureboot !== true) return;
  const sb = p.input.secureboot;
  if (!sb) throw invalidInput('E_SECUREBOOT_SIGNER', 'secureboot is on but input.secureboot is missing');
  checkFileSigner(sb.secureBootSigner, 'input.secureboot.secureBootSigner');
  checkFileSigner(sb.pcrSigner, 'input.secureboot.pcrSigner');
}

async function read(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw ioError('E_SECUREBOOT_KEY_READ', `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
}

export async function loadSecureBootSigners(sb: SecureBootAssets): Promise<SecureBootSigners> {
  const key = await read(sb.secureBootSigner.keyPath, 'SecureBoot signing key');
  const cert = await read(sb.secureBootSigner.certPath, 'SecureBoot signing certificate');
  const pcr = await read(sb.pcrSigner.keyPath, 'PCR signing key');
  return {
    signer: pemSigner(cert, key, `SecureBoot signing key ${sb.secureBootSigner.keyPath}`),
    certificatePem: new Uint8Array(cert),
    pcrSigner: pcrSignerFromPem(pcr, `PCR signing key ${sb.pcrSigner.keyPath}`),
  };
}

/** The `loader/keys/auto` files of a SecureBoot disk image, or none when enrollment is off (§7.3, §9.4). */
export async function enrollmentFor(p: Profile, signers: SecureBootSigners, sourceDateEpoch: number): Promise<SecureBootEnrollment | undefined> {
  const mode = p.output.imageOptions?.sdBootEnrollKeys ?? 'if-safe';
  if (mode === 'off') return undefined;
  const sb = p.input.secureboot!;
  const given = [sb.platformKeyPath, sb.keyExchangeKeyPath, sb.signatureKeyPath];
  if (given.some((g) => g !== '')) {
    if (given.some((g) => g === '')) {
      throw invalidInput('E_SECUREBOOT_ENROLL', 'input.secureboot: platformKeyPath, keyExchangeKeyPath and signatureKeyPath must be given together');
    }
    return {
      mode,
      pk: await read(sb.platformKeyPath, 'PK enrollment file'),
      kek: await read(sb.keyExchangeKeyPath, 'KEK enrollment file'),
      db: await read(sb.signatureKeyPath, 'db enrollment file'),
    };
  }
  const files = await generateEnrollmentDatabase({
    enrolledCertificatePem: signers.certificatePem,
    signer: signers.signer,
    includeWellKnownCertificates: sb.includeWellKnownCerts,
    timestamp: sourceDateEpoch,
  });
  const by = (name: string) => files.find((f) => f.name === name)!.contents;
  return { mode, pk: by('PK.auth'), kek: by('KEK.auth'), db: by('db.auth') };
}
