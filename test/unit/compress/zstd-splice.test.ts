import { decompress as fzstdDecompress } from 'fzstd';
import { describe, expect, it } from 'vitest';
import { analyzeSegmentFrame, ZstdFrameJoiner } from '../../../src/compress/zstd-splice.js';
import { zstdCompressFrame } from '../../../src/compress/zstd-wasm.js';
import { applyOffset, blockHeader, BackwardBitReader, buildFseTable, encodeSequences, decodeSequences, ForwardBitWriter, listBlocks, readFrameHeader, PREDEFINED, INITIAL_REPS, type RepHistory } from '../../../src/compress/zstd-format.js';
import { lcg, mixed, randomBytes, textLike } from './data.js';

const eq = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

async function join(parts: Uint8Array[], level: number): Promise<Uint8Array> {
  const j = new ZstdFrameJoiner();
  const out: Uint8Array[] = [];
  for (const p of parts) out.push(...j.push(analyzeSegmentFrame(await zstdCompressFrame(p, level), p.length)));
  out.push(...j.finish());
  return Buffer.concat(out);
}

/** Blocks copied verbatim (only the last flag fixed): what a join without offset repair gives. */
async function naiveJoin(parts: Uint8Array[], level: number): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  for (const [i, p] of parts.entries()) {
    const f = await zstdCompressFrame(p, level);
    const h = readFrameHeader(f, 0);
    if (i === 0) out.push(f.subarray(0, h.size));
    for (const b of listBlocks(f, h.size, 128 << 10)) {
      const size = (f[b.at]! | (f[b.at + 1]! << 8) | (f[b.at + 2]! << 16)) >>> 3;
      out.push(blockHeader(b.type, size, false), f.subarray(b.at + 3, b.at + 3 + b.contentSize));
    }
  }
  out.push(blockHeader(0, 0, true));
  return Buffer.concat(out);
}

describe('zstd frame joiner', () => {
  it('joins segments into one frame that decodes to the concatenation, where a plain join fails', async () => {
    const text = textLike(3 << 18);
    const parts = [0, 1, 2].map((i) => text.subarray(i << 18, (i + 1) << 18));
    const joined = await join(parts, 9);
    expect(eq(fzstdDecompress(joined), text)).toBe(true);
    const naive = await naiveJoin(parts, 9);
    let naiveOk = false;
    try {
      naiveOk = eq(fzstdDecompress(naive), text);
    } catch {
      naiveOk = false;
    }
    expect(naiveOk).toBe(false); // the repeat offsets really needed repairing
  });

  it('joins random mixes of text, zeros, random and periodic segments at several levels', async () => {
    const rnd = lcg(99);
    for (let t = 0; t < 12; t++) {
      const level = [1, 3, 9, 18, 19][t % 5]!;
      const seg = [4096, 20_000, 70_000][t % 3]!;
      const kinds = [
        (n: number, s: number) => textLike(n, s),
        (n: number) => new Uint8Array(n),
        (n: number, s: number) => randomBytes(n, s),
        (n: number, s: number) => mixed(n, s),
      ];
      const parts = Array.from({ length: 2 + (t % 4) }, (_, i) => kinds[Math.floor(rnd() * 4)]!(seg - (i === 3 ? 1000 : 0), t * 10 + i));
      const joined = await join(parts, level);
      expect(eq(fzstdDecompress(joined), Buffer.concat(parts)), `case ${t}`).toBe(true);
    }
  });

  it('an empty join is a valid empty frame', async () => {
    const j = new ZstdFrameJoiner();
    expect(fzstdDecompress(Buffer.concat(j.finish())).length).toBe(0);
  });
});

describe('zstd sequence codec', () => {
  it('bit writer and backward reader agree', () => {
    const w = new ForwardBitWriter();
    const fields: Array<[number, number]> = [[5, 3], [0, 0], [1, 1], [0x1ffff, 17], [123456789, 27], [0x7fffffff, 31], [2, 2]];
    for (const [v, n] of fields) w.write(v, n);
    const bytes = w.finish();
    const r = new BackwardBitReader(bytes, 0, bytes.length);
    for (const [v, n] of [...fields].reverse()) expect(r.read(n)).toBe(v);
    expect(r.pos).toBe(0);
  });

  it('encodeSequences output decodes to the same sequences with the predefined tables', () => {
    const rnd = lcg(5);
    const n = 500;
    const seq = { ll: new Uint32Array(n), ofv: new Uint32Array(n), ml: new Uint32Array(n) };
    for (let i = 0; i < n; i++) {
      seq.ll[i] = rnd() < 0.3 ? 0 : Math.floor(rnd() * 70000);
      seq.ml[i] = 3 + Math.floor(rnd() * (rnd() < 0.9 ? 60 : 100000));
      seq.ofv[i] = rnd() < 0.3 ? 1 + Math.floor(rnd() * 3) : 4 + Math.floor(rnd() * (1 << 24));
    }
    const bits = encodeSequences(seq, PREDEFINED.ll, PREDEFINED.of, PREDEFINED.ml);
    const section = { nbSeq: n, countBytes: new Uint8Array(0), modes: [0, 0, 0] as [number, number, number], tables: { ll: { mode: 0, desc: new Uint8Array(0), table: PREDEFINED.ll }, of: { mode: 0, desc: new Uint8Array(0), table: PREDEFINED.of }, ml: { mode: 0, desc: new Uint8Array(0), table: PREDEFINED.ml } }, bitstreamStart: 0, end: bits.length };
    const back = decodeSequences(bits, section);
    expect([...back.ll]).toEqual([...seq.ll]);
    expect([...back.ml]).toEqual([...seq.ml]);
    expect([...back.ofv]).toEqual([...seq.ofv]);
  });

  it('builds the RFC 8878 example FSE state (probability 5 at accuracy 7)', () => {
    const counts = new Array(2).fill(0);
    counts[0] = 5;
    counts[1] = 123;
    const t = buildFseTable(counts, 7);
    const states = [...t.symbol.keys()].filter((s) => t.symbol[s] === 0);
    expect(states.map((s) => [t.nbBits[s], t.baseline[s]])).toEqual([[5, 32], [5, 64], [5, 96], [4, 0], [4, 16]]);
  });

  it('repeat offsets follow the RFC 8878 table', () => {
    const h: RepHistory = [...INITIAL_REPS];
    const steps: Array<[number, number, RepHistory]> = [
      [1114, 11, [1111, 1, 4]], [1, 22, [1111, 1, 4]], [2225, 22, [2222, 1111, 1]], [1114, 111, [1111, 2222, 1111]],
      [3336, 33, [3333, 1111, 2222]], [2, 22, [1111, 3333, 2222]], [3, 33, [2222, 1111, 3333]], [3, 0, [2221, 2222, 1111]], [1, 0, [2222, 2221, 1111]],
    ];
    for (const [ofv, ll, after] of steps) {
      applyOffset(h, ofv, ll);
      expect(h).toEqual(after);
    }
  });
});
