/**
 * PE/COFF image reader: DOS header → `PE\0\0` → COFF header → optional header (data directories) →
 * section table → attribute certificate table. Every offset, size and count read from the input is
 * checked against the file size before use, so corrupt input gives an ImagekitError, never a crash,
 * a hang or a huge allocation.
 */
import { invalidInput } from '../../core/errors.js';
import { parseCertificateTable, type WinCertificate } from './certificate-table.js';
import { COFF_HEADER_SIZE, readCoffHeader, type CoffHeader } from './coff-header.js';
import { DIR_CERTIFICATE_TABLE, DATA_DIRECTORY_SIZE, PE_SIGNATURE, PE_SIGNATURE_SIZE, OPT_CHECKSUM_OFFSET } from './constants.js';
import { parseDosHeader } from './dos-header.js';
import { optionalHeaderLayout, readOptionalHeader, type OptionalHeader } from './optional-header.js';
import { readSectionHeader, SECTION_HEADER_SIZE, type SectionHeader } from './section-table.js';

/** Windows refuses images with more sections; a UKI has about 25. */
export const MAX_SECTIONS = 96;
const COFF_SYMBOL_SIZE = 18;

export interface PeHeaders {
  /** Total file size the headers were checked against. */
  fileSize: number;
  /** File offset of `PE\0\0` (e_lfanew). */
  peOffset: number;
  coffOffset: number;
  optionalOffset: number;
  /** File offset of the optional header's CheckSum field. */
  checksumOffset: number;
  /** File offset of data directory 4 (certificate table), or null when the image has fewer directories. */
  certificateDirectoryOffset: number | null;
  sectionTableOffset: number;
  sectionTableEnd: number;
  coff: CoffHeader;
  optional: OptionalHeader;
  sections: SectionHeader[];
  /** The certificate table location (file offset + size), or null when the image is unsigned. */
  certificateTable: { offset: number; size: number } | null;
}

export interface PeFile extends PeHeaders {
  bytes: Uint8Array;
  certificates: WinCertificate[];
}

/**
 * Decode and check the headers of a PE image of `fileSize` bytes whose first bytes are `head`
 * (`head` must hold at least SizeOfHeaders bytes, or the whole file when it is shorter).
 */
export function parsePeHeaders(head: Uint8Array, fileSize: number, label = 'PE image'): PeHeaders {
  const { lfanew } = parseDosHeader(head, label);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const coffOffset = lfanew + PE_SIGNATURE_SIZE;
  if (coffOffset + COFF_HEADER_SIZE > head.byteLength) {
    throw invalidInput('E_PE_TRUNCATED', `${label}: e_lfanew 0x${lfanew.toString(16)} points past the end of the headers`);
  }
  if (view.getUint32(lfanew, true) !== PE_SIGNATURE) throw invalidInput('E_PE_SIGNATURE', `${label}: no PE signature at e_lfanew 0x${lfanew.toString(16)}`);
  const coff = readCoffHeader(view, coffOffset);
  const optionalOffset = coffOffset + COFF_HEADER_SIZE;
  if (optionalOffset + coff.sizeOfOptionalHeader > head.byteLength) {
    throw invalidInput('E_PE_TRUNCATED', `${label}: optional header (${coff.sizeOfOptionalHeader} bytes) runs past the end of the file`);
  }
  const optional = readOptionalHeader(view, optionalOffset, coff.sizeOfOptionalHeader, label);
  if (coff.numberOfSections === 0 || coff.numberOfSections > MAX_SECTIONS) {
    throw invalidInput('E_PE_SECTIONS', `${label}: NumberOfSections ${coff.numberOfSections} is outside 1..${MAX_SECTIONS}`);
  }
  const sectionTableOffset = optionalOffset + coff.sizeOfOptionalHeader;
  const sectionTableEnd = sectionTableOffset + coff.numberOfSections * SECTION_HEADER_SIZE;
  if (sectionTableEnd > head.byteLength) {
    throw invalidInput('E_PE_TRUNCATED', `${label}: section table (${coff.numberOfSections} entries) runs past the end of the file`);
  }
  const { sizeOfHeaders } = optional;
  if (sizeOfHeaders < sectionTableEnd || sizeOfHeaders > fileSize) {
    throw invalidInput('E_PE_HEADERS', `${label}: SizeOfHeaders 0x${sizeOfHeaders.toString(16)} is outside [end of section table 0x${sectionTableEnd.toString(16)}, file size ${fileSize}]`);
  }
  if (head.byteLength < sizeOfHeaders) {
    throw invalidInput('E_PE_TRUNCATED', `${label}: only ${head.byteLength} of ${sizeOfHeaders} header bytes given`);
  }
  const sections: SectionHeader[] = [];
  for (let i = 0; i < coff.numberOfSections; i++) {
    const s = readSectionHeader(view, sectionTableOffset + i * SECTION_HEADER_SIZE);
    if (s.sizeOfRawData > 0 && s.pointerToRawData + s.sizeOfRawData > fileSize) {
      throw invalidInput('E_PE_SECTION_RANGE', `${label}: section ${JSON.stringify(s.name)} raw data [0x${s.pointerToRawData.toString(16)}, +0x${s.sizeOfRawData.toString(16)}) lies outside the ${fileSize}-byte file`);
    }
    if (s.virtualAddress + Math.max(s.virtualSize, s.sizeOfRawData) > 2 ** 32) {
      throw invalidInput('E_PE_SECTION_RANGE', `${label}: section ${JSON.stringify(s.name)} extends past the 4 GiB address space`);
    }
    sections.push(s);
  }
  if (coff.pointerToSymbolTable !== 0 && coff.pointerToSymbolTable + coff.numberOfSymbols * COFF_SYMBOL_SIZE > fileSize) {
    throw invalidInput('E_PE_SYMBOLS', `${label}: COFF symbol table (${coff.numberOfSymbols} symbols at 0x${coff.pointerToSymbolTable.toString(16)}) lies outside the file`);
  }
  const layout = optionalHeaderLayout(optional.magic);
  const certificateDirectoryOffset =
    optional.numberOfRvaAndSizes > DIR_CERTIFICATE_TABLE ? optionalOffset + layout.dataDirectories + DIR_CERTIFICATE_TABLE * DATA_DIRECTORY_SIZE : null;
  let certificateTable: PeHeaders['certificateTable'] = null;
  const dir = optional.dataDirectories[DIR_CERTIFICATE_TABLE];
  if (dir && (dir.virtualAddress !== 0 || dir.size !== 0)) {
    // The certificate table directory holds a file offset, not an RVA (PE spec "The Attribute Certificate Table").
    if (dir.virtualAddress < sizeOfHeaders || dir.size === 0 || dir.virtualAddress + dir.size > fileSize) {
      throw invalidInput('E_PE_CERTIFICATE', `${label}: certificate table [0x${dir.virtualAddress.toString(16)}, +0x${dir.size.toString(16)}) lies outside the file body`);
    }
    certificateTable = { offset: dir.virtualAddress, size: dir.size };
  }
  return {
    fileSize,
    peOffset: lfanew,
    coffOffset,
    optionalOffset,
    checksumOffset: optionalOffset + OPT_CHECKSUM_OFFSET,
    certificateDirectoryOffset,
    sectionTableOffset,
    sectionTableEnd,
    coff,
    optional,
    sections,
    certificateTable,
  };
}

/** Decode a whole PE image held in memory. */
export function parsePe(bytes: Uint8Array, label = 'PE image'): PeFile {
  const headers = parsePeHeaders(bytes, bytes.byteLength, label);
  const certificates = headers.certificateTable
    ? parseCertificateTable(bytes.subarray(headers.certificateTable.offset, headers.certificateTable.offset + headers.certificateTable.size), label)
    : [];
  return { ...headers, bytes, certificates };
}

/** Raw bytes of a section (SizeOfRawData bytes, or VirtualSize when `trimToVirtualSize`). */
export function sectionData(pe: PeFile, section: SectionHeader, trimToVirtualSize = false): Uint8Array {
  const size = trimToVirtualSize ? Math.min(section.virtualSize, section.sizeOfRawData) : section.sizeOfRawData;
  return pe.bytes.subarray(section.pointerToRawData, section.pointerToRawData + size);
}

export function findSection(pe: PeHeaders, name: string): SectionHeader | undefined {
  return pe.sections.find((s) => s.name === name);
}
