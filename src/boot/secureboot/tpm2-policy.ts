/**
 * TPM2 PolicyPCR digest for one PCR value (talos-imager.md §7.2 step 4). The policy session is
 * always SHA-256, whatever the bank of the PCR:
 *   pol = SHA256( zeros32 || u32be(TPM_CC_PolicyPCR = 0x17F) || TPML_PCR_SELECTION || SHA256(pcr) )
 *   TPML_PCR_SELECTION = u32be(1) || u16be(bank alg) || u8(3) || 3-byte PCR bitmap
 */
import { createHash } from 'node:crypto';
import { invalidInput } from '../../core/errors.js';
import type { PcrBank } from './pcr-prediction.js';

export const TPM_CC_POLICY_PCR = 0x0000017f;

/** TPM_ALG_ID of each bank. */
export const TPM_ALG: Record<PcrBank, number> = { sha256: 0x000b, sha384: 0x000c, sha512: 0x000d };

/** TPML_PCR_SELECTION with one selection of the given PCRs (0..23) in `bank`. */
export function pcrSelection(bank: PcrBank, pcrs: readonly number[]): Buffer {
  const out = Buffer.alloc(4 + 2 + 1 + 3);
  out.writeUInt32BE(1, 0);
  out.writeUInt16BE(TPM_ALG[bank], 4);
  out.writeUInt8(3, 6);
  for (const n of pcrs) {
    if (!Number.isInteger(n) || n < 0 || n > 23) throw invalidInput('E_PCR_INDEX', `PCR index ${n} is outside 0..23`);
    out[7 + (n >> 3)]! |= 1 << (n & 7);
  }
  return out;
}

/** PolicyPCR policy digest for a trial session that starts from zeros. */
export function policyPcrDigest(pcrValue: Uint8Array, bank: PcrBank, pcrs: readonly number[]): Buffer {
  const cc = Buffer.alloc(4);
  cc.writeUInt32BE(TPM_CC_POLICY_PCR);
  const pcrDigest = createHash('sha256').update(pcrValue).digest();
  return createHash('sha256').update(Buffer.alloc(32)).update(cc).update(pcrSelection(bank, pcrs)).update(pcrDigest).digest();
}
