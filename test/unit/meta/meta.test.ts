import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemorySink } from '../../../src/core/sink.js';
import { ADV_LENGTH, decodeMetaPartition, decodeTalosAdv, encodeTalosAdv, writeMetaPartition } from '../../../src/formats/meta/index.js';

const MiB = 1024 * 1024;

/** The ADV block written out by hand from talos-imager.md §9.6, independently of the encoder. */
function handMade(records: [number, string][]): Buffer {
  const b = Buffer.alloc(262144);
  b.set([0x5a, 0x4b, 0x3c, 0x2d], 0);
  let at = 4;
  for (const [tag, value] of records) {
    b.set([0, 0, 0, tag], at);
    const v = Buffer.from(value);
    b.set([(v.length >>> 24) & 255, (v.length >>> 16) & 255, (v.length >>> 8) & 255, v.length & 255], at + 4);
    v.copy(b, at + 8);
    at += 8 + v.length;
  }
  b.set([0xa5, 0xb4, 0xc3, 0xd2], 262140);
  createHash('sha256').update(b).digest().copy(b, 262144 - 36);
  return b;
}

describe('Talos ADV', () => {
  it('matches the format byte for byte (records sorted by key)', () => {
    const ours = encodeTalosAdv([
      { tag: 0x11, value: Buffer.from('dual-boot') },
      { tag: 0x0a, value: Buffer.from('{"addresses":[]}') },
    ]);
    expect(ours.equals(handMade([[0x0a, '{"addresses":[]}'], [0x11, 'dual-boot']]))).toBe(true);
  });

  it('round-trips random tag sets', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.record({ tag: fc.integer({ min: 1, max: 255 }), value: fc.uint8Array({ maxLength: 3000 }) }), { selector: (t) => t.tag, maxLength: 40 }), (tags) => {
        const back = decodeTalosAdv(encodeTalosAdv(tags));
        expect(back.map((t) => [t.tag, Buffer.from(t.value).toString('hex')])).toEqual(
          [...tags].sort((a, b) => a.tag - b.tag).map((t) => [t.tag, Buffer.from(t.value).toString('hex')]),
        );
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  it('refuses what the ADV cannot hold', () => {
    expect(() => encodeTalosAdv([{ tag: 0, value: new Uint8Array() }])).toThrow(/1\.\.255/);
    expect(() => encodeTalosAdv([{ tag: 256, value: new Uint8Array() }])).toThrow(/1\.\.255/);
    expect(() => encodeTalosAdv([{ tag: 5, value: new Uint8Array() }, { tag: 5, value: new Uint8Array() }])).toThrow(/twice/);
    expect(() => encodeTalosAdv([{ tag: 5, value: new Uint8Array(ADV_LENGTH) }])).toThrow(/holds/);
    // exactly full is fine
    expect(() => encodeTalosAdv([{ tag: 5, value: new Uint8Array(ADV_LENGTH - 40 - 8) }])).not.toThrow();
  });

  it('rejects corrupt copies with the reason', () => {
    const good = encodeTalosAdv([{ tag: 12, value: Buffer.from('hello') }]);
    const bad = (f: (b: Buffer) => void) => {
      const b = Buffer.from(good);
      f(b);
      return () => decodeTalosAdv(b);
    };
    expect(bad((b) => (b[0] = 0))).toThrow(/magic/);
    expect(bad((b) => (b[ADV_LENGTH - 1] = 0))).toThrow(/trailing magic/);
    expect(bad((b) => (b[20] ^= 1))).toThrow(/checksum/);
    // a record that runs past the data area, with a valid checksum
    const b = Buffer.from(good);
    b.writeUInt32BE(0x7fffffff, 8);
    b.fill(0, ADV_LENGTH - 36, ADV_LENGTH - 4);
    createHash('sha256').update(b).digest().copy(b, ADV_LENGTH - 36);
    expect(() => decodeTalosAdv(b)).toThrow(/runs past/);
  });
});

describe('META partition', () => {
  it('is all zeros (holes) without values', async () => {
    const sink = new MemorySink();
    await writeMetaPartition(sink, 4096, MiB, []);
    expect(sink.size).toBe(4096 + MiB);
    expect(sink.bytes().every((x) => x === 0)).toBe(true);
    expect(decodeMetaPartition(sink.bytes().subarray(4096)).state).toBe('empty');
  });

  it('holds two identical copies, then zeros', async () => {
    const sink = new MemorySink();
    const tags = [{ tag: 0x0a, value: Buffer.from('net') }];
    await writeMetaPartition(sink, 0, MiB, tags);
    const b = sink.bytes();
    expect(b.subarray(0, ADV_LENGTH).equals(b.subarray(ADV_LENGTH, 2 * ADV_LENGTH))).toBe(true);
    expect(b.subarray(2 * ADV_LENGTH).every((x) => x === 0)).toBe(true);
    const m = decodeMetaPartition(b);
    expect(m.state).toBe('valid');
    expect(Buffer.from(m.tags[0]!.value).toString()).toBe('net');
  });

  it('survives one bad copy (degraded) and rejects two', async () => {
    const sink = new MemorySink();
    await writeMetaPartition(sink, 0, MiB, [{ tag: 12, value: Buffer.from('x') }]);
    const b = Buffer.from(sink.bytes());
    b[10] ^= 1;
    const m = decodeMetaPartition(b);
    expect(m.state).toBe('degraded');
    expect(m.copyErrors[0]).toMatch(/checksum/);
    b[ADV_LENGTH + 10] ^= 1;
    expect(() => decodeMetaPartition(b)).toThrow(/no valid ADV copy/);
  });

  it('refuses a partition too small for two copies', async () => {
    await expect(writeMetaPartition(new MemorySink(), 0, 300 * 1024, [])).rejects.toThrow(/cannot hold/);
  });
});
