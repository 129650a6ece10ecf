/**
 * A tiny PE32+ generator for unit tests (headers laid out by hand from the PE/COFF spec, independent
 * of src/formats/pe), so the section appender can be checked on stubs with other alignments and
 * image bases than Debian's (e.g. upstream's test stub: SectionAlignment 0x1000, ImageBase 0x14df90000).
 */
export interface SyntheticSection {
  name: string;
  virtualAddress: number;
  virtualSize: number;
  data: Uint8Array;
  characteristics: number;
}

export interface SyntheticPeOptions {
  sectionAlignment: number;
  fileAlignment: number;
  imageBase: bigint;
  sections: SyntheticSection[];
  /** Extra bytes after the sections (e.g. a COFF symbol table). */
  trailing?: Uint8Array;
  symbols?: { pointer: number; count: number };
  lfanew?: number;
}

const up = (n: number, a: number) => Math.ceil(n / a) * a;

export function syntheticPe(o: SyntheticPeOptions): Uint8Array {
  const lfanew = o.lfanew ?? 0x80;
  const optOff = lfanew + 24;
  const tableOff = optOff + 240;
  const headers = up(tableOff + 40 * o.sections.length, o.fileAlignment);
  let off = headers;
  const placed = o.sections.map((s) => {
    const raw = up(s.data.length, o.fileAlignment);
    const p = { ...s, raw, ptr: off };
    off += raw;
    return p;
  });
  const trailing = o.trailing ?? new Uint8Array(0);
  const out = new Uint8Array(off + trailing.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0x5a4d, true);
  v.setUint32(0x3c, lfanew, true);
  for (let i = 0x40; i < lfanew; i++) out[i] = 0xcc; // a recognisable DOS stub
  v.setUint32(lfanew, 0x4550, true);
  const coff = lfanew + 4;
  v.setUint16(coff, 0x8664, true);
  v.setUint16(coff + 2, o.sections.length, true);
  v.setUint32(coff + 4, 0x5eed, true);
  v.setUint32(coff + 8, o.symbols?.pointer ?? 0, true);
  v.setUint32(coff + 12, o.symbols?.count ?? 0, true);
  v.setUint16(coff + 16, 240, true);
  v.setUint16(coff + 18, 0x206, true);
  v.setUint16(optOff, 0x20b, true);
  out[optOff + 2] = 2;
  out[optOff + 3] = 40;
  v.setUint32(optOff + 16, o.sections[0]?.virtualAddress ?? 0, true);
  v.setBigUint64(optOff + 24, o.imageBase, true);
  v.setUint32(optOff + 32, o.sectionAlignment, true);
  v.setUint32(optOff + 36, o.fileAlignment, true);
  const last = o.sections[o.sections.length - 1]!;
  v.setUint32(optOff + 56, up(last.virtualAddress + last.virtualSize, o.sectionAlignment), true);
  v.setUint32(optOff + 60, headers, true);
  v.setUint32(optOff + 64, 0x1234abcd, true);
  v.setUint16(optOff + 68, 10, true);
  v.setUint32(optOff + 108, 16, true);
  v.setUint32(optOff + 112 + 5 * 8, 0x1000, true); // a base relocation directory, kept as is
  v.setUint32(optOff + 112 + 5 * 8 + 4, 12, true);
  placed.forEach((s, i) => {
    const at = tableOff + 40 * i;
    for (let k = 0; k < 8; k++) out[at + k] = k < s.name.length ? s.name.charCodeAt(k) : 0;
    v.setUint32(at + 8, s.virtualSize, true);
    v.setUint32(at + 12, s.virtualAddress, true);
    v.setUint32(at + 16, s.raw, true);
    v.setUint32(at + 20, s.ptr, true);
    v.setUint32(at + 36, s.characteristics, true);
    out.set(s.data, s.ptr);
  });
  out.set(trailing, off);
  return out;
}

export const fill = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

/** Shaped like upstream's test stub (talos-imager.md §6.3): .text .rodata .data .sbat .sdmagic .reloc. */
export function upstreamLikeStub(): Uint8Array {
  const sec = (name: string, va: number, size: number, ch: number, seed: number): SyntheticSection => ({ name, virtualAddress: va, virtualSize: size, data: fill(size, seed), characteristics: ch });
  return syntheticPe({
    sectionAlignment: 0x1000,
    fileAlignment: 0x200,
    imageBase: 0x14df90000n,
    sections: [
      sec('.text', 0x1000, 0xa123, 0x60000020, 1),
      sec('.rodata', 0xc000, 0x2345, 0x40000040, 2),
      sec('.data', 0xf000, 0x345, 0xc0000040, 3),
      sec('.sbat', 0x10000, 0xe2, 0x40000040, 4),
      sec('.sdmagic', 0x11000, 0x34, 0x40000040, 5),
      sec('.reloc', 0x12000, 0xc, 0x42000040, 6),
    ],
  });
}
