/**
 * PE/COFF constants (Microsoft PE/COFF specification; talos-imager.md §6.3, §7.1).
 * Offsets are relative to the start of the structure they belong to.
 */

/** `MZ` at offset 0 of the DOS header. */
export const DOS_MAGIC = 0x5a4d;
/** Size of the DOS (MZ) header; `e_lfanew` is its last field. */
export const DOS_HEADER_SIZE = 0x40;
export const DOS_E_LFANEW_OFFSET = 0x3c;

/** `PE\0\0`. */
export const PE_SIGNATURE = 0x00004550;
export const PE_SIGNATURE_SIZE = 4;

export const COFF_HEADER_SIZE = 20;
export const SECTION_HEADER_SIZE = 40;
export const DATA_DIRECTORY_SIZE = 8;
export const MAX_DATA_DIRECTORIES = 16;

export const PE32_MAGIC = 0x10b;
export const PE32PLUS_MAGIC = 0x20b;
/** SizeOfOptionalHeader of a PE32+ image with all 16 data directories (talos-imager.md §6.3). */
export const PE32PLUS_OPTIONAL_HEADER_SIZE = 240;

/** Offset of CheckSum in the optional header (PE32 and PE32+ alike; §7.1). */
export const OPT_CHECKSUM_OFFSET = 64;
/** Offset of the data directories in the optional header. */
export const OPT_DATA_DIRECTORIES_OFFSET_PE32 = 96;
export const OPT_DATA_DIRECTORIES_OFFSET_PE32PLUS = 112;

/** Data directory indexes. */
export const DIR_CERTIFICATE_TABLE = 4;
export const DIR_BASE_RELOCATION = 5;

export const IMAGE_SCN_CNT_CODE = 0x00000020;
export const IMAGE_SCN_CNT_INITIALIZED_DATA = 0x00000040;
export const IMAGE_SCN_MEM_READ = 0x40000000;

/** WIN_CERTIFICATE (Authenticode certificate table entry). */
export const WIN_CERT_HEADER_SIZE = 8;
export const WIN_CERT_REVISION_2_0 = 0x0200;
export const WIN_CERT_TYPE_PKCS_SIGNED_DATA = 0x0002;
export const WIN_CERT_TYPE_EFI_GUID = 0x0ef1;

export const MACHINE_AMD64 = 0x8664;
export const MACHINE_ARM64 = 0xaa64;
