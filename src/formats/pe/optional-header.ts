/**
 * The PE32 / PE32+ optional header (Windows-specific fields and data directories). Only the fields a
 * UKI writer or an Authenticode signer reads are decoded; the writer copies the raw bytes and patches
 * fields in place (talos-imager.md §6.3).
 */
import { invalidInput, unsupported } from '../../core/errors.js';
import {
  DATA_DIRECTORY_SIZE,
  MAX_DATA_DIRECTORIES,
  OPT_DATA_DIRECTORIES_OFFSET_PE32,
  OPT_DATA_DIRECTORIES_OFFSET_PE32PLUS,
  PE32_MAGIC,
  PE32PLUS_MAGIC,
} from './constants.js';

export interface DataDirectory {
  virtualAddress: number;
  size: number;
}

export interface OptionalHeader {
  magic: typeof PE32_MAGIC | typeof PE32PLUS_MAGIC;
  sizeOfCode: number;
  sizeOfInitializedData: number;
  addressOfEntryPoint: number;
  imageBase: bigint;
  sectionAlignment: number;
  fileAlignment: number;
  sizeOfImage: number;
  sizeOfHeaders: number;
  checkSum: number;
  subsystem: number;
  numberOfRvaAndSizes: number;
  dataDirectories: DataDirectory[];
}

/** Field offsets inside the optional header that are the same for PE32 and PE32+. */
export const OPT = {
  magic: 0,
  majorLinkerVersion: 2,
  minorLinkerVersion: 3,
  sizeOfCode: 4,
  sizeOfInitializedData: 8,
  addressOfEntryPoint: 16,
  sectionAlignment: 32,
  fileAlignment: 36,
  sizeOfImage: 56,
  sizeOfHeaders: 60,
  checkSum: 64,
  subsystem: 68,
} as const;

/** Offsets that differ between PE32 and PE32+. */
export function optionalHeaderLayout(magic: number): { numberOfRvaAndSizes: number; dataDirectories: number } {
  return magic === PE32PLUS_MAGIC
    ? { numberOfRvaAndSizes: 108, dataDirectories: OPT_DATA_DIRECTORIES_OFFSET_PE32PLUS }
    : { numberOfRvaAndSizes: 92, dataDirectories: OPT_DATA_DIRECTORIES_OFFSET_PE32 };
}

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

/**
 * Decode the optional header at `offset` (`size` = SizeOfOptionalHeader, already checked to lie
 * inside `view`).
 */
export function readOptionalHeader(view: DataView, offset: number, size: number, label: string): OptionalHeader {
  if (size < 2) throw invalidInput('E_PE_OPTIONAL_HEADER', `${label}: no optional header (image files need one)`);
  const magic = view.getUint16(offset, true);
  if (magic !== PE32_MAGIC && magic !== PE32PLUS_MAGIC) {
    throw unsupported('E_PE_OPTIONAL_MAGIC', `${label}: optional header magic 0x${magic.toString(16)} is neither PE32 nor PE32+`);
  }
  const layout = optionalHeaderLayout(magic);
  if (size < layout.dataDirectories) {
    throw invalidInput('E_PE_OPTIONAL_HEADER', `${label}: SizeOfOptionalHeader ${size} is too small for a ${magic === PE32PLUS_MAGIC ? 'PE32+' : 'PE32'} header`);
  }
  const u32 = (at: number) => view.getUint32(offset + at, true);
  const numberOfRvaAndSizes = u32(layout.numberOfRvaAndSizes);
  if (numberOfRvaAndSizes > MAX_DATA_DIRECTORIES) {
    throw invalidInput('E_PE_OPTIONAL_HEADER', `${label}: NumberOfRvaAndSizes ${numberOfRvaAndSizes} exceeds ${MAX_DATA_DIRECTORIES}`);
  }
  if (layout.dataDirectories + numberOfRvaAndSizes * DATA_DIRECTORY_SIZE > size) {
    throw invalidInput('E_PE_OPTIONAL_HEADER', `${label}: ${numberOfRvaAndSizes} data directories do not fit in SizeOfOptionalHeader ${size}`);
  }
  const dataDirectories: DataDirectory[] = [];
  for (let i = 0; i < numberOfRvaAndSizes; i++) {
    const at = layout.dataDirectories + i * DATA_DIRECTORY_SIZE;
    dataDirectories.push({ virtualAddress: u32(at), size: u32(at + 4) });
  }
  const imageBase = magic === PE32PLUS_MAGIC ? view.getBigUint64(offset + 24, true) : BigInt(u32(28));
  const sectionAlignment = u32(OPT.sectionAlignment);
  const fileAlignment = u32(OPT.fileAlignment);
  if (!isPowerOfTwo(fileAlignment) || fileAlignment > 0x10000) {
    throw invalidInput('E_PE_ALIGNMENT', `${label}: FileAlignment 0x${fileAlignment.toString(16)} is not a power of two up to 64 KiB`);
  }
  if (!isPowerOfTwo(sectionAlignment) || sectionAlignment > 0x10000000) {
    throw invalidInput('E_PE_ALIGNMENT', `${label}: SectionAlignment 0x${sectionAlignment.toString(16)} is not a power of two`);
  }
  return {
    magic,
    sizeOfCode: u32(OPT.sizeOfCode),
    sizeOfInitializedData: u32(OPT.sizeOfInitializedData),
    addressOfEntryPoint: u32(OPT.addressOfEntryPoint),
    imageBase,
    sectionAlignment,
    fileAlignment,
    sizeOfImage: u32(OPT.sizeOfImage),
    sizeOfHeaders: u32(OPT.sizeOfHeaders),
    checkSum: u32(OPT.checkSum),
    subsystem: view.getUint16(offset + OPT.subsystem, true),
    numberOfRvaAndSizes,
    dataDirectories,
  };
}
