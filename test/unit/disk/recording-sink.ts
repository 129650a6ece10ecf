/**
 * A RandomAccessSink for tests of multi-GiB images: keeps only the bytes written (holes cost
 * nothing), insists on increasing offsets (what a compressing sink needs), and reads back as a
 * ByteReader for our checking readers.
 */
import { createHash } from 'node:crypto';
import type { RandomAccessSink } from '../../../src/core/sink.js';
import type { ByteReader } from '../../../src/formats/gpt/index.js';

export class RecordingSink implements RandomAccessSink {
  readonly writes: { offset: number; bytes: Buffer }[] = [];
  readonly holes: { offset: number; length: number }[] = [];
  private pos = 0;
  size = 0;

  private advance(offset: number, length: number): void {
    if (offset < this.pos) throw new Error(`write out of order: ${offset} < ${this.pos}`);
    this.pos = offset + length;
    this.size = Math.max(this.size, this.pos);
  }
  async write(offset: number, bytes: Uint8Array): Promise<void> {
    this.advance(offset, bytes.byteLength);
    this.writes.push({ offset, bytes: Buffer.from(bytes) });
  }
  async writeFrom(): Promise<number> {
    throw new Error('writeFrom is not used by the disk writer');
  }
  async hole(offset: number, length: number): Promise<void> {
    this.advance(offset, length);
    this.holes.push({ offset, length });
  }
  async setSize(size: number): Promise<void> {
    if (size < this.size) throw new Error(`setSize shrinks ${this.size} → ${size}`);
    this.size = size;
  }
  async close(): Promise<void> {}

  get bytesWritten(): number {
    return this.writes.reduce((s, w) => s + w.bytes.length, 0);
  }

  /**
   * sha256 of the image as written: every write's offset, length and bytes, then the size. Equal
   * digests mean equal images (everything not written is a hole, i.e. zeros).
   */
  digest(): string {
    const h = createHash('sha256');
    for (const w of this.writes) {
      h.update(`${w.offset}:${w.bytes.length}\n`);
      h.update(w.bytes);
    }
    h.update(`size:${this.size}`);
    return h.digest('hex');
  }

  reader(): ByteReader {
    const writes = this.writes;
    return {
      size: this.size,
      async read(offset: number, length: number) {
        const out = Buffer.alloc(length);
        for (const w of writes) {
          const s = Math.max(offset, w.offset);
          const e = Math.min(offset + length, w.offset + w.bytes.length);
          if (s < e) w.bytes.copy(out, s - offset, s - w.offset, e - w.offset);
        }
        return out;
      },
    };
  }
}
