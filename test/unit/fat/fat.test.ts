import fc from 'fast-check';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../src/core/errors.js';
import { dirEntry, fileFromBytes, type FileEntry, type FileTree } from '../../../src/core/file-tree.js';
import { MemorySink, type RandomAccessSink } from '../../../src/core/sink.js';
import {
  derivedShortName,
  exactShortName,
  FatReader,
  fromDosTime,
  planFatGeometry,
  shortNameChecksum,
  toDosTime,
  writeFat,
  type FatWriteOptions,
} from '../../../src/formats/fat/index.js';
import { bufferReader } from '../../../src/formats/gpt/index.js';

const MiB = 1024 * 1024;
const repro = { sourceDateEpoch: 1700000000, seed: 'unit' };

async function build(tree: FileTree, opts: Partial<FatWriteOptions> = {}) {
  const size = opts.size ?? 40 * MiB;
  const sink = new MemorySink(size);
  const result = await writeFat(sink, 0, tree, { size, repro, label: 'EFI', ...opts });
  return { bytes: sink.bytes(), result };
}

/** A sink that fails on any write or hole that is not strictly after the previous one. */
class InOrderSink implements RandomAccessSink {
  pos = 0;
  size = 0;
  writes = 0;
  holes = 0;
  private check(offset: number, length: number) {
    if (offset < this.pos) throw new Error(`out of order: ${offset} < ${this.pos}`);
    this.pos = offset + length;
    this.size = Math.max(this.size, this.pos);
  }
  async write(offset: number, bytes: Uint8Array) {
    this.check(offset, bytes.byteLength);
    this.writes++;
  }
  async writeFrom(): Promise<number> {
    throw new Error('not used');
  }
  async hole(offset: number, length: number) {
    this.check(offset, length);
    this.holes++;
  }
  async setSize(size: number) {
    this.size = size;
  }
  async close() {}
}

describe('short names', () => {
  it('keeps 8.3 names (case in the NT bits) and derives the rest like mtools', () => {
    expect(exactShortName('BOOTX64.efi')).toEqual({ raw: 'BOOTX64 EFI', caseBits: 0x10, needsLongName: false });
    expect(exactShortName('lower.txt')).toEqual({ raw: 'LOWER   TXT', caseBits: 0x18, needsLongName: false });
    expect(exactShortName('UPPER.TXT')).toEqual({ raw: 'UPPER   TXT', caseBits: 0, needsLongName: false });
    expect(exactShortName('Mixed.Txt')).toEqual({ raw: 'MIXED   TXT', caseBits: 0, needsLongName: true });
    expect(exactShortName('loader.conf')).toBeNull();
    expect(exactShortName('ß')).toBeNull();
    const taken = new Set<string>();
    const take = (n: string) => {
      const s = derivedShortName(n, taken);
      taken.add(s.raw);
      return s.raw;
    };
    expect(take('loader.conf')).toBe('LOADER~1CON');
    expect(take('Talos-v1.14.0.efi')).toBe('TALOS-~1EFI');
    expect(take('Talos-v1.14.1.efi')).toBe('TALOS-~2EFI');
    expect(take('.hidden')).toBe('HIDDEN~1   ');
    expect(take('x.y.z')).toBe('XY~1    Z  ');
    expect(take('a b.txt')).toBe('AB~1    TXT');
    expect(take('ab+c.txt')).toBe('AB_C~1  TXT');
    expect(take('ß.txt')).toBe('_~1     TXT');
    for (let i = 2; i < 12; i++) take('loader.conf' + 'x'.repeat(i));
    expect(take('loader.confy')).toBe('LOADE~12CON');
  });

  it('checksums as fatgen103', () => {
    // rotate-right-and-add over the 11 bytes
    expect(shortNameChecksum(Buffer.from('LOADER~1CON', 'latin1'))).toBe(
      [...Buffer.from('LOADER~1CON', 'latin1')].reduce((s, b) => (((s & 1) << 7) + (s >> 1) + b) & 0xff, 0),
    );
  });
});

describe('DOS time', () => {
  it('encodes UTC and clamps to 1980..2107', () => {
    expect(fromDosTime(toDosTime(0).date, toDosTime(0).time)).toBe(315532800);
    expect(fromDosTime(toDosTime(1700000001).date, toDosTime(1700000001).time)).toBe(1700000000);
    expect(toDosTime(1700000001).centiseconds).toBe(100);
    expect(fromDosTime(toDosTime(9e9).date, toDosTime(9e9).time)).toBe(4354819198);
  });
});

describe('geometry', () => {
  it('Talos ESP: 2101 MiB FAT32 → 4 KiB clusters, 32 reserved, backup at 6 (talos-imager.md §15)', () => {
    const g = planFatGeometry({ size: 2101 * MiB, fatType: 32 });
    expect([g.sectorsPerCluster, g.clusterSize, g.reservedSectors, g.fatCount, g.backupBootSector, g.fsInfoSector]).toEqual([8, 4096, 32, 2, 6, 1]);
  });
  it('automatic type: FAT32 from 512 MiB, FAT16 below, FAT12 for floppies', () => {
    expect(planFatGeometry({ size: 512 * MiB }).fatType).toBe(32);
    expect(planFatGeometry({ size: 100 * MiB }).fatType).toBe(16);
    expect(planFatGeometry({ size: 1440 * 1024 }).fatType).toBe(12);
  });
  it('refuses impossible sizes', () => {
    expect(() => planFatGeometry({ size: 16 * 1024, fatType: 32 })).toThrow(/too small/);
    expect(() => planFatGeometry({ size: 100 * MiB, sectorSize: 768 })).toThrow(/sector size/);
  });
});

const nameArb = fc
  .string({ unit: fc.constantFrom(...'aAzZ09 .-_~+[];,é中😀ЖßİıΣσ'.split(/(?:)/u)), minLength: 1, maxLength: 40 })
  .filter((s) => s !== '.' && s !== '..' && !/[. ]$/.test(s) && s.length <= 255);

const treeArb = fc.array(fc.record({ dir: fc.array(nameArb, { maxLength: 3 }), name: nameArb, isDir: fc.boolean(), size: fc.integer({ min: 0, max: 20000 }) }), { maxLength: 30 }).map((items) => {
  const tree: FileTree = [];
  const seen = new Map<string, { path: string; kind: 'file' | 'dir' }>();
  for (const it of items) {
    const parts = [...it.dir, it.name];
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    const ok = prefixes.every((p, i) => {
      const have = seen.get(p.toUpperCase());
      return !have || (i < parts.length - 1 && have.path === p && have.kind === 'dir');
    });
    if (!ok) continue;
    prefixes.forEach((p, i) => seen.set(p.toUpperCase(), { path: p, kind: i === parts.length - 1 && !it.isDir ? 'file' : 'dir' }));
    const path = prefixes[prefixes.length - 1]!;
    tree.push(it.isDir ? dirEntry(path) : fileFromBytes(path, Buffer.alloc(it.size, path.length & 0xff)));
  }
  return tree;
});

describe('writeFat + FatReader', () => {
  it('round-trips random trees (names with non-BMP characters, case folding), FAT12/16/32', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb, fc.constantFrom<[12 | 16 | 32, number]>([32, 8 * MiB], [16, 16 * MiB], [12, 3 * MiB]), async (tree, [fatType, size]) => {
        const { bytes, result } = await build(tree, { fatType, size });
        expect(result.geometry.fatType).toBe(fatType);
        const v = await FatReader.open(bufferReader(bytes));
        expect(v.warnings).toEqual([]);
        expect(v.info.rootLabel).toBe('EFI');
        const nodes = await v.walk();
        const byPath = new Map(nodes.map((n) => [n.path, n]));
        for (const e of tree) {
          const n = byPath.get(e.path);
          expect(n, e.path).toBeDefined();
          expect(n!.type).toBe(e.type);
          expect(n!.mtime).toBe(1700000000);
          if (e.type === 'file') {
            expect(n!.size).toBe(e.size);
            expect((await v.readFile(e.path)).equals(Buffer.alloc(e.size, e.path.length & 0xff))).toBe(true);
          }
        }
        expect(v.info.fsInfo?.freeClusters ?? (await v.countFreeClusters())).toBe(await v.countFreeClusters());
      }),
      { seed: 42, numRuns: 40 },
    );
  });

  it('is deterministic and writes in increasing offset order with holes for free space', async () => {
    const tree: FileTree = [
      fileFromBytes('EFI/boot/BOOTX64.efi', Buffer.alloc(70000, 1)),
      fileFromBytes('EFI/Linux/Talos-v1.14.0.efi', Buffer.alloc(300000, 2)),
      fileFromBytes('loader/loader.conf', 'timeout 10\n'),
    ];
    const a = await build(tree);
    const b = await build([...tree].reverse());
    expect(a.bytes.equals(b.bytes)).toBe(true);
    const sink = new InOrderSink();
    await writeFat(sink, 5 * MiB, tree, { size: 40 * MiB, repro, label: 'EFI' });
    expect(sink.pos).toBe(45 * MiB);
    expect(sink.holes).toBeGreaterThan(0);
  });

  it('derives the volume ID from the seed, or takes the given one', async () => {
    const a = await build([], { repro: { sourceDateEpoch: 0, seed: 'one' } });
    const b = await build([], { repro: { sourceDateEpoch: 0, seed: 'two' } });
    expect(a.result.volumeId).not.toBe(b.result.volumeId);
    const c = await build([], { volumeId: 0x1234abcd });
    expect((await FatReader.open(bufferReader(c.bytes))).info.volumeId).toBe(0x1234abcd);
  });

  it('streams content in chunks and checks the declared size', async () => {
    const chunks = (n: number): FileEntry => ({
      ...fileFromBytes('big.bin', ''),
      size: 10000,
      open: () => Readable.from(Array.from({ length: n }, () => Buffer.alloc(1000, 5))),
    });
    const ok = await build([chunks(10)]);
    expect((await (await FatReader.open(bufferReader(ok.bytes))).readFile('big.bin')).equals(Buffer.alloc(10000, 5))).toBe(true);
    await expect(build([chunks(11)])).rejects.toThrow(/longer than its declared size/);
    await expect(build([chunks(9)])).rejects.toThrow(/9000 bytes, declared 10000/);
  });

  it('rejects trees FAT cannot hold', async () => {
    const err = async (tree: FileTree, re: RegExp, opts: Partial<FatWriteOptions> = {}) => {
      const e = await build(tree, opts).then(() => null, (x: unknown) => x);
      expect(e).toBeInstanceOf(ImagekitError);
      expect((e as Error).message).toMatch(re);
    };
    await err([fileFromBytes('a.txt', 'x'), fileFromBytes('A.TXT', 'y')], /differ only in case|differs only in case/);
    await err([fileFromBytes('a', 'x'), fileFromBytes('a/b', 'y')], /is a file, not a directory/);
    await err([fileFromBytes('a?b', 'x')], /cannot store/);
    await err([fileFromBytes('trailing.', 'x')], /ends with a dot/);
    await err([{ ...fileFromBytes('l', ''), type: 'symlink', linkTarget: 'x' }], /symlink cannot be stored/);
    await err([fileFromBytes('big', Buffer.alloc(2 * MiB))], /needs \d+ clusters/, { size: 2 * MiB, fatType: 12 });
    await err([], /longer than 11/, { label: 'TOO-LONG-LABEL' });
    await err(Array.from({ length: 200 }, (_, i) => fileFromBytes(`long-file-name-number-${i}.txt`, '')), /root directory holds 512/, { size: 20 * MiB, fatType: 16 });
  });
});

describe('FatReader rejects corrupt images', () => {
  const tree: FileTree = [fileFromBytes('d/f.bin', Buffer.alloc(5000, 3)), fileFromBytes('g.txt', 'hello')];
  const fat32 = async () => (await build(tree, { size: 40 * MiB, fatType: 32 })).bytes;
  const fatOffset = 32 * 512;

  it('bad boot sector', async () => {
    const b = await fat32();
    b[510] = 0;
    await expect(FatReader.open(bufferReader(b))).rejects.toThrow(/55 AA/);
    const c = await fat32();
    c.writeUInt16LE(777, 11);
    await expect(FatReader.open(bufferReader(c))).rejects.toThrow(/bytes per sector/);
    const d = await fat32();
    d.writeUInt32LE(0xffffffff, 32);
    await expect(FatReader.open(bufferReader(d))).rejects.toThrow(/claims/);
  });

  it('cluster chain loop and out-of-range clusters', async () => {
    const b = await fat32();
    const v0 = await FatReader.open(bufferReader(b));
    const f = await v0.lookup('d/f.bin');
    b.writeUInt32LE(f.firstCluster, fatOffset + (f.firstCluster + 2) * 4); // 3rd cluster points back to the 1st
    const v = await FatReader.open(bufferReader(b));
    await expect(v.readFile('d/f.bin')).rejects.toThrow(/longer than|clusters for/);
    await expect(v.walk()).rejects.toThrow(/loop|shared|clusters for/);
    const c = await fat32();
    c.writeUInt32LE(0x0ffffff0, fatOffset + f.firstCluster * 4);
    await expect((await FatReader.open(bufferReader(c))).readFile('d/f.bin')).rejects.toThrow(/outside/);
  });

  it('file size that does not match its chain', async () => {
    const b = await fat32();
    const v0 = await FatReader.open(bufferReader(b));
    const g = await v0.lookup('g.txt');
    // find g.txt's short entry in the root directory cluster and make it claim 4 clusters
    const root = v0.info.dataStartSector * 512;
    const at = b.indexOf(Buffer.from('G       TXT', 'latin1'), root);
    expect(at).toBeGreaterThan(0);
    b.writeUInt32LE(4 * 512, at + 28);
    expect(g.size).toBe(5);
    await expect((await FatReader.open(bufferReader(b))).walk()).rejects.toThrow(/clusters for a size/);
  });

  it('mismatched long-name entries fall back to the short name with a warning', async () => {
    const b = await fat32();
    const v0 = await FatReader.open(bufferReader(b));
    const root = v0.info.dataStartSector * 512;
    // the entries for "d/f.bin" are in d's cluster; corrupt a long name checksum of the root's label? use a long name
    const { bytes } = await build([fileFromBytes('Long Name.txt', 'x')], { size: 40 * MiB, fatType: 32 });
    const lfn = bytes.indexOf(Buffer.from([0x41]), root + 32); // first LFN entry after the label
    bytes[lfn + 13] ^= 0xff;
    const v = await FatReader.open(bufferReader(bytes));
    const nodes = await v.walk();
    expect(nodes.map((n) => n.name)).toEqual(['LONGNA~1.TXT']);
    expect(v.warnings.join()).toMatch(/mismatched long-name/);
  });
});
