/** The COFF file header that follows `PE\0\0` (20 bytes). */
import { COFF_HEADER_SIZE } from './constants.js';

export interface CoffHeader {
  machine: number;
  numberOfSections: number;
  timeDateStamp: number;
  pointerToSymbolTable: number;
  numberOfSymbols: number;
  sizeOfOptionalHeader: number;
  characteristics: number;
}

/** Field offsets inside the COFF header. */
export const COFF = {
  machine: 0,
  numberOfSections: 2,
  timeDateStamp: 4,
  pointerToSymbolTable: 8,
  numberOfSymbols: 12,
  sizeOfOptionalHeader: 16,
  characteristics: 18,
} as const;

/** Caller guarantees `offset + 20` is inside `view`. */
export function readCoffHeader(view: DataView, offset: number): CoffHeader {
  return {
    machine: view.getUint16(offset + COFF.machine, true),
    numberOfSections: view.getUint16(offset + COFF.numberOfSections, true),
    timeDateStamp: view.getUint32(offset + COFF.timeDateStamp, true),
    pointerToSymbolTable: view.getUint32(offset + COFF.pointerToSymbolTable, true),
    numberOfSymbols: view.getUint32(offset + COFF.numberOfSymbols, true),
    sizeOfOptionalHeader: view.getUint16(offset + COFF.sizeOfOptionalHeader, true),
    characteristics: view.getUint16(offset + COFF.characteristics, true),
  };
}

export { COFF_HEADER_SIZE };
