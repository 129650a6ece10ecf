/**
 * A whole Talos sd-boot disk as the reference tools see it: `sgdisk -v` finds no problem, `sfdisk
 * --dump` equals the worked layout of talos-imager.md §9.3, mtools read the ESP inside the disk
 * (`-i disk@@offset`) back byte for byte, `fsck.vfat` finds the ESP clean, and two builds give
 * identical files (`cmp`).
 */
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDiskImage, type DiskImageOptions } from '../../../src/boot/disk/index.js';
import { SparseFileSink, type RandomAccessSink } from '../../../src/core/sink.js';
import { quirksFor } from '../../../src/profile/quirks.js';
import { missingTools, runTool, tempDir } from '../../helpers/tools.js';

const MiB = 1024 * 1024;
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1', LC_ALL: 'C.UTF-8' };
const skip = missingTools('sgdisk', 'sfdisk', 'fsck.vfat', 'mdir', 'mcopy', 'minfo', 'cmp', 'sha256sum');
const t = tempDir('imagekit-disk-ref-');
afterAll(() => t.cleanup());

const uki = Buffer.alloc(7 * MiB + 4321);
for (let i = 0; i < uki.length; i++) uki[i] = (i * 2654435761) >>> 24;
const sdboot = Buffer.alloc(140891);
for (let i = 0; i < sdboot.length; i++) sdboot[i] = (i * 40503) >>> 8;

const options = (o: Partial<DiskImageOptions> = {}): DiskImageOptions => ({
  arch: 'amd64',
  version: 'v1.14.0',
  bootloader: 'sd-boot',
  diskSize: 2355101696,
  partitionSizes: quirksFor('v1.14.0').partitionSizes,
  uki,
  systemdBoot: sdboot,
  metaValues: [{ key: 0x0a, value: 'network-config' }],
  repro: { sourceDateEpoch: 1700000000, seed: 'ref' },
  ...o,
});

/** Passes everything to the disk sink and copies the ESP's byte range into a second (sparse) file. */
class TeeEsp implements RandomAccessSink {
  constructor(private readonly disk: RandomAccessSink, private readonly esp: RandomAccessSink, private readonly start: number, private readonly end: number) {}
  get size() {
    return this.disk.size;
  }
  async write(offset: number, bytes: Uint8Array) {
    await this.disk.write(offset, bytes);
    const s = Math.max(offset, this.start);
    const e = Math.min(offset + bytes.byteLength, this.end);
    if (s < e) await this.esp.write(s - this.start, bytes.subarray(s - offset, e - offset));
  }
  async writeFrom(): Promise<number> {
    throw new Error('unused');
  }
  async hole(offset: number, length: number) {
    await this.disk.hole(offset, length);
  }
  async setSize(size: number) {
    await this.disk.setSize(size);
    await this.esp.setSize(this.end - this.start);
  }
  async close() {
    await this.disk.close();
    await this.esp.close();
  }
}

async function buildTo(path: string, espPath: string | null, o: Partial<DiskImageOptions> = {}) {
  const disk = await SparseFileSink.create(path);
  const sink = espPath ? new TeeEsp(disk, await SparseFileSink.create(espPath), MiB, MiB + 2101 * MiB) : disk;
  const r = await writeDiskImage(sink, options(o));
  await sink.close();
  return r;
}

describe.skipIf(skip)('Talos sd-boot disk vs sgdisk, sfdisk, mtools, fsck.vfat', () => {
  const disk = join(t.dir, 'metal-amd64.raw');
  const esp = join(t.dir, 'esp.img');
  beforeAll(async () => {
    await buildTo(disk, esp);
  });

  it('GPT: sgdisk -v clean, sfdisk --dump = the worked 1.14 sd-boot layout', () => {
    const v = runTool('sgdisk', ['-v', disk]);
    expect(v.stdout).toMatch(/No problems found/);
    const dump = runTool('sfdisk', ['--dump', disk]).stdout;
    expect(dump).toContain('label-id: D92D45B3-CDE9-8760-BE9F-A2A71FAC8D11');
    expect(dump).toContain('first-lba: 2048');
    expect(dump).toMatch(/raw1 : start=\s+2048, size=\s+4302848, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=BCA5174B-0118-8A6A-AF0B-2C6E1585ACAE, name="EFI"/);
    expect(dump).toMatch(/raw2 : start=\s+4304896, size=\s+2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=CF04F137-101E-8EC6-9627-FA3F51CDABB8, name="META"/);
    expect(statSync(disk).size).toBe(2355101696);
    expect(statSync(disk).blocks * 512).toBeLessThan(16 * MiB);
  });

  it('ESP: fsck.vfat clean; minfo geometry as mkfs.vfat -F 32 --invariant; mcopy reads our files back', () => {
    const f = runTool('fsck.vfat', ['-n', '-v', esp]);
    expect(f.status, f.stdout).toBe(0);
    expect(f.stdout).not.toMatch(/differ|wrong|truncat|reclaim|share|invalid|correct|orphan/i);
    expect(f.stdout).toContain('4096 bytes per cluster');
    const at = `${disk}@@${MiB}`;
    const info = runTool('minfo', ['-i', at, '::'], { env }).stdout;
    expect(info).toMatch(/serial number: 1234ABCD/i);
    expect(info).toContain('disk label="EFI        "');
    expect(info).toMatch(/cluster size: 8 sectors/);
    const dir = runTool('mdir', ['-/', '-i', at, '::'], { env }).stdout;
    expect(dir).toContain('Volume in drive : is EFI');
    expect(dir).toMatch(/BOOTX64 +efi +140891 2023-11-14 +22:13/);
    expect(dir).toMatch(/TALOS-~1 EFI +7344353 2023-11-14 +22:13 +Talos-v1\.14\.0\.efi/);
    expect(dir).toMatch(/LOADER~1 CON +41 2023-11-14 +22:13 +loader\.conf/);
    for (const [path, want] of [['EFI/Linux/Talos-v1.14.0.efi', uki], ['EFI/boot/BOOTX64.efi', sdboot]] as const) {
      const out = join(t.dir, path.replace(/\//g, '_'));
      expect(runTool('mcopy', ['-n', '-i', at, `::/${path}`, out], { env }).status).toBe(0);
      expect(readFileSync(out).equals(want)).toBe(true);
    }
    const conf = join(t.dir, 'loader.conf');
    runTool('mcopy', ['-n', '-i', at, '::/loader/loader.conf', conf], { env });
    expect(readFileSync(conf, 'utf8')).toBe('# systemd-boot configuration\n\ntimeout 10\n');
  });

  it('META: two identical ADV copies holding the value, checksum verified by sha256sum', () => {
    const fd = openSync(disk, 'r');
    const meta = Buffer.alloc(MiB);
    readSync(fd, meta, 0, MiB, 4304896 * 512);
    closeSync(fd);
    const copy = meta.subarray(0, 262144);
    expect(copy.equals(meta.subarray(262144, 524288))).toBe(true);
    expect(meta.subarray(524288).every((b) => b === 0)).toBe(true);
    expect(copy.readUInt32BE(0)).toBe(0x5a4b3c2d);
    expect(copy.readUInt32BE(4)).toBe(0x0a);
    expect(copy.readUInt32BE(8)).toBe(14);
    expect(copy.subarray(12, 26).toString()).toBe('network-config');
    expect(copy.readUInt32BE(262140)).toBe(0xa5b4c3d2);
    const zeroed = Buffer.from(copy);
    zeroed.fill(0, 262144 - 36, 262144 - 4);
    const blk = join(t.dir, 'adv.bin');
    writeFileSync(blk, zeroed);
    const sum = runTool('sha256sum', [blk]).stdout.split(' ')[0];
    expect(copy.subarray(262144 - 36, 262144 - 4).toString('hex')).toBe(sum);
  });

  it('two builds give identical files (4096-byte sectors)', async () => {
    const a = join(t.dir, 'a.raw');
    const b = join(t.dir, 'b.raw');
    const small = { diskSize: 80 * MiB, sectorSize: 4096, partitionSizes: { ukiEFI: 64 * MiB, meta: MiB, state: 100 * MiB } };
    await buildTo(a, null, small);
    await buildTo(b, null, small);
    const c = runTool('cmp', [a, b]);
    expect(c.status, c.stdout).toBe(0);
  });
});
