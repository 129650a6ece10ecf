/** Section headers (40 bytes each) following the optional header. */
import { SECTION_HEADER_SIZE } from './constants.js';

export interface SectionHeader {
  /** Name as stored (up to 8 bytes, NUL padding removed, latin1). */
  name: string;
  virtualSize: number;
  virtualAddress: number;
  sizeOfRawData: number;
  pointerToRawData: number;
  pointerToRelocations: number;
  pointerToLinenumbers: number;
  numberOfRelocations: number;
  numberOfLinenumbers: number;
  characteristics: number;
}

export function readSectionHeader(view: DataView, offset: number): SectionHeader {
  let name = '';
  for (let i = 0; i < 8; i++) {
    const c = view.getUint8(offset + i);
    if (c === 0) break;
    name += String.fromCharCode(c);
  }
  return {
    name,
    virtualSize: view.getUint32(offset + 8, true),
    virtualAddress: view.getUint32(offset + 12, true),
    sizeOfRawData: view.getUint32(offset + 16, true),
    pointerToRawData: view.getUint32(offset + 20, true),
    pointerToRelocations: view.getUint32(offset + 24, true),
    pointerToLinenumbers: view.getUint32(offset + 28, true),
    numberOfRelocations: view.getUint16(offset + 32, true),
    numberOfLinenumbers: view.getUint16(offset + 34, true),
    characteristics: view.getUint32(offset + 36, true),
  };
}

/** Encode a section header; the relocation and line-number fields are written as given. */
export function writeSectionHeader(view: DataView, offset: number, s: SectionHeader): void {
  for (let i = 0; i < 8; i++) view.setUint8(offset + i, i < s.name.length ? s.name.charCodeAt(i) : 0);
  view.setUint32(offset + 8, s.virtualSize, true);
  view.setUint32(offset + 12, s.virtualAddress, true);
  view.setUint32(offset + 16, s.sizeOfRawData, true);
  view.setUint32(offset + 20, s.pointerToRawData, true);
  view.setUint32(offset + 24, s.pointerToRelocations, true);
  view.setUint32(offset + 28, s.pointerToLinenumbers, true);
  view.setUint16(offset + 32, s.numberOfRelocations, true);
  view.setUint16(offset + 34, s.numberOfLinenumbers, true);
  view.setUint32(offset + 36, s.characteristics, true);
}

export { SECTION_HEADER_SIZE };
