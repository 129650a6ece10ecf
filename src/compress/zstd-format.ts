/**
 * zstd frame, block and sequence structures (RFC 8878; zstd_compression_format.md), just enough to
 * walk the frames our encoder makes and to re-encode the sequences section of a compressed block.
 * Used by zstd-splice.ts; nothing here compresses or decompresses content.
 *
 * Everything read from a frame is bounds-checked; malformed input throws `E_ZSTD_FORMAT`.
 */
import { assembly } from '../core/errors.js';

export const ZSTD_MAGIC = 0xfd2fb528;
/** Block_Maximum_Size upper bound (RFC 8878 §3.1.1.2.4). */
export const ZSTD_BLOCK_MAX = 128 * 1024;

const bad = (what: string) => assembly('E_ZSTD_FORMAT', `zstd frame: ${what}`);

// ---------------------------------------------------------------------------------------------
// Bit streams. Sequences are written forward (little-endian bit order) and read backward from the
// last byte, whose highest set bit marks the end (§4.1.1 "Decoding Sequences").

export class BackwardBitReader {
  /** Bits left to read, counted from `start * 8`. */
  pos: number;
  constructor(private readonly buf: Uint8Array, private readonly start: number, end: number) {
    if (end <= start) throw bad('empty bitstream');
    const last = buf[end - 1]!;
    if (last === 0) throw bad('bitstream without end mark');
    this.pos = (end - start) * 8 - 8 + (31 - Math.clz32(last));
  }
  read(n: number): number {
    if (n === 0) return 0;
    this.pos -= n;
    if (this.pos < 0) throw bad('bitstream overrun');
    if (n > 24) {
      // Two reads keep every partial value within 32 bits.
      const hi = n - 16;
      this.pos += n;
      const high = this.read(hi);
      const low = this.read(16);
      return high * 65536 + low;
    }
    const p = this.start * 8 + this.pos;
    const i = p >>> 3;
    const b = this.buf;
    const word = b[i]! | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24);
    return (word >>> (p & 7)) & ((1 << n) - 1);
  }
}

export class ForwardBitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private nacc = 0;
  write(value: number, n: number): void {
    let got = 0;
    while (got < n) {
      const take = Math.min(8 - this.nacc, n - got);
      const bits = Math.floor(value / 2 ** got) & ((1 << take) - 1);
      this.acc |= bits << this.nacc;
      this.nacc += take;
      got += take;
      if (this.nacc === 8) {
        this.bytes.push(this.acc);
        this.acc = 0;
        this.nacc = 0;
      }
    }
  }
  /** Close with the end mark (one 1-bit, then zero padding to a byte). */
  finish(): Uint8Array {
    this.write(1, 1);
    if (this.nacc > 0) this.bytes.push(this.acc);
    this.acc = 0;
    this.nacc = 0;
    return Uint8Array.from(this.bytes);
  }
}

// ---------------------------------------------------------------------------------------------
// FSE tables (§4.1.1).

export interface FseTable {
  log: number;
  /** Normalized counts per symbol (-1 = "less than 1"), as decoded from the description. */
  counts: Int16Array;
  symbol: Uint8Array;
  nbBits: Uint8Array;
  baseline: Uint32Array;
  /** States of each symbol in ascending order (built on demand for encoding). */
  statesOf?: number[][];
}

export function buildFseTable(counts: ArrayLike<number>, log: number): FseTable {
  const size = 1 << log;
  const symbol = new Uint8Array(size);
  const nbBits = new Uint8Array(size);
  const baseline = new Uint32Array(size);
  const next = new Uint32Array(counts.length);
  let high = size - 1;
  for (let s = 0; s < counts.length; s++) {
    if (counts[s] === -1) {
      symbol[high--] = s;
      next[s] = 1;
    } else next[s] = counts[s]!;
  }
  const step = (size >>> 1) + (size >>> 3) + 3;
  let pos = 0;
  for (let s = 0; s < counts.length; s++) {
    for (let i = 0; i < counts[s]!; i++) {
      symbol[pos] = s;
      do pos = (pos + step) & (size - 1);
      while (pos > high);
    }
  }
  if (pos !== 0) throw bad('FSE distribution does not fill its table');
  for (let st = 0; st < size; st++) {
    const s = symbol[st]!;
    const x = next[s]++;
    const nb = log - (31 - Math.clz32(x));
    nbBits[st] = nb;
    baseline[st] = x * 2 ** nb - size;
  }
  return { log, counts: Int16Array.from(counts), symbol, nbBits, baseline };
}

/** RLE "table": one state, one symbol, no bits. */
export function rleTable(sym: number): FseTable {
  const counts = new Int16Array(sym + 1);
  counts[sym] = 1;
  return { log: 0, counts, symbol: Uint8Array.of(sym), nbBits: Uint8Array.of(0), baseline: Uint32Array.of(0) };
}

/** Read an FSE table description; returns the table and the bytes it used. */
export function readFseDescription(buf: Uint8Array, at: number, end: number, maxLog: number, maxSymbol: number): { table: FseTable; size: number } {
  let bitPos = at * 8;
  const limit = end * 8;
  const peek = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const p = bitPos + i;
      if (p < limit && (buf[p >>> 3]! >>> (p & 7)) & 1) v |= 1 << i;
    }
    return v;
  };
  const take = (n: number) => {
    const v = peek(n);
    bitPos += n;
    if (bitPos > limit) throw bad('truncated FSE table description');
    return v;
  };
  const log = take(4) + 5;
  if (log > maxLog) throw bad(`FSE accuracy ${log} above ${maxLog}`);
  const counts: number[] = [];
  let remaining = (1 << log) + 1;
  let threshold = 1 << log;
  let nbBits = log + 1;
  let previous0 = false;
  while (remaining > 1) {
    if (previous0) {
      let rep = take(2);
      let zeros = rep;
      while (rep === 3) {
        rep = take(2);
        zeros += rep;
      }
      for (let i = 0; i < zeros; i++) counts.push(0);
      if (counts.length > maxSymbol + 1) throw bad('FSE symbol out of range');
    }
    const max = 2 * threshold - 1 - remaining;
    let v: number;
    const low = peek(nbBits - 1);
    if (low < max) {
      v = low;
      take(nbBits - 1);
    } else {
      v = take(nbBits);
      if (v >= threshold) v -= max;
    }
    const count = v - 1;
    counts.push(count);
    if (counts.length > maxSymbol + 1) throw bad('FSE symbol out of range');
    remaining -= count < 0 ? 1 : count;
    previous0 = count === 0;
    while (remaining < threshold) {
      nbBits--;
      threshold >>>= 1;
    }
  }
  if (remaining !== 1) throw bad('FSE distribution overflows its table');
  return { table: buildFseTable(counts, log), size: ((bitPos + 7) >>> 3) - at };
}

/** The state to move to when encoding `sym` backwards, given the decoder's next state. */
export function encodeStep(t: FseTable, sym: number, nextState: number): { state: number; bits: number; nb: number } {
  const states = statesOf(t, sym);
  for (const st of states) {
    const base = t.baseline[st]!;
    const nb = t.nbBits[st]!;
    if (nextState >= base && nextState < base + 2 ** nb) return { state: st, bits: nextState - base, nb };
  }
  throw bad(`FSE symbol ${sym} cannot reach state ${nextState}`);
}

export function canEncode(t: FseTable, sym: number): boolean {
  return sym < t.counts.length && t.counts[sym] !== 0;
}

export function firstState(t: FseTable, sym: number): number {
  const states = statesOf(t, sym);
  if (states.length === 0) throw bad(`FSE symbol ${sym} has no state`);
  return states[0]!;
}

function statesOf(t: FseTable, sym: number): number[] {
  if (!t.statesOf) {
    t.statesOf = Array.from({ length: t.counts.length }, () => [] as number[]);
    for (let st = 0; st < t.symbol.length; st++) t.statesOf[t.symbol[st]!]!.push(st);
  }
  return t.statesOf[sym] ?? [];
}

// Default distributions (§3.1.1.3.2.2 "Default Distributions").
const LL_DEFAULT = [4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1];
const ML_DEFAULT = [
  1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1,
];
const OF_DEFAULT = [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1];
export const PREDEFINED = {
  ll: buildFseTable(LL_DEFAULT, 6),
  of: buildFseTable(OF_DEFAULT, 5),
  ml: buildFseTable(ML_DEFAULT, 6),
};

// Literal length and match length codes (§3.1.1.3.2.1).
export const LL_BASE = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
export const LL_BITS = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
export const ML_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34,
  35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051, 4099, 8195, 16387, 32771, 65539,
];
export const ML_BITS = [
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
];

export function codeOf(base: readonly number[], bits: readonly number[], value: number): number {
  for (let c = base.length - 1; c >= 0; c--) {
    if (value >= base[c]! && value < base[c]! + 2 ** bits[c]!) return c;
  }
  throw bad(`length ${value} has no code`);
}

export function offsetCode(offsetValue: number): number {
  return 31 - Math.clz32(offsetValue);
}

// ---------------------------------------------------------------------------------------------
// Frames and blocks (§3.1.1).

export interface FrameHeader {
  /** Bytes of magic + header. */
  size: number;
  windowSize: number;
  contentSize: number | null;
  checksum: boolean;
}

export function readFrameHeader(buf: Uint8Array, at: number): FrameHeader {
  if (at + 6 > buf.length) throw bad('truncated frame header');
  const magic = (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
  if (magic !== ZSTD_MAGIC) throw bad('bad magic');
  const fhd = buf[at + 4]!;
  const fcsFlag = fhd >>> 6;
  const single = (fhd >>> 5) & 1;
  if (fhd & 0x08) throw bad('reserved bit set');
  const checksum = ((fhd >>> 2) & 1) === 1;
  const dictBytes = [0, 1, 2, 4][fhd & 3]!;
  if (dictBytes) throw bad('dictionaries are not used here');
  let p = at + 5;
  let windowSize = 0;
  if (!single) {
    const wd = buf[p++]!;
    const base = 2 ** (10 + (wd >>> 3));
    windowSize = base + (base / 8) * (wd & 7);
  }
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag]!;
  if (p + fcsBytes > buf.length) throw bad('truncated frame header');
  let contentSize: number | null = null;
  if (fcsBytes) {
    let v = 0;
    for (let i = fcsBytes - 1; i >= 0; i--) v = v * 256 + buf[p + i]!;
    contentSize = fcsBytes === 2 ? v + 256 : v;
    p += fcsBytes;
  }
  if (single) windowSize = contentSize!;
  return { size: p - at, windowSize, contentSize, checksum };
}

/** The smallest Window_Descriptor whose window is at least `min` bytes. */
export function windowDescriptor(min: number): { byte: number; size: number } {
  for (let exp = 0; exp < 32; exp++) {
    const base = 2 ** (10 + exp);
    for (let m = 0; m < 8; m++) {
      const size = base + (base / 8) * m;
      if (size >= min) return { byte: (exp << 3) | m, size };
    }
  }
  throw bad(`window ${min} too large`);
}

export const BLOCK_RAW = 0;
export const BLOCK_RLE = 1;
export const BLOCK_COMPRESSED = 2;

export interface BlockRef {
  /** Offset of the 3-byte block header. */
  at: number;
  type: number;
  /** Bytes of content after the header (1 for RLE). */
  contentSize: number;
  last: boolean;
}

/** The blocks of one frame, from `at` (just after the frame header) to the last block. */
export function listBlocks(buf: Uint8Array, at: number, blockMax: number): BlockRef[] {
  const blocks: BlockRef[] = [];
  for (;;) {
    if (at + 3 > buf.length) throw bad('truncated block header');
    const h = buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16);
    const last = (h & 1) === 1;
    const type = (h >>> 1) & 3;
    const size = h >>> 3;
    if (type === 3) throw bad('reserved block type');
    if (size > blockMax) throw bad('block larger than the maximum');
    const contentSize = type === BLOCK_RLE ? 1 : size;
    if (at + 3 + contentSize > buf.length) throw bad('truncated block');
    blocks.push({ at, type, contentSize, last });
    at += 3 + contentSize;
    if (last) return blocks;
  }
}

export function blockHeader(type: number, size: number, last: boolean): Uint8Array {
  const h = (size << 3) | (type << 1) | (last ? 1 : 0);
  return Uint8Array.of(h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff);
}

// ---------------------------------------------------------------------------------------------
// Compressed blocks: literals section size, sequences section (§3.1.1.3).

/** Size in bytes of the literals section that starts at `at`. */
export function literalsSectionSize(buf: Uint8Array, at: number, end: number): number {
  if (at >= end) throw bad('missing literals section');
  const b0 = buf[at]!;
  const type = b0 & 3;
  const sf = (b0 >>> 2) & 3;
  const byte = (i: number) => {
    if (at + i >= end) throw bad('truncated literals header');
    return buf[at + i]!;
  };
  let size: number;
  if (type === 0 || type === 1) {
    let hdr: number;
    let regen: number;
    if (sf === 0 || sf === 2) {
      hdr = 1;
      regen = b0 >>> 3;
    } else if (sf === 1) {
      hdr = 2;
      regen = (b0 >>> 4) + (byte(1) << 4);
    } else {
      hdr = 3;
      regen = (b0 >>> 4) + (byte(1) << 4) + (byte(2) << 12);
    }
    size = hdr + (type === 0 ? regen : 1);
  } else {
    let hdr: number;
    let comp: number;
    if (sf <= 1) {
      hdr = 3;
      const c = b0 | (byte(1) << 8) | (byte(2) << 16);
      comp = (c >>> 14) & 0x3ff;
    } else if (sf === 2) {
      hdr = 4;
      const c = (b0 | (byte(1) << 8) | (byte(2) << 16) | (byte(3) << 24)) >>> 0;
      comp = (c >>> 18) & 0x3fff;
    } else {
      hdr = 5;
      const c = (b0 | (byte(1) << 8) | (byte(2) << 16) | (byte(3) << 24)) >>> 0;
      comp = (c >>> 22) + (byte(4) << 10);
    }
    size = hdr + comp;
  }
  if (at + size > end) throw bad('literals section overruns its block');
  return size;
}

export const MODE_PREDEFINED = 0;
export const MODE_RLE = 1;
export const MODE_FSE = 2;
export const MODE_REPEAT = 3;

/** A table as a block can state it: its mode, its description bytes and the decoding table. */
export interface TableSpec {
  mode: number;
  desc: Uint8Array;
  table: FseTable;
}

export interface SequenceTables {
  ll: TableSpec;
  of: TableSpec;
  ml: TableSpec;
}

export interface SequencesSection {
  nbSeq: number;
  /** The Number_of_Sequences bytes. */
  countBytes: Uint8Array;
  /** Modes as written in the block (MODE_REPEAT allowed). */
  modes: [number, number, number];
  /** Tables in effect for this block (repeats resolved; mode is the defining mode). */
  tables: SequenceTables;
  bitstreamStart: number;
  end: number;
}

const KINDS = ['ll', 'of', 'ml'] as const;
const MAX_LOG = { ll: 9, of: 8, ml: 9 };
const MAX_SYMBOL = { ll: 35, of: 31, ml: 52 };

/**
 * Parse the sequences section in [at, end). `prev` are the tables in effect before this block
 * (null at the start of a frame). Returns null when the block has no sequences.
 */
export function readSequencesSection(buf: Uint8Array, at: number, end: number, prev: SequenceTables | null): SequencesSection | null {
  if (at >= end) throw bad('missing sequences section');
  const b0 = buf[at]!;
  let nbSeq: number;
  let n: number;
  if (b0 === 0) return null;
  if (b0 < 128) {
    nbSeq = b0;
    n = 1;
  } else if (b0 < 255) {
    if (at + 1 >= end) throw bad('truncated sequences header');
    nbSeq = ((b0 - 128) << 8) + buf[at + 1]!;
    n = 2;
  } else {
    if (at + 2 >= end) throw bad('truncated sequences header');
    nbSeq = buf[at + 1]! + (buf[at + 2]! << 8) + 0x7f00;
    n = 3;
  }
  if (at + n >= end) throw bad('truncated sequences header');
  const modesByte = buf[at + n]!;
  if (modesByte & 3) throw bad('reserved sequence mode bits set');
  const modes: [number, number, number] = [modesByte >>> 6, (modesByte >>> 4) & 3, (modesByte >>> 2) & 3];
  let p = at + n + 1;
  const tables = {} as SequenceTables;
  for (let i = 0; i < 3; i++) {
    const kind = KINDS[i]!;
    const mode = modes[i]!;
    if (mode === MODE_PREDEFINED) tables[kind] = { mode, desc: new Uint8Array(0), table: PREDEFINED[kind] };
    else if (mode === MODE_RLE) {
      if (p >= end) throw bad('truncated RLE table');
      const sym = buf[p]!;
      if (sym > MAX_SYMBOL[kind]) throw bad('RLE symbol out of range');
      tables[kind] = { mode, desc: buf.slice(p, p + 1), table: rleTable(sym) };
      p += 1;
    } else if (mode === MODE_FSE) {
      const { table, size } = readFseDescription(buf, p, end, MAX_LOG[kind], MAX_SYMBOL[kind]);
      tables[kind] = { mode, desc: buf.slice(p, p + size), table };
      p += size;
    } else {
      if (!prev) throw bad('repeat table without a previous table');
      tables[kind] = prev[kind];
    }
  }
  if (p > end) throw bad('sequences tables overrun the block');
  return { nbSeq, countBytes: buf.slice(at, at + n), modes, tables, bitstreamStart: p, end };
}

export interface Sequences {
  ll: Uint32Array;
  ofv: Uint32Array;
  ml: Uint32Array;
}

export function decodeSequences(buf: Uint8Array, s: SequencesSection): Sequences {
  const { ll: LL, of: OF, ml: ML } = { ll: s.tables.ll.table, of: s.tables.of.table, ml: s.tables.ml.table };
  const r = new BackwardBitReader(buf, s.bitstreamStart, s.end);
  let sLL = r.read(LL.log);
  let sOF = r.read(OF.log);
  let sML = r.read(ML.log);
  const out: Sequences = { ll: new Uint32Array(s.nbSeq), ofv: new Uint32Array(s.nbSeq), ml: new Uint32Array(s.nbSeq) };
  for (let i = 0; i < s.nbSeq; i++) {
    const ofCode = OF.symbol[sOF]!;
    const mlCode = ML.symbol[sML]!;
    const llCode = LL.symbol[sLL]!;
    if (ofCode > 31 || mlCode > 52 || llCode > 35) throw bad('sequence code out of range');
    out.ofv[i] = 2 ** ofCode + r.read(ofCode);
    out.ml[i] = ML_BASE[mlCode]! + r.read(ML_BITS[mlCode]!);
    out.ll[i] = LL_BASE[llCode]! + r.read(LL_BITS[llCode]!);
    if (i < s.nbSeq - 1) {
      sLL = LL.baseline[sLL]! + r.read(LL.nbBits[sLL]!);
      sML = ML.baseline[sML]! + r.read(ML.nbBits[sML]!);
      sOF = OF.baseline[sOF]! + r.read(OF.nbBits[sOF]!);
    }
  }
  if (r.pos !== 0) throw bad('sequences bitstream not fully consumed');
  return out;
}

/** Encode sequences with the given tables (every code must have a state in its table). */
export function encodeSequences(seq: Sequences, LL: FseTable, OF: FseTable, ML: FseTable): Uint8Array {
  const n = seq.ll.length;
  const w = new ForwardBitWriter();
  let sLL = 0;
  let sOF = 0;
  let sML = 0;
  for (let i = n - 1; i >= 0; i--) {
    const ll = seq.ll[i]!;
    const ml = seq.ml[i]!;
    const ofv = seq.ofv[i]!;
    const llCode = codeOf(LL_BASE, LL_BITS, ll);
    const mlCode = codeOf(ML_BASE, ML_BITS, ml);
    const ofCode = offsetCode(ofv);
    if (i === n - 1) {
      sLL = firstState(LL, llCode);
      sOF = firstState(OF, ofCode);
      sML = firstState(ML, mlCode);
    } else {
      const o = encodeStep(OF, ofCode, sOF);
      const m = encodeStep(ML, mlCode, sML);
      const l = encodeStep(LL, llCode, sLL);
      w.write(o.bits, o.nb);
      w.write(m.bits, m.nb);
      w.write(l.bits, l.nb);
      sOF = o.state;
      sML = m.state;
      sLL = l.state;
    }
    w.write(ll - LL_BASE[llCode]!, LL_BITS[llCode]!);
    w.write(ml - ML_BASE[mlCode]!, ML_BITS[mlCode]!);
    w.write(ofv - 2 ** ofCode, ofCode);
  }
  w.write(sML, ML.log);
  w.write(sOF, OF.log);
  w.write(sLL, LL.log);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Repeat offsets (§3.1.1.5 "Repeat offsets").

export type RepHistory = [number, number, number];
export const INITIAL_REPS: RepHistory = [1, 4, 8];

/** The offset an Offset_Value means under history `h` (does not change `h`). */
export function resolveOffset(h: RepHistory, ofv: number, ll: number): number {
  if (ofv > 3) return ofv - 3;
  const idx = ofv - 1 + (ll === 0 ? 1 : 0);
  return idx === 3 ? h[0] - 1 : h[idx]!;
}

/** Apply one sequence's Offset_Value to `h` (in place); returns the offset used. */
export function applyOffset(h: RepHistory, ofv: number, ll: number): number {
  if (ofv > 3) {
    const off = ofv - 3;
    h[2] = h[1];
    h[1] = h[0];
    h[0] = off;
    return off;
  }
  const idx = ofv - 1 + (ll === 0 ? 1 : 0);
  if (idx === 0) return h[0];
  if (idx === 3) {
    const off = h[0] - 1;
    h[2] = h[1];
    h[1] = h[0];
    h[0] = off;
    return off;
  }
  const off = h[idx]!;
  if (idx === 2) h[2] = h[1];
  h[1] = h[0];
  h[0] = off;
  return off;
}
