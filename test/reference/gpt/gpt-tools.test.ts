/**
 * The GPT we write, as sgdisk (gdisk) and sfdisk (util-linux) read it: `sgdisk -v` finds no problem,
 * `sgdisk -p`/`-i N` and `sfdisk --json` report the same geometry, names, GUIDs and attributes.
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SparseFileSink } from '../../../src/core/sink.js';
import { guidFromLabel, PartitionAttribute, PartitionType, planGpt, writeGpt, type GptTable } from '../../../src/formats/gpt/index.js';
import { missingTools, runTool, tempDir } from '../../helpers/tools.js';

const MIB = 1024 * 1024;

const tmp = tempDir('imagekit-gpt-');
afterAll(() => tmp.cleanup());
const skip = missingTools('sgdisk', 'sfdisk', 'fdisk');

async function writeDisk(table: GptTable, name: string): Promise<string> {
  const path = join(tmp.dir, name);
  const sink = await SparseFileSink.create(path);
  await writeGpt(sink, table);
  await sink.close();
  return path;
}

function checkWithTools(path: string, table: GptTable) {
  const v = runTool('sgdisk', ['-v', path]);
  expect(v.status, v.stdout + v.stderr).toBe(0);
  expect(v.stdout).toMatch(/No problems found/);

  const p = runTool('sgdisk', ['-p', path]);
  expect(p.status).toBe(0);
  expect(p.stdout).toContain(`Disk identifier (GUID): ${table.diskGuid.toUpperCase()}`);
  expect(p.stdout).toContain(`Sector size (logical): ${table.sectorSize} bytes`);
  expect(p.stdout).toContain(`First usable sector is ${table.firstUsableLba}, last usable sector is ${table.lastUsableLba}`);
  expect(p.stdout).toContain(`Partition table holds up to ${table.entryCount} entries`);

  for (const part of table.partitions) {
    const i = runTool('sgdisk', [`-i`, String(part.index), path]);
    expect(i.status).toBe(0);
    expect(i.stdout).toContain(`Partition GUID code: ${part.typeGuid.toUpperCase()}`);
    expect(i.stdout).toContain(`Partition unique GUID: ${part.guid.toUpperCase()}`);
    expect(i.stdout).toMatch(new RegExp(`First sector: ${part.firstLba} `));
    expect(i.stdout).toMatch(new RegExp(`Last sector: ${part.lastLba} `));
    expect(i.stdout).toContain(`Attribute flags: ${part.attributes.toString(16).padStart(16, '0')}`);
    expect(i.stdout).toContain(`Partition name: '${part.name}'`);
  }

  const s = runTool('sfdisk', ['--json', path]);
  expect(s.status, s.stderr).toBe(0);
  const pt = JSON.parse(s.stdout).partitiontable;
  expect(pt.label).toBe('gpt');
  expect(pt.id).toBe(table.diskGuid.toUpperCase());
  expect(pt.sectorsize ?? table.sectorSize).toBe(table.sectorSize);
  expect(pt.firstlba).toBe(table.firstUsableLba);
  expect(pt.lastlba).toBe(table.lastUsableLba);
  expect(pt.partitions).toHaveLength(table.partitions.length);
  table.partitions.forEach((part, k) => {
    const sp = pt.partitions[k];
    expect(sp.node).toBe(`${path}${part.index}`);
    expect(sp.start).toBe(part.firstLba);
    expect(sp.size).toBe(part.lastLba - part.firstLba + 1);
    expect(sp.type).toBe(part.typeGuid.toUpperCase());
    expect(sp.uuid).toBe(part.guid.toUpperCase());
    expect(sp.name ?? '').toBe(part.name);
  });
}

describe.skipIf(skip)('GPT vs sgdisk/sfdisk', () => {
  it('Talos dual-boot layout (512-byte sectors)', async () => {
    const table = planGpt({ diskSize: 4453302272, diskGuid: guidFromLabel('talos-image-disk') }, [
      { name: 'EFI', typeGuid: PartitionType.efiSystem, guid: guidFromLabel('EFI'), size: 2101 * MIB },
      { name: 'BIOS', typeGuid: PartitionType.biosBoot, guid: guidFromLabel('BIOS'), size: MIB, attributes: PartitionAttribute.legacyBiosBootable },
      { name: 'BOOT', typeGuid: PartitionType.linuxData, guid: guidFromLabel('BOOT'), size: 2000 * MIB },
      { name: 'META', typeGuid: PartitionType.linuxData, guid: guidFromLabel('META'), size: MIB },
    ]);
    checkWithTools(await writeDisk(table, 'dual.raw'), table);
    // sfdisk --dump agrees with the worked layout in talos-imager.md §9.3
    const dump = runTool('sfdisk', ['--dump', join(tmp.dir, 'dual.raw')]).stdout;
    expect(dump).toMatch(/dual\.raw1 : start=\s*2048, size=\s*4302848, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=BCA5174B-0118-8A6A-AF0B-2C6E1585ACAE, name="EFI"/);
    expect(dump).toMatch(/dual\.raw2 : start=\s*4304896, size=\s*2048, .* name="BIOS", attrs="LegacyBIOSBootable"/);
  });

  it('Talos sd-boot layout with 4096-byte sectors', async () => {
    const table = planGpt({ diskSize: 2355101696, sectorSize: 4096, diskGuid: guidFromLabel('talos-image-disk') }, [
      { name: 'EFI', typeGuid: PartitionType.efiSystem, guid: guidFromLabel('EFI'), size: 2101 * MIB },
      { name: 'META', typeGuid: PartitionType.linuxData, guid: guidFromLabel('META'), size: MIB },
    ]);
    const path = await writeDisk(table, 'sdboot4k.raw');
    // A regular file reads as 512-byte sectors; sgdisk and sfdisk 2.38 have no override, fdisk has -b.
    const f = runTool('fdisk', ['-b', '4096', '-l', '-o', 'Device,Start,End,Sectors,Type-UUID,Name,UUID', path]);
    expect(f.status, f.stderr).toBe(0);
    expect(f.stdout + f.stderr).not.toMatch(/corrupt|invalid|mismatch|warning/i);
    expect(f.stdout).toContain('Disklabel type: gpt');
    expect(f.stdout).toContain(`Disk identifier: ${table.diskGuid.toUpperCase()}`);
    const rows = f.stdout.split('\n').filter((l) => l.startsWith(path)).map((l) => l.split(/\s+/));
    expect(rows).toEqual(
      table.partitions.map((p) => [`${path}${p.index}`, String(p.firstLba), String(p.lastLba), String(p.lastLba - p.firstLba + 1), p.typeGuid.toUpperCase(), p.name, p.guid.toUpperCase()]),
    );
    expect(table.partitions.map((p) => p.firstLba)).toEqual([256, 256 + (2101 * MIB) / 4096]);
  });

  it('random layouts (fixed seed)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            name: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
            mib: fc.integer({ min: 1, max: 9 }),
            type: fc.constantFrom(...Object.values(PartitionType)),
            attr: fc.constantFrom(0n, 1n, 4n, 1n << 60n),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        fc.integer({ min: 2, max: 9 }),
        async (parts, extra) => {
          const diskSize = (parts.reduce((s, p) => s + p.mib, 0) + extra) * MIB;
          const table = planGpt(
            { diskSize, diskGuid: guidFromLabel(`random-${n}`) },
            parts.map((p, i) => ({ name: p.name, typeGuid: p.type, guid: guidFromLabel(`r${n}-${i}`), size: p.mib * MIB, attributes: p.attr })),
          );
          checkWithTools(await writeDisk(table, `random-${n++}.raw`), table);
        },
      ),
      { seed: 42, numRuns: 8 },
    );
  });
});
