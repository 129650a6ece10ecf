import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeDiskImage } from '../../../src/boot/disk/index.js';
import { main } from '../../../src/cli/main.js';
import { SparseFileSink } from '../../../src/core/sink.js';
import { tempDir } from '../../helpers/tools.js';

const MiB = 1024 * 1024;

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
  try {
    const code = await main(['node', 'imagekit', ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('imagekit inspect', () => {
  const t = tempDir('imagekit-inspect-');
  const disk = join(t.dir, 'metal-amd64.raw');
  beforeAll(async () => {
    const sink = await SparseFileSink.create(disk);
    await writeDiskImage(sink, {
      arch: 'amd64',
      version: 'v1.14.0',
      bootloader: 'sd-boot',
      diskSize: 300 * MiB,
      partitionSizes: { ukiEFI: 200 * MiB, meta: MiB, state: 100 * MiB },
      uki: Buffer.alloc(1000, 1),
      systemdBoot: Buffer.alloc(500, 2),
      metaValues: [{ key: 0x0c, value: 'hello' }],
      repro: { sourceDateEpoch: 0, seed: 'cli' },
    });
    await sink.close();
  });
  afterAll(() => t.cleanup());

  it('prints the partition table, filesystems and ESP files', async () => {
    const r = await run(['inspect', disk]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${disk}: 314572800 bytes (300 MiB), GPT, 512-byte sectors, disk GUID d92d45b3-cde9-8760-be9f-a2a71fac8d11`);
    expect(r.out).toContain('#1 EFI: LBA 2048..411647 (200 MiB), EFI System, GUID bca5174b-0118-8a6a-af0b-2c6e1585acae');
    expect(r.out).toContain('filesystem: FAT32, label "EFI", serial 1234-ABCD, 512-byte clusters');
    expect(r.out).toMatch(/- +1000 {2}EFI\/Linux\/Talos-v1\.14\.0\.efi\n/);
    expect(r.out).toMatch(/- +500 {2}EFI\/boot\/BOOTX64\.efi\n/);
    expect(r.out).toMatch(/- +41 {2}loader\/loader\.conf\n/);
    expect(r.out).toContain('#2 META: LBA 411648..413695 (1 MiB), Linux filesystem');
    expect(r.out).toContain('META: Talos ADV, both copies valid, 1 key(s)');
    expect(r.out).toContain('0x0c (UserReserved1): "hello" (5 bytes)');
  });

  it('--json --no-files', async () => {
    const r = await run(['inspect', '--json', '--no-files', disk]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.gpt.diskGuid).toBe('d92d45b3-cde9-8760-be9f-a2a71fac8d11');
    expect(j.partitions.map((p: { name: string; filesystem: { kind: string } }) => [p.name, p.filesystem.kind])).toEqual([['EFI', 'fat'], ['META', 'meta']]);
    expect(j.partitions[0].filesystem.files).toEqual([]);
    expect(j.partitions[0].filesystem.clusterSize).toBe(512);
  });

  it('exit 2 with the reason for a corrupt table, 6 for a missing file', async () => {
    const bad = join(t.dir, 'bad.raw');
    const b = Buffer.alloc(4 * MiB);
    b.write('EFI PART', 512, 'latin1');
    b[510] = 0x55;
    b[511] = 0xaa;
    b[446 + 4] = 0xee;
    b.writeUInt32LE(1, 446 + 8);
    writeFileSync(bad, b);
    const r = await run(['inspect', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^imagekit: .*bad\.raw primary GPT header: unsupported revision/);
    const m = await run(['inspect', join(t.dir, 'missing.raw')]);
    expect(m.code).toBe(6);
    expect(m.err).toMatch(/cannot open .*missing\.raw: ENOENT/);
  });
});
