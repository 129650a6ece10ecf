import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../src/core/errors.js';
import { MemorySink } from '../../../src/core/sink.js';
import {
  appendSections,
  authenticodeDigest,
  authenticodeDigestOfStream,
  parsePe,
  peAssemblyBytes,
  peAssemblyChunks,
  peAssemblySource,
  sectionData,
  writePeAssembly,
  type StreamSource,
} from '../../../src/formats/pe/index.js';
import { debianStub } from './debian-efi.js';
import { fill, syntheticPe, upstreamLikeStub } from './synthetic-pe.js';

const text = (s: string) => new TextEncoder().encode(s);
const up = (n: number, a: number) => Math.ceil(n / a) * a;

function streamed(bytes: Uint8Array, chunk = 4096): StreamSource {
  return {
    size: bytes.length,
    async *open() {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
    },
  };
}

describe('appendSections (talos-imager.md §6.3)', () => {
  it('lays out sections, headers and sizes like AssembleNative on an upstream-shaped stub', async () => {
    const stubBytes = upstreamLikeStub();
    const stub = parsePe(stubBytes);
    const kernel = fill(0x12345, 9);
    const asm = appendSections(stubBytes, [
      { name: '.osrel', content: text('NAME="Talos"\n') },
      { name: '.cmdline', content: text('console=ttyS0') },
      { name: '.linux', content: streamed(kernel) },
      { name: '.initrd', content: new Uint8Array(0x2001) },
    ], { timeDateStamp: 1700000000 });
    const out = new Uint8Array(await peAssemblyBytes(asm));
    expect(out.length).toBe(asm.size);
    const pe = parsePe(out);
    // DOS header kept, e_lfanew 0x80, DOS stub zeroed.
    expect(out.subarray(0, 0x3c)).toEqual(stubBytes.subarray(0, 0x3c));
    expect(pe.peOffset).toBe(0x80);
    expect(out.subarray(0x40, 0x80).every((b) => b === 0)).toBe(true);
    expect(pe.coff.numberOfSections).toBe(10);
    expect(pe.coff.timeDateStamp).toBe(1700000000);
    expect(pe.coff.sizeOfOptionalHeader).toBe(240);
    expect(out[0x98 + 2]).toBe(0);
    expect(out[0x98 + 3]).toBe(0);
    expect(pe.optional.checkSum).toBe(0);
    expect(pe.optional.dataDirectories).toEqual(stub.optional.dataDirectories);
    expect(pe.optional.addressOfEntryPoint).toBe(stub.optional.addressOfEntryPoint);
    // SizeOfHeaders = roundup(0x80 + 4 + 20 + 240 + 40·N, FileAlignment)
    expect(pe.optional.sizeOfHeaders).toBe(up(0x80 + 4 + 20 + 240 + 40 * 10, 0x200));
    // Appended VAs: first SectionAlignment boundary after .reloc (0x12000 + 0xc), then one after another.
    const names = pe.sections.map((s) => s.name);
    expect(names).toEqual(['.text', '.rodata', '.data', '.sbat', '.sdmagic', '.reloc', '.osrel', '.cmdline', '.linux', '.initrd']);
    const at = (n: string) => pe.sections.find((s) => s.name === n)!;
    expect(at('.osrel').virtualAddress).toBe(0x13000);
    expect(at('.cmdline').virtualAddress).toBe(0x14000);
    expect(at('.linux').virtualAddress).toBe(0x15000);
    expect(at('.initrd').virtualAddress).toBe(up(0x15000 + 0x12345, 0x1000));
    expect(at('.linux').virtualSize).toBe(0x12345);
    expect(at('.linux').sizeOfRawData).toBe(up(0x12345, 0x200));
    for (const n of ['.osrel', '.cmdline', '.linux', '.initrd']) expect(at(n).characteristics).toBe(0x40000040);
    // Stub sections keep VA, size and characteristics; they move in the file.
    for (const s of stub.sections) {
      const n = at(s.name);
      expect([n.virtualAddress, n.virtualSize, n.sizeOfRawData, n.characteristics]).toEqual([s.virtualAddress, s.virtualSize, s.sizeOfRawData, s.characteristics]);
      expect(sectionData(pe, n)).toEqual(sectionData(stub, s));
    }
    // Raw data packed in table order from SizeOfHeaders.
    let off = pe.optional.sizeOfHeaders;
    for (const s of pe.sections) {
      expect(s.pointerToRawData).toBe(off);
      off += s.sizeOfRawData;
    }
    expect(off).toBe(out.length);
    expect(sectionData(pe, at('.linux'), true)).toEqual(kernel);
    // SizeOfImage = roundup(last.VA + last.VS + ImageBase, SA) − ImageBase
    const last = at('.initrd');
    expect(pe.optional.sizeOfImage).toBe(Number(((BigInt(last.virtualAddress + last.virtualSize) + 0x14df90000n + 0xfffn) / 0x1000n) * 0x1000n - 0x14df90000n));
    // SizeOfCode / SizeOfInitializedData by the CNT_INITIALIZED_DATA flag.
    const sum = (pred: (c: number) => boolean) => pe.sections.filter((s) => pred(s.characteristics)).reduce((a, s) => a + s.sizeOfRawData, 0);
    expect(pe.optional.sizeOfInitializedData).toBe(sum((c) => (c & 0x40) !== 0));
    expect(pe.optional.sizeOfCode).toBe(sum((c) => (c & 0x40) === 0));
  });

  it('drops a COFF symbol table and a stale certificate table of the stub', async () => {
    const symbols = fill(18 * 4 + 4, 7);
    const base = syntheticPe({
      sectionAlignment: 0x200, fileAlignment: 0x200, imageBase: 0n,
      sections: [{ name: '.text', virtualAddress: 0x1000, virtualSize: 0x300, data: fill(0x300, 1), characteristics: 0x60000020 }],
      trailing: symbols,
      symbols: { pointer: 0x600, count: 4 },
    });
    const withCert = new Uint8Array(base.length + 16 + 4);
    withCert.set(base);
    const v = new DataView(withCert.buffer);
    const certAt = base.length + 4; // 8-aligned: base.length is 0x600 + 76
    v.setUint32(0x98 + 144, certAt, true);
    v.setUint32(0x98 + 148, 16, true);
    v.setUint32(certAt, 16, true);
    v.setUint16(certAt + 4, 0x200, true);
    v.setUint16(certAt + 6, 2, true);
    expect(parsePe(withCert).certificates).toHaveLength(1);
    const pe = parsePe(await peAssemblyBytes(appendSections(withCert, [{ name: '.osrel', content: text('x') }], { timeDateStamp: 0 })));
    expect(pe.coff.pointerToSymbolTable).toBe(0);
    expect(pe.coff.numberOfSymbols).toBe(0);
    expect(pe.certificateTable).toBeNull();
    // SectionAlignment 0x200: the new section starts at the next 0x200 boundary.
    expect(pe.sections[1]!.virtualAddress).toBe(0x1400);
  });

  it('rejects what it cannot assemble', () => {
    const bad = (f: () => unknown, code: string) => {
      expect(f).toThrow(ImagekitError);
      try { f(); } catch (e) { expect((e as ImagekitError).code).toBe(code); }
    };
    bad(() => appendSections(upstreamLikeStub(), [{ name: '.toolongname', content: text('x') }], { timeDateStamp: 0 }), 'E_PE_SECTION_NAME');
    bad(() => appendSections(upstreamLikeStub(), [{ name: '.x', content: text('x') }], { timeDateStamp: -1 }), 'E_PE_TIMESTAMP');
    bad(() => appendSections(upstreamLikeStub(), [{ name: '.big', content: { size: 2 ** 32, open: async function* () {} } }], { timeDateStamp: 0 }), 'E_PE_TOO_LARGE');
    const many = Array.from({ length: 91 }, (_, i) => ({ name: `.s${i}`, content: text('x') }));
    bad(() => appendSections(upstreamLikeStub(), many, { timeDateStamp: 0 }), 'E_PE_SECTIONS');
  });

  it('a streamed source that lies about its size fails the assembly', async () => {
    const asm = appendSections(upstreamLikeStub(), [{ name: '.linux', content: { size: 100, open: async function* () { yield new Uint8Array(99); } } }], { timeDateStamp: 0 });
    await expect(peAssemblyBytes(asm)).rejects.toMatchObject({ code: 'E_SOURCE_SIZE' });
  });

  it('streams, writes to a sink and hashes identically (property)', async () => {
    const stub = debianStub() ?? upstreamLikeStub();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('.osrel', '.cmdline', '.linux', '.initrd', '.splash', '.profile'), fc.nat({ max: 20000 }), fc.integer({ min: 1, max: 5000 })), { minLength: 1, maxLength: 6 }),
        async (specs) => {
          const sections = specs.map(([name, size, chunk], i) => ({ name, content: streamed(fill(size, i), chunk) }));
          const asm = appendSections(stub, sections, { timeDateStamp: 42 });
          const bytes = await peAssemblyBytes(asm);
          const sink = new MemorySink();
          await writePeAssembly(asm, sink, 0);
          expect(createHash('sha256').update(sink.bytes()).digest()).toEqual(createHash('sha256').update(bytes).digest());
          const streamedDigest = await authenticodeDigestOfStream(asm.headers, peAssemblyChunks(asm));
          expect(streamedDigest).toEqual(authenticodeDigest(parsePe(bytes)));
        },
      ),
      { seed: 42, numRuns: 40 },
    );
  });
});

describe('authenticodeDigest (talos-imager.md §7.1)', () => {
  it('ignores CheckSum and the certificate directory, covers every section byte', () => {
    const b = upstreamLikeStub();
    const d0 = authenticodeDigest(parsePe(b));
    const c = Uint8Array.from(b);
    new DataView(c.buffer).setUint32(0x98 + 64, 0xdeadbeef, true);
    expect(authenticodeDigest(parsePe(c))).toEqual(d0);
    const pe = parsePe(b);
    for (const s of pe.sections) {
      const t = Uint8Array.from(b);
      t[s.pointerToRawData + (s.sizeOfRawData >> 1)]! ^= 1;
      expect(authenticodeDigest(parsePe(t))).not.toEqual(d0);
    }
    const h = Uint8Array.from(b);
    h[0x98 + 68] ^= 1; // Subsystem: hashed
    expect(authenticodeDigest(parsePe(h))).not.toEqual(d0);
  });

  it('equals an independent computation of the Microsoft algorithm', () => {
    const b = upstreamLikeStub();
    const v = new DataView(b.buffer, b.byteOffset);
    // Written from the spec with raw offsets: e_lfanew=0x80, optional header at 0x98, PE32+.
    const soh = v.getUint32(0x98 + 60, true);
    const h = createHash('sha256');
    h.update(b.subarray(0, 0x98 + 64)).update(b.subarray(0x98 + 68, 0x98 + 144)).update(b.subarray(0x98 + 152, soh));
    const n = v.getUint16(0x86, true);
    const secs = Array.from({ length: n }, (_, i) => ({ ptr: v.getUint32(0x188 + 40 * i + 20, true), size: v.getUint32(0x188 + 40 * i + 16, true) }))
      .filter((s) => s.size > 0).sort((a, b2) => a.ptr - b2.ptr);
    for (const s of secs) h.update(b.subarray(s.ptr, s.ptr + s.size));
    h.update(new Uint8Array((8 - (b.length % 8)) % 8));
    expect(authenticodeDigest(parsePe(b))).toEqual(h.digest());
  });
});

describe('peAssemblySource', () => {
  it('is a re-openable sized source with the image bytes', async () => {
    const asm = appendSections(upstreamLikeStub(), [{ name: '.linux', content: fill(3000, 1) }], { timeDateStamp: 0 });
    const src = peAssemblySource(asm);
    expect(src.size).toBe(asm.size);
    const read = async () => {
      const parts: Uint8Array[] = [];
      for await (const c of src.open()) parts.push(c);
      return Buffer.concat(parts);
    };
    const a = await read();
    expect(a).toEqual(await read());
    expect(a).toEqual(await peAssemblyBytes(asm));
  });
});
