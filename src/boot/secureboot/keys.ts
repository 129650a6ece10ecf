/**
 * Loading SecureBoot keys from files, as the imager's file signer does (`--secureboot-signing-key`,
 * `--secureboot-signing-cert`, `--secureboot-pcr-key`; keys dir names `uki-signing-key.pem`,
 * `uki-signing-cert.pem`, `pcr-signing-key.pem`).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError } from '../../core/errors.js';
import { pemSigner, type CertificateSigner } from '../../formats/pe/signer.js';
import { pcrSignerFromPem, type PcrSigner } from './pcr-signature.js';

async function read(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw ioError('E_SECUREBOOT_KEY_READ', `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
}

export interface SecureBootKeyFiles {
  signingKeyPath: string;
  signingCertPath: string;
  pcrKeyPath: string;
}

/** File names of a keys directory, as the imager's SecureBoot profiles mount it at `/secureboot/`. */
export const SECUREBOOT_KEY_FILE_NAMES = {
  signingKey: 'uki-signing-key.pem',
  signingCert: 'uki-signing-cert.pem',
  pcrKey: 'pcr-signing-key.pem',
} as const;

export function secureBootKeyFilesInDir(dir: string): SecureBootKeyFiles {
  return {
    signingKeyPath: join(dir, SECUREBOOT_KEY_FILE_NAMES.signingKey),
    signingCertPath: join(dir, SECUREBOOT_KEY_FILE_NAMES.signingCert),
    pcrKeyPath: join(dir, SECUREBOOT_KEY_FILE_NAMES.pcrKey),
  };
}

export interface SecureBootKeys {
  signer: CertificateSigner;
  /** The signing certificate as read (PEM): the enrolled certificate of `.auth` files. */
  signingCertPem: Uint8Array;
  pcrSigner: PcrSigner;
}

export async function loadSecureBootKeys(files: SecureBootKeyFiles): Promise<SecureBootKeys> {
  // One after the other, so a missing file is always reported the same way.
  const key = await read(files.signingKeyPath, 'SecureBoot signing key');
  const cert = await read(files.signingCertPath, 'SecureBoot signing certificate');
  const pcr = await read(files.pcrKeyPath, 'PCR signing key');
  return {
    signer: pemSigner(cert, key, `SecureBoot signing key ${files.signingKeyPath}`),
    signingCertPem: new Uint8Array(cert),
    pcrSigner: pcrSignerFromPem(pcr, `PCR signing key ${files.pcrKeyPath}`),
  };
}
