/**
 * The protective MBR in LBA 0 (UEFI spec §5.2.3; talos-imager.md §9.3): one partition of type 0xEE
 * covering the disk from LBA 1, so MBR-only tools see the disk as in use.
 */
import { invalidInput } from '../../core/errors.js';

const ENTRY_OFFSET = 446;
const SIGNATURE_OFFSET = 510;
const TYPE_GPT_PROTECTIVE = 0xee;

/** The 512-byte protective MBR for a disk whose last LBA is `lastLba`. */
export function encodeProtectiveMbr(lastLba: number): Buffer {
  const mbr = Buffer.alloc(512);
  const e = mbr.subarray(ENTRY_OFFSET, ENTRY_OFFSET + 16);
  e[0] = 0x00; // not bootable: image mode never sets LegacyBIOSSupport
  e.set([0x00, 0x02, 0x00], 1); // CHS of LBA 1
  e[4] = TYPE_GPT_PROTECTIVE;
  e.set([0xff, 0xff, 0xff], 5); // CHS "beyond 8 GiB"
  e.writeUInt32LE(1, 8);
  e.writeUInt32LE(Math.min(lastLba, 0xffffffff), 12);
  mbr[SIGNATURE_OFFSET] = 0x55;
  mbr[SIGNATURE_OFFSET + 1] = 0xaa;
  return mbr;
}

export interface ProtectiveMbr {
  /** Index (0–3) of the 0xEE entry. */
  entry: number;
  startLba: number;
  sizeLba: number;
  bootable: boolean;
}

/** Parse LBA 0; throws unless it carries the 55 AA signature and a 0xEE partition. */
export function decodeProtectiveMbr(sector: Uint8Array, what = 'disk'): ProtectiveMbr {
  const b = Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength);
  if (b.length < 512) throw invalidInput('E_GPT_NO_PMBR', `${what}: shorter than one sector`);
  if (b[SIGNATURE_OFFSET] !== 0x55 || b[SIGNATURE_OFFSET + 1] !== 0xaa) {
    throw invalidInput('E_GPT_NO_PMBR', `${what}: no MBR signature 55 AA in LBA 0`);
  }
  for (let i = 0; i < 4; i++) {
    const e = b.subarray(ENTRY_OFFSET + 16 * i, ENTRY_OFFSET + 16 * (i + 1));
    if (e[4] === TYPE_GPT_PROTECTIVE) {
      return { entry: i, startLba: e.readUInt32LE(8), sizeLba: e.readUInt32LE(12), bootable: e[0] === 0x80 };
    }
  }
  throw invalidInput('E_GPT_NO_PMBR', `${what}: LBA 0 has no protective (type 0xEE) partition`);
}
