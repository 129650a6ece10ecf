/** The MS-DOS (MZ) header: only `e_magic` and `e_lfanew` matter to a PE loader. */
import { invalidInput } from '../../core/errors.js';
import { DOS_E_LFANEW_OFFSET, DOS_HEADER_SIZE, DOS_MAGIC } from './constants.js';

export interface DosHeader {
  /** File offset of the `PE\0\0` signature. */
  lfanew: number;
}

export function parseDosHeader(bytes: Uint8Array, label: string): DosHeader {
  if (bytes.byteLength < DOS_HEADER_SIZE) {
    throw invalidInput('E_PE_TRUNCATED', `${label}: ${bytes.byteLength} bytes is too short for a PE image`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0, true) !== DOS_MAGIC) throw invalidInput('E_PE_NOT_MZ', `${label}: not a PE image (no MZ signature)`);
  return { lfanew: view.getUint32(DOS_E_LFANEW_OFFSET, true) };
}
