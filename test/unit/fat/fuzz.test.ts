/**
 * Readers on corrupted images: any outcome is a result or a one-line ImagekitError — never another
 * exception, a hang or a huge allocation (fixed seed).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inspectDisk, writeDiskImage } from '../../../src/boot/disk/index.js';
import { ImagekitError } from '../../../src/core/errors.js';
import { fileFromBytes } from '../../../src/core/file-tree.js';
import { MemorySink } from '../../../src/core/sink.js';
import { FatReader, writeFat } from '../../../src/formats/fat/index.js';
import { bufferReader, readGpt } from '../../../src/formats/gpt/index.js';

const MiB = 1024 * 1024;
const repro = { sourceDateEpoch: 0, seed: 'fuzz' };

async function settle(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(ImagekitError);
    expect((e as Error).message).not.toContain('\n');
  }
}

describe('readers survive corruption', () => {
  it('FAT12/16/32 metadata flips', async () => {
    const images: Buffer[] = [];
    for (const [fatType, size] of [[12, 2 * MiB], [16, 20 * MiB], [32, 40 * MiB]] as const) {
      const sink = new MemorySink();
      const tree = [
        fileFromBytes('EFI/boot/BOOTX64.efi', Buffer.alloc(9000, 1)),
        fileFromBytes('EFI/Linux/A long name with spaces.efi', Buffer.alloc(3000, 2)),
        fileFromBytes('loader/loader.conf', 'timeout 10\n'),
      ];
      const r = await writeFat(sink, 0, tree, { size, fatType, repro, label: 'EFI' });
      // keep only the metadata + a little data: that is where corruption matters
      images.push(Buffer.from(sink.bytes().subarray(0, (r.geometry.dataStartSector + 64) * 512)));
    }
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), async (which, flips) => {
        const img = Buffer.from(images[which]!);
        for (const [at, v] of flips) img[at % img.length] = v;
        await settle(
          (async () => {
            const v = await FatReader.open(bufferReader(img));
            const nodes = await v.walk();
            for (const n of nodes) if (n.type === 'file') await v.readFile(n.path);
            await v.countFreeClusters();
          })(),
        );
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('GPT + inspect on a small disk with flipped bytes in the table areas', async () => {
    const sink = new MemorySink();
    await writeDiskImage(sink, {
      arch: 'amd64',
      version: 'v1.14.0',
      bootloader: 'sd-boot',
      diskSize: 48 * MiB,
      partitionSizes: { ukiEFI: 40 * MiB, meta: MiB, state: MiB },
      uki: Buffer.alloc(5000, 3),
      systemdBoot: Buffer.alloc(700, 4),
      metaValues: [{ key: 10, value: 'v' }],
      repro,
    });
    const good = Buffer.from(sink.bytes());
    const regions = [[0, 34 * 512], [good.length - 33 * 512, good.length], [MiB, MiB + 2 * MiB]] as const;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), async (flips) => {
        // flip in place and restore afterwards: no 48 MiB copy per run
        const saved: [number, number][] = [];
        for (const [r, at, v] of flips) {
          const [s, e] = regions[r]!;
          const i = s + (at % (e - s));
          saved.push([i, good[i]!]);
          good[i] = v;
        }
        await settle(readGpt(bufferReader(good)));
        await settle(inspectDisk(bufferReader(good)));
        for (const [i, v] of saved.reverse()) good[i] = v;
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});
