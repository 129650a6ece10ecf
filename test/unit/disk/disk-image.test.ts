import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkBootloader,
  formatDiskReport,
  inspectDisk,
  loaderConf,
  planTalosDisk,
  writeDiskImage,
  type DiskImageOptions,
} from '../../../src/boot/disk/index.js';
import { ImagekitError } from '../../../src/core/errors.js';
import { SparseFileSink } from '../../../src/core/sink.js';
import { FatReader } from '../../../src/formats/fat/index.js';
import { readGpt, sliceReader } from '../../../src/formats/gpt/index.js';
import { decodeMetaPartition } from '../../../src/formats/meta/index.js';
import { quirksFor } from '../../../src/profile/quirks.js';
import { tempDir } from '../../helpers/tools.js';
import { RecordingSink } from './recording-sink.js';

const MiB = 1024 * 1024;
const uki = Buffer.alloc(3 * MiB + 17);
for (let i = 0; i < uki.length; i += 997) uki[i] = (i / 997) & 0xff;
const sdboot = Buffer.alloc(140891, 0x5a);

const base = (o: Partial<DiskImageOptions> = {}): DiskImageOptions => ({
  arch: 'amd64',
  version: 'v1.14.0',
  bootloader: 'sd-boot',
  diskSize: 2355101696, // 1246 + 1000 MiB: the ≥ 1.11 sd-boot default (talos-imager.md §15)
  partitionSizes: quirksFor('v1.14.0').partitionSizes,
  uki,
  systemdBoot: sdboot,
  repro: { sourceDateEpoch: 1700000000, seed: 'disk' },
  ...o,
});

async function build(o: Partial<DiskImageOptions> = {}) {
  const sink = new RecordingSink();
  const result = await writeDiskImage(sink, base(o));
  return { sink, result };
}

describe('Talos sd-boot layout', () => {
  it('matches the worked 1.14 layout (talos-imager.md §9.3) and the 1.10 sizes', () => {
    const t = planTalosDisk(base());
    expect(t.partitions.map((p) => [p.name, p.firstLba, p.lastLba, p.guid])).toEqual([
      ['EFI', 2048, 4304895, 'bca5174b-0118-8a6a-af0b-2c6e1585acae'],
      ['META', 4304896, 4306943, 'cf04f137-101e-8ec6-9627-fa3f51cdabb8'],
    ]);
    expect(t.diskGuid).toBe('d92d45b3-cde9-8760-be9f-a2a71fac8d11');
    const old = planTalosDisk(base({ diskSize: 1246 * MiB, partitionSizes: quirksFor('v1.10.0').partitionSizes }));
    expect(old.partitions[0]!.lastLba - old.partitions[0]!.firstLba + 1).toBe((1101 * MiB) / 512);
  });

  it('adds STATE and EPHEMERAL (rest of the disk) for targets < 1.8', () => {
    const t = planTalosDisk(base({ diskSize: 4096 * MiB, dataPartitions: true, partitionSizes: quirksFor('v1.7.0').partitionSizes }));
    expect(t.partitions.map((p) => p.name)).toEqual(['EFI', 'META', 'STATE', 'EPHEMERAL']);
    const eph = t.partitions[3]!;
    expect(eph.firstLba).toBe(t.partitions[2]!.lastLba + 1);
    expect((eph.lastLba + 1) % 2048).toBe(0);
  });

  it('refuses dual-boot and grub with exit code 3 and the sd-boot hint', async () => {
    for (const bl of ['dual-boot', 'grub'] as const) {
      const err = await build({ bootloader: bl }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(ImagekitError);
      expect((err as ImagekitError).exitCode).toBe(3);
      expect((err as Error).message).toContain('--bootloader sd-boot');
      expect((err as Error).message).toContain('output.imageOptions.bootloader');
    }
    expect(() => checkBootloader('lilo')).toThrow(/unknown disk bootloader/);
  });

  it('refuses a disk too small for its partitions (exit 2)', async () => {
    const err = await build({ diskSize: 1024 * MiB }).then(() => null, (e: unknown) => e);
    expect((err as ImagekitError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(/does not fit/);
  });
});

describe('writeDiskImage', () => {
  it('writes a readable disk in increasing offset order, mostly holes', async () => {
    const { sink, result } = await build();
    expect(sink.size).toBe(2355101696);
    expect(sink.bytesWritten).toBeLessThan(uki.length + sdboot.length + 2 * MiB);
    const { table, warnings } = await readGpt(sink.reader());
    expect(warnings).toEqual([]);
    expect(table).toEqual(result.table);
    const espPart = table.partitions[0]!;
    const fat = await FatReader.open(sliceReader(sink.reader(), espPart.firstLba * 512, (espPart.lastLba - espPart.firstLba + 1) * 512));
    expect(fat.info.fatType).toBe(32);
    expect(fat.info.clusterSize).toBe(4096);
    expect(fat.info.volumeId).toBe(0x1234abcd);
    expect(fat.info.rootLabel).toBe('EFI');
    expect((await fat.walk()).map((n) => n.path)).toEqual([
      'EFI', 'EFI/Linux', 'EFI/Linux/Talos-v1.14.0.efi', 'EFI/boot', 'EFI/boot/BOOTX64.efi', 'loader', 'loader/loader.conf',
    ]);
    expect((await fat.readFile('EFI/Linux/Talos-v1.14.0.efi')).equals(uki)).toBe(true);
    expect((await fat.readFile('EFI/boot/BOOTX64.efi')).equals(sdboot)).toBe(true);
    expect((await fat.readFile('loader/loader.conf')).toString()).toBe('# systemd-boot configuration\n\ntimeout 10\n');
    const meta = table.partitions[1]!;
    const metaBytes = await sink.reader().read(meta.firstLba * 512, 2 * 256 * 1024);
    expect(decodeMetaPartition(metaBytes).state).toBe('empty');
  });

  it('gives identical bytes for two builds', async () => {
    const a = await build();
    const b = await build();
    expect(a.sink.digest()).toBe(b.sink.digest());
    const c = await build({ repro: { sourceDateEpoch: 1700000002, seed: 'disk' } });
    expect(c.sink.digest()).not.toBe(a.sink.digest());
  });

  it('arm64, 4096-byte sectors, META values and SecureBoot enrollment keys', async () => {
    const { sink, result } = await build({
      arch: 'arm64',
      sectorSize: 4096,
      metaValues: [{ key: 0x0a, value: '{"hostname":"x"}' }, { key: 12, value: new Uint8Array([1, 2, 3]) }],
      secureBootEnrollment: { mode: 'if-safe', pk: Buffer.from('PK'), kek: Buffer.from('KEK'), db: Buffer.from('DB') },
    });
    expect(result.table.sectorSize).toBe(4096);
    expect(result.table.partitions[0]!.firstLba).toBe(256);
    const report = await inspectDisk(sink.reader());
    const [esp, meta] = report.partitions;
    expect(esp!.filesystem.kind).toBe('fat');
    if (esp!.filesystem.kind === 'fat') {
      expect(esp!.filesystem.sectorSize).toBe(4096);
      expect(esp!.filesystem.files.map((f) => f.path)).toContain('EFI/boot/BOOTAA64.efi');
      expect(esp!.filesystem.files.map((f) => f.path)).toContain('loader/keys/auto/KEK.auth');
    }
    expect(meta!.filesystem).toEqual({
      kind: 'meta',
      state: 'valid',
      keys: [
        { key: 10, name: '0x0a (MetalNetworkPlatformConfig)', size: 16, value: '"{\\"hostname\\":\\"x\\"}"' },
        { key: 12, name: '0x0c (UserReserved1)', size: 3, value: '0x010203' },
      ],
    });
    const espPart = result.table.partitions[0]!;
    const fat = await FatReader.open(sliceReader(sink.reader(), espPart.firstLba * 4096, (espPart.lastLba - espPart.firstLba + 1) * 4096));
    expect((await fat.readFile('loader/loader.conf')).toString()).toBe(loaderConf('if-safe'));
    expect(loaderConf('if-safe')).toBe('# systemd-boot configuration\n\ntimeout 10\n\nsecure-boot-enroll if-safe\n');
    const text = formatDiskReport(report, 'disk.raw');
    expect(text).toContain('GPT, 4096-byte sectors, disk GUID d92d45b3-cde9-8760-be9f-a2a71fac8d11');
    expect(text).toContain('FAT32, label "EFI", serial 1234-ABCD');
    expect(text).toContain('0x0a (MetalNetworkPlatformConfig): "{\\"hostname\\":\\"x\\"}" (16 bytes)');
  });

  it('checks inputs before writing anything', async () => {
    const sink = new RecordingSink();
    await expect(writeDiskImage(sink, base({ metaValues: [{ key: 300, value: 'x' }] }))).rejects.toThrow(/1\.\.255/);
    await expect(writeDiskImage(sink, base({ version: '../x' }))).rejects.toThrow(/cannot name a UKI/);
    expect(sink.writes).toEqual([]);
  });

  it('writes a sparse file (holes, not zeros)', async () => {
    const t = tempDir('imagekit-disk-');
    try {
      const path = join(t.dir, 'disk.raw');
      const sink = await SparseFileSink.create(path);
      await writeDiskImage(sink, base());
      await sink.close();
      const st = statSync(path);
      expect(st.size).toBe(2355101696);
      expect(st.blocks * 512).toBeLessThan(16 * MiB);
    } finally {
      t.cleanup();
    }
  });
});
