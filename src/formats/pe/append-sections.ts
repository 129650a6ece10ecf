/**
 * Append sections to a PE32+ image (the systemd-stub) the way Talos's `AssembleNative` does
 * (talos-imager.md §6.3):
 *   - the MZ header is kept, e_lfanew set to 0x80, the DOS stub dropped (zeros), `PE\0\0` at 0x80;
 *   - the COFF header is copied with NumberOfSections and TimeDateStamp updated;
 *   - the optional header is copied with linker version 0, CheckSum 0, SizeOfHeaders, SizeOfImage,
 *     SizeOfCode and SizeOfInitializedData recomputed;
 *   - the stub's sections keep their virtual addresses, appended sections start at the first
 *     SectionAlignment boundary after the stub's last section, one after another;
 *   - raw data is packed after the headers in table order, each section padded to FileAlignment.
 *
 * Two deliberate differences from upstream, both for stubs upstream refuses or mishandles:
 *   - a COFF symbol table (Debian's stub carries one) is dropped instead of rejected: the symbols
 *     sit after the sections, which move, so PointerToSymbolTable/NumberOfSymbols are set to 0;
 *   - a certificate table in the stub is dropped and its data directory cleared (a signature over
 *     the stub would not cover the UKI anyway).
 */
import { assembly, unsupported } from '../../core/errors.js';
import { sourceSize, type ByteSource } from './byte-source.js';
import { COFF } from './coff-header.js';
import {
  COFF_HEADER_SIZE,
  DIR_CERTIFICATE_TABLE,
  DOS_E_LFANEW_OFFSET,
  DOS_HEADER_SIZE,
  IMAGE_SCN_CNT_INITIALIZED_DATA,
  IMAGE_SCN_MEM_READ,
  PE32PLUS_MAGIC,
  PE32PLUS_OPTIONAL_HEADER_SIZE,
  PE_SIGNATURE,
  SECTION_HEADER_SIZE,
} from './constants.js';
import { MAX_SECTIONS, parsePe, parsePeHeaders, sectionData, type PeFile } from './pe-file.js';
import { OPT, optionalHeaderLayout } from './optional-header.js';
import type { PeAssembly, PeAssemblyPart } from './pe-assembly.js';
import { writeSectionHeader, type SectionHeader } from './section-table.js';

export interface AppendedSection {
  /** Section name, at most 8 ASCII characters (e.g. `.linux`). */
  name: string;
  content: ByteSource;
}

export interface AppendSectionsOptions {
  /** COFF TimeDateStamp (seconds; SOURCE_DATE_EPOCH), written as u32. */
  timeDateStamp: number;
  /** Name of the stub in messages. */
  label?: string;
}

/** Where the new headers start: the DOS header plus 64 bytes of zeros (the dropped DOS stub). */
export const ASSEMBLED_PE_OFFSET = 0x80;

/** Characteristics of every appended section: initialized data, readable. */
export const APPENDED_SECTION_CHARACTERISTICS = IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_READ;

const roundUp = (n: number, align: number) => Math.ceil(n / align) * align;
const roundUpBig = (n: bigint, align: bigint) => ((n + align - 1n) / align) * align;
const U32 = 2 ** 32;

export function appendSections(stubBytes: Uint8Array | PeFile, appended: AppendedSection[], options: AppendSectionsOptions): PeAssembly {
  const label = options.label ?? 'systemd-stub';
  const stub = stubBytes instanceof Uint8Array ? parsePe(stubBytes, label) : stubBytes;
  if (stub.optional.magic !== PE32PLUS_MAGIC) throw unsupported('E_STUB_NOT_PE32PLUS', `${label}: the stub must be a PE32+ image`);
  if (stub.coff.sizeOfOptionalHeader !== PE32PLUS_OPTIONAL_HEADER_SIZE) {
    throw unsupported('E_STUB_OPTIONAL_HEADER', `${label}: SizeOfOptionalHeader is ${stub.coff.sizeOfOptionalHeader}, expected ${PE32PLUS_OPTIONAL_HEADER_SIZE}`);
  }
  if (!Number.isInteger(options.timeDateStamp) || options.timeDateStamp < 0) {
    throw assembly('E_PE_TIMESTAMP', `TimeDateStamp must be a non-negative integer, got ${options.timeDateStamp}`);
  }
  for (const s of appended) {
    if (!/^[\x21-\x7e]{1,8}$/.test(s.name)) throw assembly('E_PE_SECTION_NAME', `section name ${JSON.stringify(s.name)} must be 1-8 printable ASCII characters`);
  }
  const total = stub.sections.length + appended.length;
  if (total > MAX_SECTIONS) throw assembly('E_PE_SECTIONS', `${total} sections exceed the PE limit of ${MAX_SECTIONS}`);

  const { sectionAlignment, fileAlignment, imageBase } = stub.optional;

  // Virtual addresses of the appended sections (§6.3 step 5).
  let stubEnd = 0;
  for (const s of stub.sections) stubEnd = Math.max(stubEnd, s.virtualAddress + (s.virtualSize || s.sizeOfRawData));
  let base = roundUp(stubEnd, sectionAlignment);
  const table: SectionHeader[] = stub.sections.map((s) => ({
    name: s.name,
    virtualSize: s.virtualSize,
    virtualAddress: s.virtualAddress,
    sizeOfRawData: s.sizeOfRawData,
    pointerToRawData: 0,
    pointerToRelocations: 0,
    pointerToLinenumbers: 0,
    numberOfRelocations: 0,
    numberOfLinenumbers: 0,
    characteristics: s.characteristics,
  }));
  for (const s of appended) {
    const size = sourceSize(s.content);
    if (!Number.isSafeInteger(size) || size < 0) throw assembly('E_PE_SECTION_SIZE', `section ${s.name}: invalid size ${size}`);
    table.push({
      name: s.name,
      virtualSize: size,
      virtualAddress: base,
      sizeOfRawData: roundUp(size, fileAlignment),
      pointerToRawData: 0,
      pointerToRelocations: 0,
      pointerToLinenumbers: 0,
      numberOfRelocations: 0,
      numberOfLinenumbers: 0,
      characteristics: APPENDED_SECTION_CHARACTERISTICS,
    });
    base = roundUp(base + size, sectionAlignment);
    if (base >= U32) throw assembly('E_PE_TOO_LARGE', `section ${s.name} ends past the 4 GiB PE address space`);
  }

  // Headers (§6.3 steps 1-3). The 4-byte PE signature is counted in SizeOfHeaders (upstream omits it;
  // rounding makes the two agree).
  const coffOffset = ASSEMBLED_PE_OFFSET + 4;
  const optionalOffset = coffOffset + COFF_HEADER_SIZE;
  const sectionTableOffset = optionalOffset + PE32PLUS_OPTIONAL_HEADER_SIZE;
  const sizeOfHeaders = roundUp(sectionTableOffset + SECTION_HEADER_SIZE * total, fileAlignment);

  // Raw layout (§6.3 step 6).
  let offset = sizeOfHeaders;
  for (const s of table) {
    s.pointerToRawData = offset;
    offset += s.sizeOfRawData;
  }
  const fileSize = offset;
  if (fileSize >= U32) throw assembly('E_PE_TOO_LARGE', `the image would be ${fileSize} bytes, past the 4 GiB PE limit`);

  let sizeOfCode = 0;
  let sizeOfInitializedData = 0;
  for (const s of table) {
    if (s.characteristics & IMAGE_SCN_CNT_INITIALIZED_DATA) sizeOfInitializedData += s.sizeOfRawData;
    else sizeOfCode += s.sizeOfRawData;
  }
  const last = table[table.length - 1]!;
  const sa = BigInt(sectionAlignment);
  const sizeOfImage = roundUpBig(BigInt(last.virtualAddress) + BigInt(last.virtualSize) + imageBase, sa) - imageBase;
  if (sizeOfImage >= BigInt(U32) || sizeOfInitializedData >= U32 || sizeOfCode >= U32) {
    throw assembly('E_PE_TOO_LARGE', 'the image exceeds the 4 GiB PE limit');
  }

  const header = new Uint8Array(sizeOfHeaders);
  const view = new DataView(header.buffer);
  header.set(stub.bytes.subarray(0, DOS_HEADER_SIZE), 0);
  view.setUint32(DOS_E_LFANEW_OFFSET, ASSEMBLED_PE_OFFSET, true);
  view.setUint32(ASSEMBLED_PE_OFFSET, PE_SIGNATURE, true);
  header.set(stub.bytes.subarray(stub.coffOffset, stub.coffOffset + COFF_HEADER_SIZE), coffOffset);
  view.setUint16(coffOffset + COFF.numberOfSections, total, true);
  view.setUint32(coffOffset + COFF.timeDateStamp, options.timeDateStamp % U32, true);
  view.setUint32(coffOffset + COFF.pointerToSymbolTable, 0, true);
  view.setUint32(coffOffset + COFF.numberOfSymbols, 0, true);
  header.set(stub.bytes.subarray(stub.optionalOffset, stub.optionalOffset + PE32PLUS_OPTIONAL_HEADER_SIZE), optionalOffset);
  view.setUint8(optionalOffset + OPT.majorLinkerVersion, 0);
  view.setUint8(optionalOffset + OPT.minorLinkerVersion, 0);
  view.setUint32(optionalOffset + OPT.checkSum, 0, true);
  view.setUint32(optionalOffset + OPT.sizeOfHeaders, sizeOfHeaders, true);
  view.setUint32(optionalOffset + OPT.sizeOfImage, Number(sizeOfImage), true);
  view.setUint32(optionalOffset + OPT.sizeOfCode, sizeOfCode, true);
  view.setUint32(optionalOffset + OPT.sizeOfInitializedData, sizeOfInitializedData, true);
  if (stub.certificateDirectoryOffset !== null) {
    const dir = optionalOffset + optionalHeaderLayout(PE32PLUS_MAGIC).dataDirectories + DIR_CERTIFICATE_TABLE * 8;
    view.setUint32(dir, 0, true);
    view.setUint32(dir + 4, 0, true);
  }
  table.forEach((s, i) => writeSectionHeader(view, sectionTableOffset + i * SECTION_HEADER_SIZE, s));

  const parts: PeAssemblyPart[] = table.map((s, i) => {
    const content = i < stub.sections.length ? sectionData(stub, stub.sections[i]!) : appended[i - stub.sections.length]!.content;
    return { name: s.name, offset: s.pointerToRawData, size: sourceSize(content), rawSize: s.sizeOfRawData, source: content };
  });
  const headers = parsePeHeaders(header, fileSize, 'assembled PE image');
  return { headers, header, parts, trailer: new Uint8Array(0), size: fileSize };
}
