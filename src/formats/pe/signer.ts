/**
 * The signing seam for Authenticode and authenticated EFI variables (talos-imager.md §7.1, §7.3):
 * a certificate and a function that signs bytes with its key. A PEM key pair is one implementation;
 * a KMS or remote signer only has to provide the same two members.
 */
import { X509Certificate, createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { invalidInput, unsupported } from '../../core/errors.js';

export interface CertificateSigner {
  /** DER X.509 certificate of the signing key. */
  readonly certificate: Uint8Array;
  /** RSASSA-PKCS1-v1_5 signature with SHA-256 over `data` (the signer hashes). */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

function toText(pem: string | Uint8Array): string {
  return typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8');
}

/** Parse an RSA private key (PEM: PKCS#1 or PKCS#8). */
export function rsaPrivateKeyFromPem(pem: string | Uint8Array, label: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: toText(pem), format: 'pem' });
  } catch (err) {
    throw invalidInput('E_SIGNER_KEY', `${label}: not a PEM private key (${(err as Error).message})`, err);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw unsupported('E_SIGNER_KEY_TYPE', `${label}: ${key.asymmetricKeyType ?? 'unknown'} keys are not supported, use RSA`);
  }
  return key;
}

/** Parse a PEM (or DER) X.509 certificate. */
export function certificateFromPem(pem: string | Uint8Array, label: string): X509Certificate {
  try {
    return new X509Certificate(typeof pem === 'string' ? pem : Buffer.from(pem));
  } catch (err) {
    throw invalidInput('E_SIGNER_CERTIFICATE', `${label}: not an X.509 certificate (${(err as Error).message})`, err);
  }
}

/** A signer from a PEM certificate and its PEM RSA private key (the imager's file signer). */
export function pemSigner(certificatePem: string | Uint8Array, privateKeyPem: string | Uint8Array, label = 'SecureBoot signing key'): CertificateSigner {
  const certificate = certificateFromPem(certificatePem, `${label} certificate`);
  const key = rsaPrivateKeyFromPem(privateKeyPem, `${label} private key`);
  if (!certificate.checkPrivateKey(key)) {
    throw invalidInput('E_SIGNER_KEY_MISMATCH', `${label}: the private key does not belong to the certificate ${certificate.subject.replace(/\n/g, ', ')}`);
  }
  const der = new Uint8Array(certificate.raw);
  return {
    certificate: der,
    sign: async (data) => new Uint8Array(cryptoSign('sha256', data, key)),
  };
}
