import { Readable, Writable } from 'node:stream';
import { decompress as fzstdDecompress } from 'fzstd';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MemorySink } from '../../../src/core/sink.js';
import { CompressingSink } from '../../../src/compress/compressing-sink.js';
import { createDecoder, createEncoder, detectFormat } from '../../../src/compress/encoder.js';
import { collect } from '../../../src/compress/stream-util.js';
import { mixed, textLike } from './data.js';

/** A Writable that keeps what it gets and records chunk sizes. */
function memoryOut() {
  const chunks: Buffer[] = [];
  const sizes: number[] = [];
  const w = new Writable({
    write(b: Buffer, _e, cb) {
      chunks.push(Buffer.from(b));
      sizes.push(b.length);
      cb();
    },
  });
  return { w, bytes: () => Buffer.concat(chunks), sizes };
}

/** A Writable that only counts (for huge outputs) and checks that every byte is zero. */
function zeroCountingOut() {
  let total = 0;
  let maxChunk = 0;
  let nonZero = false;
  const w = new Writable({
    write(b: Buffer, _e, cb) {
      total += b.length;
      maxChunk = Math.max(maxChunk, b.length);
      if (!b.equals(Buffer.alloc(b.length))) nonZero = true;
      cb();
    },
  });
  return { w, stats: () => ({ total, maxChunk, nonZero }) };
}

/** The same writes on a MemorySink, as the reference result. */
async function script(sink: { write: CompressingSink['write']; hole: CompressingSink['hole']; writeFrom: CompressingSink['writeFrom']; setSize: CompressingSink['setSize'] }) {
  await sink.write(0, Buffer.from('GPT header'));
  await sink.hole(10, 5000);
  await sink.write(70_000, textLike(100_000));
  await sink.writeFrom(200_000, Readable.from([mixed(30_000), Buffer.alloc(0), textLike(7000, 2)]));
  await sink.write(3 << 20, Buffer.from('backup GPT'));
  await sink.setSize((4 << 20) + 512);
}

describe('CompressingSink', () => {
  it("turns in-order writes, gaps and holes into exactly the image bytes ('none')", async () => {
    const ref = new MemorySink();
    await script(ref);
    const out = memoryOut();
    const sink = new CompressingSink(createEncoder({ format: 'none' }), out.w);
    await script(sink);
    expect(sink.size).toBe(ref.size);
    await sink.close();
    expect(Buffer.compare(out.bytes(), ref.bytes())).toBe(0);
  });

  it('compresses the same image through zstd, gzip and xz', async () => {
    const ref = new MemorySink();
    await script(ref);
    const options = {
      zstd: { format: 'zstd', level: 3, segmentSize: 1 << 20 },
      gzip: { format: 'gzip' },
      xz: { format: 'xz', preset: 0, check: 'crc32' },
    } as const;
    for (const format of ['zstd', 'gzip', 'xz'] as const) {
      const out = memoryOut();
      const sink = new CompressingSink(createEncoder(options[format]), out.w);
      await script(sink);
      await sink.close();
      const z = out.bytes();
      expect(detectFormat(z)).toBe(format);
      const back = format === 'zstd' ? fzstdDecompress(z) : format === 'gzip' ? gunzipSync(z) : await collect(createDecoder({ format: 'xz' }), z);
      expect(Buffer.compare(Buffer.from(back), ref.bytes()), format).toBe(0);
    }
  });

  it('never materialises a large hole: zeros go out in bounded chunks', async () => {
    const out = zeroCountingOut();
    const sink = new CompressingSink(createEncoder({ format: 'none' }), out.w, { zeroChunk: 1 << 16 });
    await sink.hole(0, 256 << 20);
    await sink.setSize((256 << 20) + 12345);
    await sink.close();
    const s = out.stats();
    expect(s.total).toBe((256 << 20) + 12345);
    expect(s.maxChunk).toBeLessThanOrEqual(1 << 16);
    expect(s.nonZero).toBe(false);
  });

  it('a sparse 128 MiB image through zstd costs only its data (zero segments are cached)', async () => {
    const out = memoryOut();
    const sink = new CompressingSink(createEncoder({ format: 'zstd', level: 3 }), out.w);
    await sink.write(1 << 20, textLike(1 << 20));
    await sink.setSize(128 << 20);
    await sink.close();
    const z = out.bytes();
    expect(z.length).toBeLessThan(1 << 20);
    const back = fzstdDecompress(z);
    expect(back.length).toBe(128 << 20);
    expect(Buffer.compare(Buffer.from(back.subarray(1 << 20, 2 << 20)), Buffer.from(textLike(1 << 20)))).toBe(0);
  });

  it('refuses writes that go backwards, overlap, or come after close', async () => {
    const out = memoryOut();
    const sink = new CompressingSink(createEncoder({ format: 'none' }), out.w, { name: 'disk.raw.zst' });
    await sink.write(100, Buffer.from('abcd'));
    await expect(sink.write(50, Buffer.from('x'))).rejects.toMatchObject({ code: 'E_SINK_ORDER', message: expect.stringContaining('disk.raw.zst') });
    await expect(sink.write(102, Buffer.from('x'))).rejects.toMatchObject({ code: 'E_SINK_ORDER' });
    await expect(sink.hole(0, 10)).rejects.toMatchObject({ code: 'E_SINK_ORDER' });
    await expect(sink.setSize(10)).rejects.toMatchObject({ code: 'E_SINK_ORDER' });
    await expect(sink.write(-1, Buffer.from('x'))).rejects.toMatchObject({ code: 'E_SINK_RANGE' });
    await sink.write(50, new Uint8Array(0)); // zero-length: no-op anywhere
    await sink.write(104, Buffer.from('e'));
    await sink.close();
    await expect(sink.write(200, Buffer.from('late'))).rejects.toMatchObject({ code: 'E_SINK_CLOSED' });
    expect(out.bytes().length).toBe(105);
  });

  it('reports an output failure on the next write or on close', async () => {
    const failing = new Writable({
      write(_b, _e, cb) {
        cb(new Error('disk full'));
      },
    });
    const sink = new CompressingSink(createEncoder({ format: 'none' }), failing);
    let err: unknown;
    try {
      for (let i = 0; i < 100; i++) await sink.write(i * 65536, new Uint8Array(65536));
      await sink.close();
    } catch (e) {
      err = e;
    }
    expect(String((err as Error)?.message)).toMatch(/disk full/);
  });
});

describe('createEncoder / detectFormat', () => {
  it('routes formats and detects magics', () => {
    expect(detectFormat(Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0))).toBe('xz');
    expect(detectFormat(Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd))).toBe('zstd');
    expect(detectFormat(Uint8Array.of(0x1f, 0x8b, 8))).toBe('gzip');
    expect(detectFormat(Uint8Array.of(0x07, 0x07))).toBeNull();
    expect(() => createEncoder({ format: 'lz4' } as never)).toThrow(/unknown compression format/);
  });
});
