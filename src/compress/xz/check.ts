/**
 * Integrity checks of the .xz format (xz-file-format §2.1.1.2, §3.4): none, CRC32, CRC64, SHA-256.
 * The Linux kernel accepts only none and CRC32 in an xz initramfs or squashfs (xz-embedded), which
 * is why CRC32 is the default wherever the output is for the kernel.
 */
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { invalidInput } from '../../core/errors.js';
import { Crc64 } from './crc64.js';

export type XzCheck = 'none' | 'crc32' | 'crc64' | 'sha256';

export const CHECK_ID: Record<XzCheck, number> = { none: 0x00, crc32: 0x01, crc64: 0x04, sha256: 0x0a };

/** Size of the check field for each of the 16 check IDs (§3.4; IDs without a name are reserved). */
export const CHECK_SIZE_BY_ID = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

export function checkSize(check: XzCheck): number {
  return CHECK_SIZE_BY_ID[CHECK_ID[check]]!;
}

export function checkFromId(id: number): XzCheck | null {
  switch (id) {
    case 0x00:
      return 'none';
    case 0x01:
      return 'crc32';
    case 0x04:
      return 'crc64';
    case 0x0a:
      return 'sha256';
    default:
      return null;
  }
}

export function parseCheck(value: string): XzCheck {
  if (value === 'none' || value === 'crc32' || value === 'crc64' || value === 'sha256') return value;
  throw invalidInput('E_XZ_CHECK', `unknown xz check ${JSON.stringify(value)} (none, crc32, crc64, sha256)`);
}

/** Incremental check over the uncompressed data of a block. */
export class CheckState {
  private crc = 0;
  private crc64: Crc64 | null = null;
  private sha: Hash | null = null;

  constructor(readonly check: XzCheck) {
    if (check === 'crc64') this.crc64 = new Crc64();
    else if (check === 'sha256') this.sha = createHash('sha256');
  }

  update(data: Uint8Array): void {
    switch (this.check) {
      case 'crc32':
        this.crc = crc32(data, this.crc);
        break;
      case 'crc64':
        this.crc64!.update(data);
        break;
      case 'sha256':
        this.sha!.update(data);
        break;
      default:
        break;
    }
  }

  /** The check field as stored after a block (little-endian for the CRCs). */
  digest(): Uint8Array {
    switch (this.check) {
      case 'crc32': {
        const out = new Uint8Array(4);
        new DataView(out.buffer).setUint32(0, this.crc >>> 0, true);
        return out;
      }
      case 'crc64':
        return this.crc64!.digest();
      case 'sha256':
        return new Uint8Array(this.sha!.digest());
      default:
        return new Uint8Array(0);
    }
  }
}

export function computeCheck(check: XzCheck, data: Uint8Array): Uint8Array {
  const s = new CheckState(check);
  s.update(data);
  return s.digest();
}
