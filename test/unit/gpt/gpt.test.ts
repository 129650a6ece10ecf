import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../src/core/errors.js';
import {
  bufferReader,
  encodeGpt,
  guidFromBytes,
  guidFromLabel,
  guidToBytes,
  PartitionAttribute,
  PartitionType,
  planGpt,
  readGpt,
  type GptPartitionRequest,
  type GptTable,
} from '../../../src/formats/gpt/index.js';

const MIB = 1024 * 1024;

/** The whole disk in memory, zeros between head and tail. */
function diskBytes(table: GptTable): Buffer {
  const g = encodeGpt(table);
  const disk = Buffer.alloc((table.lastLba + 1) * table.sectorSize);
  g.head.copy(disk, 0);
  g.tail.copy(disk, g.tailOffset);
  return disk;
}

const talosParts = (efiMiB: number, extra: GptPartitionRequest[] = []): GptPartitionRequest[] => [
  { name: 'EFI', typeGuid: PartitionType.efiSystem, guid: guidFromLabel('EFI'), size: efiMiB * MIB },
  ...extra,
  { name: 'META', typeGuid: PartitionType.linuxData, guid: guidFromLabel('META'), size: 1 * MIB },
];

describe('GUIDs', () => {
  it('derives label GUIDs exactly as Talos (talos-imager.md §9.3 vectors)', () => {
    const vectors: Record<string, string> = {
      'talos-image-disk': 'd92d45b3-cde9-8760-be9f-a2a71fac8d11',
      EFI: 'bca5174b-0118-8a6a-af0b-2c6e1585acae',
      BIOS: 'a2a02ff5-d88d-8e6e-9c95-26b9b6c80bc3',
      BOOT: '24c73076-4092-85dd-9d98-686a2dbf6d81',
      META: 'cf04f137-101e-8ec6-9627-fa3f51cdabb8',
      STATE: 'f7f88648-df7c-8acb-b4d2-6f124659d923',
      EPHEMERAL: 'c5e02400-0e5e-80bc-99ec-53b3e45ad6c4',
      IMAGECACHE: '3b5449bc-c21f-8009-8b51-18945967f8df',
    };
    for (const [label, guid] of Object.entries(vectors)) expect(guidFromLabel(label)).toBe(guid);
  });

  it('stores GUIDs mixed-endian', () => {
    expect(guidToBytes(PartitionType.efiSystem).toString('hex')).toBe('28732ac11ff8d211ba4b00a0c93ec93b');
    fc.assert(
      fc.property(fc.uuid(), (u) => guidFromBytes(guidToBytes(u)) === u.toLowerCase()),
      { seed: 42, numRuns: 200 },
    );
  });

  it('rejects malformed GUID text', () => {
    expect(() => guidToBytes('not-a-guid')).toThrow(/not a GUID/);
  });
});

describe('planGpt (go-blockdevice layout)', () => {
  it('reproduces the sd-boot 1.14 worked layout', () => {
    const t = planGpt({ diskSize: 2355101696, diskGuid: guidFromLabel('talos-image-disk') }, talosParts(2101));
    expect(t.firstUsableLba).toBe(2048);
    expect(t.partitions.map((p) => [p.name, p.firstLba, p.lastLba])).toEqual([
      ['EFI', 2048, 4304895],
      ['META', 4304896, 4306943],
    ]);
    expect(t.lastLba).toBe(2355101696 / 512 - 1);
    expect(t.backupEntriesLba).toBe(t.lastLba - 32);
    expect(t.lastUsableLba).toBe(t.lastLba - 33);
  });

  it('reproduces the dual-boot 1.14 worked layout (BIOS attribute bit 2)', () => {
    const t = planGpt({ diskSize: 4453302272, diskGuid: guidFromLabel('talos-image-disk') }, talosParts(2101, [
      { name: 'BIOS', typeGuid: PartitionType.biosBoot, guid: guidFromLabel('BIOS'), size: MIB, attributes: PartitionAttribute.legacyBiosBootable },
      { name: 'BOOT', typeGuid: PartitionType.linuxData, guid: guidFromLabel('BOOT'), size: 2000 * MIB },
    ]));
    expect(t.partitions.map((p) => [p.name, p.firstLba, p.lastLba])).toEqual([
      ['EFI', 2048, 4304895],
      ['BIOS', 4304896, 4306943],
      ['BOOT', 4306944, 8402943],
      ['META', 8402944, 8404991],
    ]);
    expect(t.lastUsableLba).toBe(8697822);
    expect(t.backupEntriesLba).toBe(8697823);
    expect(t.lastLba).toBe(8697855);
    expect(t.partitions[1]!.attributes).toBe(4n);
  });

  it('aligns to 256 sectors with 4096-byte sectors', () => {
    const t = planGpt({ diskSize: 2355101696, sectorSize: 4096, diskGuid: guidFromLabel('talos-image-disk') }, talosParts(2101));
    expect(t.firstUsableLba).toBe(256);
    expect(t.primaryEntriesLba).toBe(2);
    expect(t.backupEntriesLba).toBe(t.lastLba - 4);
    expect(t.partitions[0]!.firstLba).toBe(256);
    expect(t.partitions[1]!.firstLba).toBe(256 + (2101 * MIB) / 4096);
  });

  it('size 0 takes the largest aligned free range (EPHEMERAL)', () => {
    const t = planGpt({ diskSize: 64 * MIB, diskGuid: guidFromLabel('d') }, [
      { name: 'A', typeGuid: PartitionType.linuxData, guid: guidFromLabel('A'), size: 8 * MIB },
      { name: 'REST', typeGuid: PartitionType.linuxData, guid: guidFromLabel('REST'), size: 0 },
    ]);
    const rest = t.partitions[1]!;
    expect(rest.firstLba).toBe(2048 + 16384);
    // end aligned down: last usable 131038 → 129024 exclusive
    expect(rest.lastLba).toBe(129024 - 1);
  });

  it('rejects what cannot fit', () => {
    expect(() => planGpt({ diskSize: 4 * MIB, diskGuid: guidFromLabel('d') }, talosParts(8))).toThrow(/does not fit/);
    expect(() => planGpt({ diskSize: 4 * MIB + 1, diskGuid: guidFromLabel('d') }, [])).toThrow(/multiple/);
    expect(() => planGpt({ diskSize: 8 * MIB, diskGuid: guidFromLabel('d') }, [
      { name: 'x'.repeat(37), typeGuid: PartitionType.linuxData, guid: guidFromLabel('x'), size: MIB },
    ])).toThrow(/36 UTF-16/);
  });
});

describe('encode/read round trip', () => {
  const arbLayout = fc.record({
    sectorSize: fc.constantFrom(512, 4096),
    parts: fc.array(
      fc.record({
        name: fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => s.length <= 36 && !s.includes('\0')),
        mib: fc.integer({ min: 0, max: 12 }),
        attributes: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        type: fc.constantFrom(...Object.values(PartitionType)),
      }),
      { maxLength: 6 },
    ),
    extraMib: fc.integer({ min: 3, max: 20 }),
  });

  it('reads back exactly what was planned (random layouts)', async () => {
    await fc.assert(
      fc.asyncProperty(arbLayout, async ({ sectorSize, parts, extraMib }) => {
        const sized = parts.map((p, i) => ({ ...p, mib: p.mib === 0 && i !== parts.length - 1 ? 1 : p.mib }));
        const diskSize = (sized.reduce((s, p) => s + p.mib, 0) + extraMib) * MIB;
        const table = planGpt(
          { diskSize, sectorSize, diskGuid: guidFromLabel(`disk${diskSize}`) },
          sized.map((p, i) => ({ name: p.name, typeGuid: p.type, guid: guidFromLabel(`p${i}`), size: p.mib * MIB, attributes: p.attributes })),
        );
        const { table: back, warnings } = await readGpt(bufferReader(diskBytes(table)));
        expect(warnings).toEqual([]);
        expect(back).toEqual(table);
        // partitions never overlap and stay aligned
        for (const p of table.partitions) expect((p.firstLba * sectorSize) % MIB).toBe(0);
      }),
      { seed: 42, numRuns: 60 },
    );
  });
});

describe('reader rejects corruption', () => {
  const table = planGpt({ diskSize: 16 * MIB, diskGuid: guidFromLabel('talos-image-disk') }, talosParts(4));
  const good = diskBytes(table);
  const last = good.length - 512;

  async function rejects(mutate: (d: Buffer) => void, re: RegExp) {
    const d = Buffer.from(good);
    mutate(d);
    const err = await readGpt(bufferReader(d)).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ImagekitError);
    expect((err as ImagekitError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(re);
  }

  /** Change a header field and fix up its CRC so only the semantic check can catch it. */
  function patchHeader(d: Buffer, at: number, fn: (h: Buffer) => void) {
    const h = d.subarray(at, at + 92);
    fn(h);
    h.writeUInt32LE(0, 16);
    h.writeUInt32LE(crc32(h), 16);
  }

  it('accepts the good image', async () => {
    await expect(readGpt(bufferReader(good))).resolves.toBeTruthy();
  });
  it('primary header CRC', () => rejects((d) => { d[512 + 40]! ^= 1; }, /primary GPT header: header CRC32 mismatch/));
  it('backup header CRC', () => rejects((d) => { d[last + 40]! ^= 1; }, /backup GPT header: header CRC32 mismatch/));
  it('entry array CRC', () => rejects((d) => { d[1024 + 60]! ^= 1; }, /primary entry array CRC32 mismatch/));
  it('backup entry array CRC', () => rejects((d) => { d[table.backupEntriesLba * 512 + 3]! ^= 1; }, /backup entry array CRC32 mismatch/));
  it('missing signature', () => rejects((d) => { d.write('EFI PARX', 512, 'latin1'); }, /no GPT header/));
  it('missing protective MBR', () => rejects((d) => { d[510] = 0; }, /55 AA/));
  it('no 0xEE entry', () => rejects((d) => { d[446 + 4] = 0x83; }, /0xEE/));
  it('insane entry size', () => rejects((d) => patchHeader(d, 512, (h) => h.writeUInt32LE(100, 84)), /entry size 100/));
  it('huge entry count', () => rejects((d) => patchHeader(d, 512, (h) => h.writeUInt32LE(0x7fffffff, 80)), /not a sane entry array/));
  it('backup LBA outside the disk', () => rejects((d) => patchHeader(d, 512, (h) => h.writeBigUInt64LE(1n << 40n, 32)), /outside the disk/));
  it('LBA beyond 2^53', () => rejects((d) => patchHeader(d, 512, (h) => h.writeBigUInt64LE(1n << 60n, 48)), /out of range/));
  it('overlapping partitions', () =>
    rejects((d) => {
      for (const base of [1024, table.backupEntriesLba * 512]) {
        d.writeBigUInt64LE(BigInt(table.partitions[0]!.lastLba), base + 128 + 32); // META starts inside EFI
        const arr = d.subarray(base, base + 128 * 128);
        const c = crc32(arr);
        patchHeader(d, base === 1024 ? 512 : last, (h) => h.writeUInt32LE(c, 88));
      }
    }, /overlap/));
  it('partition outside the usable area', () =>
    rejects((d) => {
      for (const base of [1024, table.backupEntriesLba * 512]) {
        d.writeBigUInt64LE(10n, base + 32);
        const c = crc32(d.subarray(base, base + 128 * 128));
        patchHeader(d, base === 1024 ? 512 : last, (h) => h.writeUInt32LE(c, 88));
      }
    }, /outside the usable/));
  it('primary and backup disagree', () => rejects((d) => patchHeader(d, last, (h) => h.writeUInt8(h[56]! ^ 1, 56)), /differs from the primary/));
  it('truncated image', async () => {
    await expect(readGpt(bufferReader(good.subarray(0, 8 * 1024)))).rejects.toThrow(/too small|outside/);
  });
});
