import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../src/core/errors.js';
import { appendSections, authenticodeDigest, findSection, parsePe, sectionData } from '../../../src/formats/pe/index.js';
import { debianStub } from './debian-efi.js';
import { fill, syntheticPe, upstreamLikeStub } from './synthetic-pe.js';

function expectCode(fn: () => unknown, code: string) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ImagekitError);
    expect((err as ImagekitError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('PE reader', () => {
  it('decodes a synthetic PE32+ image', () => {
    const pe = parsePe(upstreamLikeStub());
    expect(pe.peOffset).toBe(0x80);
    expect(pe.optional.magic).toBe(0x20b);
    expect(pe.optional.imageBase).toBe(0x14df90000n);
    expect(pe.optional.sectionAlignment).toBe(0x1000);
    expect(pe.sections.map((s) => s.name)).toEqual(['.text', '.rodata', '.data', '.sbat', '.sdmagic', '.reloc']);
    expect(pe.optional.dataDirectories[5]).toEqual({ virtualAddress: 0x1000, size: 12 });
    expect(pe.certificateTable).toBeNull();
    expect(pe.checksumOffset).toBe(0x80 + 24 + 64);
    expect(pe.certificateDirectoryOffset).toBe(0x80 + 24 + 112 + 32);
    expect(sectionData(pe, findSection(pe, '.sbat')!, true)).toEqual(fill(0xe2, 4));
  });

  it.skipIf(!debianStub())('decodes the Debian systemd-stub (symbols, SectionAlignment 0x200)', () => {
    const pe = parsePe(debianStub()!);
    expect(pe.optional.sectionAlignment).toBe(0x200);
    expect(pe.optional.fileAlignment).toBe(0x200);
    expect(pe.coff.numberOfSymbols).toBeGreaterThan(0);
    expect(pe.sections.map((s) => s.name)).toContain('.sbat');
    expect(new TextDecoder().decode(sectionData(pe, findSection(pe, '.sbat')!, true))).toMatch(/^sbat,1,/);
  });

  it('rejects malformed headers with clear errors', () => {
    const good = upstreamLikeStub();
    const mutate = (f: (v: DataView, b: Uint8Array) => void) => {
      const b = Uint8Array.from(good);
      f(new DataView(b.buffer), b);
      return b;
    };
    expectCode(() => parsePe(good.subarray(0, 10)), 'E_PE_TRUNCATED');
    expectCode(() => parsePe(mutate((v) => v.setUint16(0, 0x4d5a, true))), 'E_PE_NOT_MZ');
    expectCode(() => parsePe(mutate((v) => v.setUint32(0x3c, 0xfffffff0, true))), 'E_PE_TRUNCATED');
    expectCode(() => parsePe(mutate((v) => v.setUint32(0x80, 0x4551, true))), 'E_PE_SIGNATURE');
    expectCode(() => parsePe(mutate((v) => v.setUint16(0x84 + 2, 0, true))), 'E_PE_SECTIONS');
    expectCode(() => parsePe(mutate((v) => v.setUint16(0x84 + 2, 5000, true))), 'E_PE_SECTIONS');
    expectCode(() => parsePe(mutate((v) => v.setUint16(0x98, 0x107, true))), 'E_PE_OPTIONAL_MAGIC');
    expectCode(() => parsePe(mutate((v) => v.setUint32(0x98 + 36, 0x300, true))), 'E_PE_ALIGNMENT');
    expectCode(() => parsePe(mutate((v) => v.setUint32(0x98 + 108, 17, true))), 'E_PE_OPTIONAL_HEADER');
    expectCode(() => parsePe(mutate((v) => v.setUint32(0x98 + 60, 0x10, true))), 'E_PE_HEADERS');
    // first section's SizeOfRawData pushed past the end of the file
    expectCode(() => parsePe(mutate((v) => v.setUint32(0x188 + 16, 0x7fffffff, true))), 'E_PE_SECTION_RANGE');
    // certificate table directory pointing outside the file
    expectCode(() => parsePe(mutate((v) => { v.setUint32(0x98 + 144, good.length - 8, true); v.setUint32(0x98 + 148, 64, true); })), 'E_PE_CERTIFICATE');
    // a WIN_CERTIFICATE whose length overruns its table
    const withCert = new Uint8Array(good.length + 16);
    withCert.set(good);
    const v = new DataView(withCert.buffer);
    v.setUint32(0x98 + 144, good.length, true);
    v.setUint32(0x98 + 148, 16, true);
    v.setUint32(good.length, 4096, true);
    expectCode(() => parsePe(withCert), 'E_PE_CERTIFICATE');
    expectCode(() => parsePe(mutate((v) => { v.setUint32(0x84 + 8, good.length - 4, true); v.setUint32(0x84 + 12, 10, true); })), 'E_PE_SYMBOLS');
  });

  it('fuzz: random corruption of a real stub gives an ImagekitError or a valid parse', () => {
    const base = debianStub() ?? upstreamLikeStub();
    const headerEnd = Math.min(base.length, 0x400);
    const corruption = fc.record({
      writes: fc.array(fc.tuple(fc.nat({ max: headerEnd - 1 }), fc.nat({ max: 255 })), { minLength: 1, maxLength: 12 }),
      words: fc.array(fc.tuple(fc.nat({ max: headerEnd - 4 }), fc.nat({ max: 0xffffffff })), { maxLength: 4 }),
      truncate: fc.option(fc.nat({ max: base.length }), { nil: undefined }),
    });
    fc.assert(
      fc.property(corruption, ({ writes, words, truncate }) => {
        const b = Uint8Array.from(base);
        const v = new DataView(b.buffer);
        for (const [at, val] of writes) b[at] = val;
        for (const [at, val] of words) v.setUint32(at, val, true);
        const input = truncate === undefined ? b : b.subarray(0, truncate);
        try {
          const pe = parsePe(input);
          // A valid parse must be usable end to end without a crash.
          authenticodeDigest(pe);
          try {
            appendSections(pe, [{ name: '.osrel', content: new Uint8Array(3) }], { timeDateStamp: 0 });
          } catch (err) {
            if (!(err instanceof ImagekitError)) throw err;
          }
        } catch (err) {
          if (!(err instanceof ImagekitError)) throw err;
        }
      }),
      { seed: 42, numRuns: 3000 },
    );
  });

  it('decodes a PE with the DOS header pointing elsewhere (e_lfanew 0x100)', () => {
    const pe = parsePe(syntheticPe({ sectionAlignment: 0x1000, fileAlignment: 0x200, imageBase: 0n, lfanew: 0x100, sections: [{ name: '.text', virtualAddress: 0x1000, virtualSize: 10, data: fill(10, 0), characteristics: 0x60000020 }] }));
    expect(pe.peOffset).toBe(0x100);
    expect(pe.sections[0]!.pointerToRawData).toBe(0x400);
  });
});
