/**
 * The disk writer feeds a compressing sink directly (design.md "RandomAccessSink"): the gunzipped
 * stream equals the image written to memory, byte for byte.
 */
import { Writable } from 'node:stream';
import { createGzip, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { writeDiskImage, type DiskImageOptions } from '../../../src/boot/disk/index.js';
import { MemorySink } from '../../../src/core/sink.js';
import { CompressingSink } from '../../../src/compress/compressing-sink.js';

const MiB = 1024 * 1024;

describe('writeDiskImage → CompressingSink', () => {
  it('compresses while writing; the result decompresses to the same image', async () => {
    const options: DiskImageOptions = {
      arch: 'amd64',
      version: 'v1.14.0',
      bootloader: 'sd-boot',
      diskSize: 96 * MiB,
      partitionSizes: { ukiEFI: 64 * MiB, meta: MiB, state: 100 * MiB },
      uki: Buffer.alloc(2 * MiB + 5, 0x11),
      systemdBoot: Buffer.alloc(100000, 0x22),
      metaValues: [{ key: 12, value: 'x' }],
      repro: { sourceDateEpoch: 1700000000, seed: 'gz' },
    };
    const chunks: Buffer[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    });
    const sink = new CompressingSink(createGzip({ level: 1 }), out);
    await writeDiskImage(sink, options);
    await sink.close();
    const mem = new MemorySink();
    await writeDiskImage(mem, options);
    const image = gunzipSync(Buffer.concat(chunks));
    expect(image.length).toBe(96 * MiB);
    expect(image.equals(mem.bytes())).toBe(true);
  });
});
