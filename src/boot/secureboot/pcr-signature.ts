/**
 * The `.pcrsig` section and the `.pcrpkey` key (talos-imager.md §6.1, §7.2 steps 5-6): for each bank,
 * the PolicyPCR digest of the predicted PCR 11 value at `enter-machined`, signed with the PCR key
 * (RSASSA-PKCS1-v1_5 over the policy digest, hashed with the bank's hash).
 *
 * JSON as Go's encoding/json writes it: no spaces, keys `pcrs, pkfp, pol, sig`, banks
 * `sha256, sha384, sha512`, no `sha1`.
 */
import { createHash, createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { invalidInput, unsupported } from '../../core/errors.js';
import { rsaPrivateKeyFromPem } from '../../formats/pe/signer.js';
import { PCR_BANKS, predictPcr11, UKI_PCR, type BankDigests, type PcrBank } from './pcr-prediction.js';
import { policyPcrDigest } from './tpm2-policy.js';

/** The PCR signing seam: an RSA public key and a signer; a KMS can implement it as well. */
export interface PcrSigner {
  /** SubjectPublicKeyInfo DER of the RSA public key. */
  readonly publicKey: Uint8Array;
  /** RSASSA-PKCS1-v1_5 signature over `data`, hashed with `hash`. */
  sign(data: Uint8Array, hash: PcrBank): Promise<Uint8Array>;
}

export interface PcrBankEntry {
  pcrs: number[];
  /** hex SHA-256 of the PKCS#1 DER public key. */
  pkfp: string;
  /** hex policy digest. */
  pol: string;
  /** base64 signature. */
  sig: string;
}

export type PcrSignatureData = Partial<Record<'sha1' | PcrBank, PcrBankEntry[]>>;

/** A PCR signer from a PEM RSA private key (PKCS#1 or PKCS#8). */
export function pcrSignerFromPem(privateKeyPem: string | Uint8Array, label = 'PCR signing key'): PcrSigner {
  const key = rsaPrivateKeyFromPem(privateKeyPem, label);
  const publicKey = new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  return { publicKey, sign: async (data, hash) => new Uint8Array(cryptoSign(hash, data, key)) };
}

function rsaPublicKey(spki: Uint8Array): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (err) {
    throw invalidInput('E_PCR_KEY', `PCR public key is not a DER SubjectPublicKeyInfo (${(err as Error).message})`, err);
  }
  if (key.asymmetricKeyType !== 'rsa') throw unsupported('E_PCR_KEY_TYPE', `PCR key must be RSA, got ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

/** `.pcrpkey` content: PEM `PUBLIC KEY` (64-column base64, trailing newline, as Go's pem package). */
export function pcrPublicKeyPem(signer: Pick<PcrSigner, 'publicKey'>): string {
  return rsaPublicKey(signer.publicKey).export({ type: 'spki', format: 'pem' }).toString();
}

/** `pkfp`: SHA-256 of the PKCS#1 RSAPublicKey DER. */
export function pcrPublicKeyFingerprint(signer: Pick<PcrSigner, 'publicKey'>): string {
  const pkcs1 = rsaPublicKey(signer.publicKey).export({ type: 'pkcs1', format: 'der' });
  return createHash('sha256').update(pkcs1).digest('hex');
}

/**
 * Predict PCR 11 for one set of UKI sections (name → content digests) and sign the policy for
 * every bank at each signed phase.
 */
export async function signPcrPolicy(sections: ReadonlyMap<string, BankDigests>, signer: PcrSigner): Promise<PcrSignatureData> {
  const pkfp = pcrPublicKeyFingerprint(signer);
  const data: PcrSignatureData = {};
  for (const bank of PCR_BANKS) {
    const entries: PcrBankEntry[] = [];
    for (const phase of predictPcr11(sections, bank).phases) {
      if (!phase.signed) continue;
      const pol = policyPcrDigest(phase.value, bank, [UKI_PCR]);
      const sig = await signer.sign(pol, bank);
      entries.push({ pcrs: [UKI_PCR], pkfp, pol: pol.toString('hex'), sig: Buffer.from(sig).toString('base64') });
    }
    data[bank] = entries;
  }
  return data;
}

/** The `.pcrsig` bytes: compact JSON in Go's field order. */
export function encodePcrSignature(data: PcrSignatureData): Uint8Array {
  const ordered: Record<string, PcrBankEntry[]> = {};
  for (const bank of ['sha1', ...PCR_BANKS] as const) {
    const entries = data[bank];
    if (entries && entries.length > 0) ordered[bank] = entries.map((e) => ({ pcrs: e.pcrs, pkfp: e.pkfp, pol: e.pol, sig: e.sig }));
  }
  return new TextEncoder().encode(JSON.stringify(ordered));
}
