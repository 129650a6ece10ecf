/**
 * PCR 11 prediction for a UKI (talos-imager.md §7.2, systemd-measure semantics with Talos's extra
 * `enter-machined` phase):
 *   pcr = zeros; extend(x) := pcr = H(pcr || H(x))
 *   for each present section in MEASURED_SECTION_ORDER: extend(name + "\0"); extend(content)
 *   then extend(phase) for each boot phase; the signature is made after `enter-machined`.
 *
 * Section contents are hashed once per section for all banks, in one streamed pass.
 */
import { createHash } from 'node:crypto';
import { sourceChunks, type ByteSource } from '../../formats/pe/byte-source.js';

export type PcrBank = 'sha256' | 'sha384' | 'sha512';

/** Banks Talos signs, in the order they appear in `.pcrsig`. */
export const PCR_BANKS: readonly PcrBank[] = ['sha256', 'sha384', 'sha512'];

/** The PCR the systemd-stub measures UKI sections into. */
export const UKI_PCR = 11;

/** Measurement order (systemd `src/fundamental/uki.h` as of v257; `.pcrsig` is never measured). */
export const MEASURED_SECTION_ORDER = [
  '.linux', '.osrel', '.cmdline', '.initrd', '.ucode', '.splash', '.dtb', '.uname', '.sbat', '.pcrpkey', '.profile', '.dtbauto', '.hwids',
] as const;

/** Boot phases extended into PCR 11 by Talos (`internal/pkg/secureboot/secureboot.go`). */
export const PCR_PHASES: ReadonlyArray<{ phase: string; signed: boolean }> = [
  { phase: 'enter-initrd', signed: false },
  { phase: 'leave-initrd', signed: false },
  { phase: 'enter-machined', signed: true },
];

export type BankDigests = Record<PcrBank, Buffer>;

/** H(content) for every bank, in one pass over the content. */
export async function digestForBanks(content: ByteSource, label: string): Promise<BankDigests> {
  const hashes = PCR_BANKS.map((b) => createHash(b));
  for await (const chunk of sourceChunks(content, label)) for (const h of hashes) h.update(chunk);
  return Object.fromEntries(PCR_BANKS.map((b, i) => [b, hashes[i]!.digest()])) as BankDigests;
}

const hashOf = (bank: PcrBank, ...parts: Uint8Array[]) => {
  const h = createHash(bank);
  for (const p of parts) h.update(p);
  return h.digest();
};

/**
 * PCR 11 values after the sections are measured and after each phase, for one bank.
 * `sections` maps a section name to the digests of its content (see `digestForBanks`).
 */
export function predictPcr11(sections: ReadonlyMap<string, BankDigests>, bank: PcrBank): { afterSections: Buffer; phases: Array<{ phase: string; signed: boolean; value: Buffer }> } {
  let pcr: Buffer = Buffer.alloc(createHash(bank).digest().length);
  const extendDigest = (digest: Uint8Array) => {
    pcr = hashOf(bank, pcr, digest);
  };
  for (const name of MEASURED_SECTION_ORDER) {
    const digests = sections.get(name);
    if (!digests) continue;
    extendDigest(hashOf(bank, Buffer.from(`${name}\0`, 'latin1')));
    extendDigest(digests[bank]);
  }
  const afterSections = pcr;
  const phases = PCR_PHASES.map(({ phase, signed }) => {
    extendDigest(hashOf(bank, Buffer.from(phase, 'latin1')));
    return { phase, signed, value: pcr };
  });
  return { afterSections, phases };
}
