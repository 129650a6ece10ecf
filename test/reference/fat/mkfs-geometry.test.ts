/**
 * Our FAT geometry against mkfs.vfat (dosfstools) itself: for many sizes, sector sizes and FAT types,
 * the boot sector mkfs.vfat writes has the same sectors per cluster, reserved sectors, FAT length,
 * root entries, total sectors, media, CHS geometry and backup boot sector as `planFatGeometry`.
 */
import fc from 'fast-check';
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeBootSector, planFatGeometry, type FatType } from '../../../src/formats/fat/index.js';
import { missingTools, runTool, tempDir } from '../../helpers/tools.js';

const tmp = tempDir('imagekit-fatgeo-');
afterAll(() => tmp.cleanup());
const skip = missingTools('mkfs.vfat');

let n = 0;
let accepted = 0;
let refused = 0;
function compare(size: number, sectorSize: number, fatType?: FatType) {
  const img = join(tmp.dir, `g${n++}.img`);
  const args = ['--invariant', '-n', 'EFI'];
  if (fatType) args.push('-F', String(fatType));
  if (sectorSize !== 512) args.push('-S', String(sectorSize));
  args.push('-C', img, String(size / 1024));
  const r = runTool('mkfs.vfat', args);
  let ours: ReturnType<typeof planFatGeometry> | null = null;
  try {
    ours = planFatGeometry({ size, sectorSize, fatType });
  } catch {
    ours = null;
  }
  if (r.status !== 0) {
    // mkfs refuses: so must we
    expect(ours, `mkfs.vfat refused ${size}/${sectorSize}/${fatType}: ${r.stdout}${r.stderr}`).toBeNull();
    refused++;
    return;
  }
  expect(ours, `we refused ${size}/${sectorSize}/FAT${fatType} that mkfs.vfat accepted`).not.toBeNull();
  const head = Buffer.alloc(sectorSize);
  const fd = openSync(img, 'r');
  readSync(fd, head, 0, sectorSize, 0);
  closeSync(fd);
  const bs = decodeBootSector(head, 'mkfs image');
  rmSync(img);
  const g = ours!;
  accepted++;
  expect({
    fatType: g.fatType,
    sectorSize: g.sectorSize,
    spc: g.sectorsPerCluster,
    reserved: g.reservedSectors,
    fats: g.fatCount,
    fatSectors: g.fatSectors,
    rootEntries: g.rootEntries,
    total: g.totalSectors,
    media: g.media,
    spt: g.sectorsPerTrack,
    heads: g.heads,
    backup: g.backupBootSector,
    clusters: g.clusterCount,
  }).toEqual({
    fatType: bs.fatType,
    sectorSize: bs.sectorSize,
    spc: bs.sectorsPerCluster,
    reserved: bs.reservedSectors,
    fats: bs.fatCount,
    fatSectors: bs.fatSectors,
    rootEntries: bs.rootEntries,
    total: bs.totalSectors,
    media: bs.media,
    spt: bs.sectorsPerTrack,
    heads: bs.heads,
    backup: bs.backupBootSector,
    clusters: bs.clusterCount,
  });
}

const MiB = 1024 * 1024;

describe.skipIf(skip)('FAT geometry = mkfs.vfat', () => {
  it('Talos ESP sizes (-F 32): 100, 1101, 2101 MiB with 512- and 4096-byte sectors', () => {
    for (const mib of [100, 1101, 2101]) for (const ss of [512, 4096]) compare(mib * MiB, ss, 32);
  });

  it('floppy and small sizes, automatic type', () => {
    for (const kib of [360, 720, 1200, 1440, 2880, 4096, 8192, 16384, 32768]) compare(kib * 1024, 512);
  });

  it('random sizes, types and sector sizes (fixed seed)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 64, max: 3 * 1024 * 1024 }), // KiB, up to 3 GiB
        fc.constantFrom(512, 512, 1024, 2048, 4096),
        fc.constantFrom<FatType | undefined>(undefined, 12, 16, 32),
        (kib, ss, type) => {
          if ((kib * 1024) % ss !== 0) kib -= (kib * 1024 % ss) / 1024;
          compare(kib * 1024, ss, type);
        },
      ),
      { seed: 42, numRuns: 120 },
    );
    // the sample must exercise both outcomes, mostly acceptance
    expect(accepted).toBeGreaterThan(80);
    expect(refused).toBeGreaterThan(0);
  });
});
