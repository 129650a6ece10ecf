/**
 * LZMA encoder (the LZMA layer under LZMA2): range coder, probability models, the two parsers of
 * liblzma — "fast" (greedy with one byte of lookahead, presets 0–3) and "normal" (price-based
 * optimal parsing over up to 4096 positions, presets 4–9 and every `-e`) — and the price tables
 * the normal parser uses.
 *
 * Every decision rule and every refresh interval of the price tables matters for the output bytes,
 * so they follow liblzma's algorithm (see xz's lzma_encoder*.c for the reference behaviour); the
 * code and the data layout are our own. All state is in typed arrays; nothing allocates per byte.
 */
import {
  ALIGN_MASK,
  ALIGN_SIZE,
  DIST_MODEL_END,
  DIST_MODEL_START,
  DIST_STATES,
  FULL_DISTANCES,
  LITERAL_CODER_SIZE,
  LOOP_INPUT_MAX,
  LZMA2_CHUNK_MAX,
  MATCH_LEN_MAX,
  MATCH_LEN_MIN,
  OPTS,
  RC_BIT_MODEL_TOTAL,
  RC_INFINITY_PRICE,
  RC_PRICES,
  RC_PROB_INIT,
  RC_TOP,
  REPS,
  distSlot,
} from './lzma-constants.js';
import { MatchFinder } from './match-finder.js';
import { matchLength } from './match-length.js';
import type { LzmaOptions } from './presets.js';

// ---- probability array layout -----------------------------------------------------------------
const P_IS_MATCH = 0; // [state][posState] (12 × 16)
const P_IS_REP = 192; // [state]
const P_IS_REP0 = 204;
const P_IS_REP1 = 216;
const P_IS_REP2 = 228;
const P_IS_REP0_LONG = 240; // [state][posState]
const P_DIST_SLOT = 432; // [distState][64]
const P_DIST_SPECIAL = 688; // 114 entries (distances 4..127)
const P_DIST_ALIGN = 802; // 16
const P_MATCH_LEN = 818; // length coder: choice, choice2, low[16][8], mid[16][8], high[256]
const P_REP_LEN = 1332;
const P_LITERAL = 1846;
const LEN_CODER_SIZE = 514;
const LEN_LOW = 2;
const LEN_MID = 130;
const LEN_HIGH = 258;

/** Price table stride of one length coder: [posState][len − 2]. */
const LEN_PRICE_STRIDE = 272;

const LITERAL = -1;

function price0(p: number): number {
  return RC_PRICES[p >>> 4]!;
}
function price1(p: number): number {
  return RC_PRICES[(p ^ (RC_BIT_MODEL_TOTAL - 1)) >>> 4]!;
}
function priceBit(p: number, bit: number): number {
  return RC_PRICES[(p ^ (-bit & (RC_BIT_MODEL_TOTAL - 1))) >>> 4]!;
}
function afterLiteral(s: number): number {
  return s < 4 ? 0 : s < 10 ? s - 3 : s - 6;
}
function afterMatch(s: number): number {
  return s < 7 ? 7 : 10;
}
function afterLongRep(s: number): number {
  return s < 7 ? 8 : 11;
}
function afterShortRep(s: number): number {
  return s < 7 ? 9 : 11;
}

export class LzmaEncoder {
  readonly mf: MatchFinder;
  readonly fastMode: boolean;
  readonly lc: number;
  readonly lp: number;
  readonly pb: number;
  private readonly posMask: number;
  private readonly lpMask: number;
  readonly probs: Uint16Array;

  // Range coder. `range` is a uint32 kept as a non-negative number; `low` needs 33 bits.
  private low = 0;
  private range = -1;
  private cache = 0;
  private cacheSize = 1;
  /** Compressed bytes of the current chunk (at most LZMA2_CHUNK_MAX). */
  readonly out = new Uint8Array(LZMA2_CHUNK_MAX + 64);
  outPos = 0;

  private state = 0;
  private readonly reps = new Int32Array(REPS);
  /** Uncompressed position of the next symbol (pos_state and literal position come from it). */
  uncompSize = 0;
  private isInitialized = false;

  // Results of the parsers.
  private backRes = 0;
  private lenRes = 0;
  private longestMatchLength = 0;
  private matchesCount = 0;

  // Price tables (normal mode).
  private readonly lenTableSize: number;
  private readonly lenPrices = new Uint32Array(2 * 16 * LEN_PRICE_STRIDE);
  private readonly lenCounters = new Int32Array(2 * 16);
  private readonly distTableSize: number;
  private readonly distSlotPrices = new Uint32Array(DIST_STATES * 64);
  private readonly distPrices = new Uint32Array(DIST_STATES * FULL_DISTANCES);
  private readonly alignPrices = new Uint32Array(ALIGN_SIZE);
  private matchPriceCount = 0;
  private alignPriceCount = 0;

  // Optimal parsing array (struct of arrays).
  private optsEndIndex = 0;
  private optsCurrentIndex = 0;
  private readonly optPrice = new Int32Array(OPTS);
  private readonly optPosPrev = new Int32Array(OPTS);
  private readonly optBackPrev = new Int32Array(OPTS);
  private readonly optPrev1IsLiteral = new Uint8Array(OPTS);
  private readonly optPrev2 = new Uint8Array(OPTS);
  private readonly optPosPrev2 = new Int32Array(OPTS);
  private readonly optBackPrev2 = new Int32Array(OPTS);
  private readonly optState = new Uint8Array(OPTS);
  private readonly optBacks = new Int32Array(OPTS * REPS);
  private readonly tmpReps = new Int32Array(REPS);
  private readonly repLens = new Int32Array(REPS);

  constructor(opts: LzmaOptions) {
    this.fastMode = opts.mode === 'fast';
    this.lc = opts.lc;
    this.lp = opts.lp;
    this.pb = opts.pb;
    this.posMask = (1 << opts.pb) - 1;
    this.lpMask = (1 << opts.lp) - 1;
    this.probs = new Uint16Array(P_LITERAL + (LITERAL_CODER_SIZE << (opts.lc + opts.lp)));
    this.mf = new MatchFinder({ kind: opts.mf, dictSize: opts.dictSize, niceLen: opts.niceLen, depth: opts.depth });
    let logSize = 0;
    while (2 ** logSize < opts.dictSize) logSize++;
    this.distTableSize = logSize * 2;
    this.lenTableSize = this.mf.niceLen + 1 - MATCH_LEN_MIN;
    this.reset();
  }

  /** Start a new stream on `input` (one-shot: the whole input is the window). */
  begin(input: Uint8Array): void {
    this.mf.setInput(input);
    this.uncompSize = 0;
    this.isInitialized = false;
    this.reset();
  }

  /** LZMA state reset (LZMA2 does this after an uncompressed chunk): models, reps, coder, prices. */
  reset(): void {
    this.low = 0;
    this.range = -1;
    this.cache = 0;
    this.cacheSize = 1;
    this.outPos = 0;
    this.state = 0;
    this.reps.fill(0);
    this.probs.fill(RC_PROB_INIT);
    if (!this.fastMode) {
      for (let coder = 0; coder < 2; coder++) {
        for (let ps = 0; ps <= this.posMask; ps++) this.updateLenPrices(coder, ps);
      }
    }
    this.matchPriceCount = 0x7fffffff;
    this.alignPriceCount = 0x7fffffff;
    this.optsEndIndex = 0;
    this.optsCurrentIndex = 0;
  }

  // ---- range coder ----------------------------------------------------------------------------

  private shiftLow(): void {
    const low = this.low;
    if (low < 0xff000000 || low >= 0x100000000) {
      const carry = low >= 0x100000000 ? 1 : 0;
      const out = this.out;
      let cache = this.cache;
      let pos = this.outPos;
      do {
        out[pos++] = cache + carry;
        cache = 0xff;
      } while (--this.cacheSize !== 0);
      this.outPos = pos;
      this.cache = (low >>> 24) & 0xff;
    }
    this.cacheSize++;
    this.low = (low & 0x00ffffff) * 256;
  }

  private bit(i: number, bit: number): void {
    // `range` is a uint32 held in an int32 (no float arithmetic in the hot path).
    let range = this.range;
    if (range >>> 24 === 0) {
      this.shiftLow();
      range <<= 8;
    }
    const p = this.probs[i]!;
    const bound = Math.imul(range >>> 11, p);
    if (bit === 0) {
      this.range = bound;
      this.probs[i] = p + ((RC_BIT_MODEL_TOTAL - p) >>> 5);
    } else {
      this.low += bound >>> 0;
      this.range = (range - bound) | 0;
      this.probs[i] = p - (p >>> 5);
    }
  }

  /** Bit tree of `bits` levels, MSB first, with the coder state in locals. */
  private bittree(base: number, bits: number, symbol: number): void {
    const probs = this.probs;
    let range = this.range;
    let low = this.low;
    let m = 1;
    do {
      const b = (symbol >>> --bits) & 1;
      if (range >>> 24 === 0) {
        this.low = low;
        this.shiftLow();
        low = this.low;
        range <<= 8;
      }
      const i = base + m;
      const p = probs[i]!;
      const bound = Math.imul(range >>> 11, p);
      if (b === 0) {
        range = bound;
        probs[i] = p + ((RC_BIT_MODEL_TOTAL - p) >>> 5);
      } else {
        low += bound >>> 0;
        range = (range - bound) | 0;
        probs[i] = p - (p >>> 5);
      }
      m = (m << 1) + b;
    } while (bits !== 0);
    this.range = range;
    this.low = low;
  }

  private bittreeReverse(base: number, bits: number, symbol: number): void {
    let m = 1;
    do {
      const b = symbol & 1;
      symbol >>>= 1;
      this.bit(base + m, b);
      m = (m << 1) + b;
    } while (--bits !== 0);
  }

  private direct(value: number, bits: number): void {
    do {
      let range = this.range;
      if (range >>> 24 === 0) {
        this.shiftLow();
        range <<= 8;
      }
      range = range >>> 1;
      if ((value >>> --bits) & 1) this.low += range;
      this.range = range;
    } while (bits !== 0);
  }

  private flush(): void {
    if (this.range >>> 24 === 0) this.shiftLow();
    this.range = -1;
    for (let i = 0; i < 5; i++) this.shiftLow();
    this.low = 0;
    this.cacheSize = 1;
    this.cache = 0;
  }

  // ---- symbols --------------------------------------------------------------------------------

  private literalBase(position: number, prevByte: number): number {
    return P_LITERAL + LITERAL_CODER_SIZE * (((position & this.lpMask) << this.lc) + (prevByte >>> (8 - this.lc)));
  }

  private encodeLiteral(position: number): void {
    const mf = this.mf;
    const buf = mf.buf;
    const view = mf.view;
    const cur = mf.readPos - mf.readAhead;
    const curByte = buf[cur]!;
    const sub = this.literalBase(position, buf[cur - 1]!);
    if (this.state < 7) {
      this.bittree(sub, 8, curByte);
    } else {
      // Matched literal: the bits of the byte at rep0 select the models (coder state in locals).
      const probs = this.probs;
      let range = this.range;
      let low = this.low;
      let matchByte = buf[cur - this.reps[0]! - 1]!;
      let offset = 0x100;
      let symbol = curByte + 0x100;
      do {
        matchByte <<= 1;
        const i = sub + offset + (matchByte & offset) + (symbol >>> 8);
        if (range >>> 24 === 0) {
          this.low = low;
          this.shiftLow();
          low = this.low;
          range <<= 8;
        }
        const p = probs[i]!;
        const bound = Math.imul(range >>> 11, p);
        if (((symbol >>> 7) & 1) === 0) {
          range = bound;
          probs[i] = p + ((RC_BIT_MODEL_TOTAL - p) >>> 5);
        } else {
          low += bound >>> 0;
          range = (range - bound) | 0;
          probs[i] = p - (p >>> 5);
        }
        symbol <<= 1;
        offset &= ~(matchByte ^ symbol);
      } while (symbol < 0x10000);
      this.range = range;
      this.low = low;
    }
    this.state = afterLiteral(this.state);
  }

  private encodeLength(coder: number, posState: number, len: number): void {
    const base = coder === 0 ? P_MATCH_LEN : P_REP_LEN;
    // liblzma refreshes this price table while the symbol's bits are still queued in its range
    // coder, i.e. from the probabilities as they were before this length: do the same, first.
    if (!this.fastMode && --this.lenCounters[coder * 16 + posState]! === 0) this.updateLenPrices(coder, posState);
    len -= MATCH_LEN_MIN;
    if (len < 8) {
      this.bit(base, 0);
      this.bittree(base + LEN_LOW + posState * 8, 3, len);
    } else {
      this.bit(base, 1);
      len -= 8;
      if (len < 8) {
        this.bit(base + 1, 0);
        this.bittree(base + LEN_MID + posState * 8, 3, len);
      } else {
        this.bit(base + 1, 1);
        this.bittree(base + LEN_HIGH, 8, len - 8);
      }
    }
  }

  private encodeMatch(posState: number, distance: number, len: number): void {
    this.state = afterMatch(this.state);
    this.encodeLength(0, posState, len);
    const slot = distSlot(distance);
    const distState = len < 6 ? len - 2 : 3;
    this.bittree(P_DIST_SLOT + distState * 64, 6, slot);
    if (slot >= DIST_MODEL_START) {
      const footerBits = (slot >>> 1) - 1;
      const base = (2 | (slot & 1)) << footerBits;
      const reduced = distance - base;
      if (slot < DIST_MODEL_END) {
        this.bittreeReverse(P_DIST_SPECIAL + base - slot - 1, footerBits, reduced);
      } else {
        this.direct(reduced >>> 4, footerBits - 4);
        this.bittreeReverse(P_DIST_ALIGN, 4, reduced & ALIGN_MASK);
        ++this.alignPriceCount;
      }
    }
    const reps = this.reps;
    reps[3] = reps[2]!;
    reps[2] = reps[1]!;
    reps[1] = reps[0]!;
    reps[0] = distance;
    ++this.matchPriceCount;
  }

  private encodeRepMatch(posState: number, rep: number, len: number): void {
    const state = this.state;
    const reps = this.reps;
    if (rep === 0) {
      this.bit(P_IS_REP0 + state, 0);
      this.bit(P_IS_REP0_LONG + state * 16 + posState, len !== 1 ? 1 : 0);
    } else {
      const distance = reps[rep]!;
      this.bit(P_IS_REP0 + state, 1);
      if (rep === 1) {
        this.bit(P_IS_REP1 + state, 0);
      } else {
        this.bit(P_IS_REP1 + state, 1);
        this.bit(P_IS_REP2 + state, rep - 2);
        if (rep === 3) reps[3] = reps[2]!;
        reps[2] = reps[1]!;
      }
      reps[1] = reps[0]!;
      reps[0] = distance;
    }
    if (len === 1) {
      this.state = afterShortRep(state);
    } else {
      this.encodeLength(1, posState, len);
      this.state = afterLongRep(state);
    }
  }

  private encodeSymbol(back: number, len: number, position: number): void {
    const posState = position & this.posMask;
    const state = this.state;
    if (back === LITERAL) {
      this.bit(P_IS_MATCH + state * 16 + posState, 0);
      this.encodeLiteral(position);
    } else {
      this.bit(P_IS_MATCH + state * 16 + posState, 1);
      if (back < REPS) {
        this.bit(P_IS_REP + state, 1);
        this.encodeRepMatch(posState, back, len);
      } else {
        this.bit(P_IS_REP + state, 0);
        this.encodeMatch(posState, back - REPS, len);
      }
    }
    this.mf.readAhead -= len;
  }

  /**
   * Encode LZMA symbols into `out` until the chunk limits are reached (uncompressed position
   * `limit`, or compressed size close to LZMA2_CHUNK_MAX) or the input ends; then flush the range
   * coder. Returns false if more input is needed first (never in one-shot mode).
   */
  encodeChunk(limit: number): boolean {
    const mf = this.mf;
    if (!this.isInitialized) {
      if (mf.readPos === mf.readLimit) {
        if (!mf.finishing) return false;
      } else {
        // The first symbol is always a literal with no context.
        mf.skip(1);
        mf.readAhead = 0;
        this.bit(P_IS_MATCH, 0);
        this.bittree(P_LITERAL, 8, mf.buf[mf.readPos - 1]!);
        ++this.uncompSize;
      }
      this.isInitialized = true;
    }
    const outLimit = LZMA2_CHUNK_MAX - LOOP_INPUT_MAX;
    for (;;) {
      if (mf.readPos - mf.readAhead >= limit || this.outPos + this.cacheSize + 4 >= outLimit) break;
      if (mf.readPos >= mf.readLimit) {
        if (!mf.finishing) return false;
        if (mf.readAhead === 0) break;
      }
      if (this.fastMode) this.optimumFast();
      else this.optimumNormal(this.uncompSize);
      const len = this.lenRes;
      this.encodeSymbol(this.backRes, len, this.uncompSize);
      this.uncompSize += len;
    }
    this.flush();
    return true;
  }

  // ---- fast parser ----------------------------------------------------------------------------

  private optimumFast(): void {
    const mf = this.mf;
    const niceLen = mf.niceLen;
    let lenMain: number;
    let matchesCount: number;
    if (mf.readAhead === 0) {
      lenMain = mf.find();
      matchesCount = mf.matchCount;
    } else {
      lenMain = this.longestMatchLength;
      matchesCount = this.matchesCount;
    }
    const buf = mf.buf;
    const view = mf.view;
    const cur = mf.readPos - 1;
    let bufAvail = mf.writePos - mf.readPos + 1;
    if (bufAvail > MATCH_LEN_MAX) bufAvail = MATCH_LEN_MAX;
    if (bufAvail < 2) {
      this.backRes = LITERAL;
      this.lenRes = 1;
      return;
    }
    const reps = this.reps;
    let repLen = 0;
    let repIndex = 0;
    for (let i = 0; i < REPS; i++) {
      const back = cur - reps[i]! - 1;
      if (buf[cur] !== buf[back] || buf[cur + 1] !== buf[back + 1]) continue;
      let len = 2;
      len = matchLength(buf, view, cur, back, len, bufAvail);
      if (len >= niceLen) {
        this.backRes = i;
        this.lenRes = len;
        mf.skip(len - 1);
        return;
      }
      if (len > repLen) {
        repIndex = i;
        repLen = len;
      }
    }
    const matchLen = mf.matchLen;
    const matchDist = mf.matchDist;
    if (lenMain >= niceLen) {
      this.backRes = matchDist[matchesCount - 1]! + REPS;
      this.lenRes = lenMain;
      mf.skip(lenMain - 1);
      return;
    }
    let backMain = 0;
    if (lenMain >= 2) {
      backMain = matchDist[matchesCount - 1]!;
      while (matchesCount > 1 && lenMain === matchLen[matchesCount - 2]! + 1) {
        // Prefer a one-byte-shorter match if its distance is much smaller.
        if (!(backMain >>> 7 > matchDist[matchesCount - 2]!)) break;
        --matchesCount;
        lenMain = matchLen[matchesCount - 1]!;
        backMain = matchDist[matchesCount - 1]!;
      }
      if (lenMain === 2 && backMain >= 0x80) lenMain = 1;
    }
    if (repLen >= 2) {
      if (
        repLen + 1 >= lenMain ||
        (repLen + 2 >= lenMain && backMain > 1 << 9) ||
        (repLen + 3 >= lenMain && backMain > 1 << 15)
      ) {
        this.backRes = repIndex;
        this.lenRes = repLen;
        mf.skip(repLen - 1);
        return;
      }
    }
    if (lenMain < 2 || bufAvail <= 2) {
      this.backRes = LITERAL;
      this.lenRes = 1;
      return;
    }
    // Look one byte ahead: if a better match starts there, emit a literal now.
    const longest = mf.find();
    this.longestMatchLength = longest;
    this.matchesCount = mf.matchCount;
    if (longest >= 2) {
      const newDist = matchDist[mf.matchCount - 1]!;
      if (
        (longest >= lenMain && newDist < backMain) ||
        (longest === lenMain + 1 && !(newDist >>> 7 > backMain)) ||
        longest > lenMain + 1 ||
        (longest + 1 >= lenMain && lenMain >= 3 && backMain >>> 7 > newDist)
      ) {
        this.backRes = LITERAL;
        this.lenRes = 1;
        return;
      }
    }
    const next = cur + 1;
    const limit = lenMain - 1 > 2 ? lenMain - 1 : 2;
    for (let i = 0; i < REPS; i++) {
      const back = next - reps[i]! - 1;
      const j = matchLength(buf, view, next, back, 0, limit);
      if (j === limit) {
        this.backRes = LITERAL;
        this.lenRes = 1;
        return;
      }
    }
    this.backRes = backMain + REPS;
    this.lenRes = lenMain;
    mf.skip(lenMain - 2);
  }

  // ---- prices ---------------------------------------------------------------------------------

  private bittreePrice(base: number, bits: number, symbol: number): number {
    const probs = this.probs;
    let price = 0;
    symbol += 1 << bits;
    do {
      const b = symbol & 1;
      symbol >>>= 1;
      price += priceBit(probs[base + symbol]!, b);
    } while (symbol !== 1);
    return price;
  }

  private bittreeReversePrice(base: number, bits: number, symbol: number): number {
    const probs = this.probs;
    let price = 0;
    let m = 1;
    do {
      const b = symbol & 1;
      symbol >>>= 1;
      price += priceBit(probs[base + m]!, b);
      m = (m << 1) + b;
    } while (--bits !== 0);
    return price;
  }

  private updateLenPrices(coder: number, posState: number): void {
    const base = coder === 0 ? P_MATCH_LEN : P_REP_LEN;
    const probs = this.probs;
    const tableSize = this.lenTableSize;
    this.lenCounters[coder * 16 + posState] = tableSize;
    const a0 = price0(probs[base]!);
    const a1 = price1(probs[base]!);
    const b0 = a1 + price0(probs[base + 1]!);
    const b1 = a1 + price1(probs[base + 1]!);
    const prices = this.lenPrices;
    const off = (coder * 16 + posState) * LEN_PRICE_STRIDE;
    let i = 0;
    for (; i < tableSize && i < 8; i++) prices[off + i] = a0 + this.bittreePrice(base + LEN_LOW + posState * 8, 3, i);
    for (; i < tableSize && i < 16; i++) prices[off + i] = b0 + this.bittreePrice(base + LEN_MID + posState * 8, 3, i - 8);
    for (; i < tableSize; i++) prices[off + i] = b1 + this.bittreePrice(base + LEN_HIGH, 8, i - 16);
  }

  private lenPrice(coder: number, len: number, posState: number): number {
    return this.lenPrices[(coder * 16 + posState) * LEN_PRICE_STRIDE + len - MATCH_LEN_MIN]!;
  }

  private fillDistPrices(): void {
    const slotPrices = this.distSlotPrices;
    for (let ds = 0; ds < DIST_STATES; ds++) {
      const so = ds * 64;
      for (let slot = 0; slot < this.distTableSize; slot++) {
        slotPrices[so + slot] = this.bittreePrice(P_DIST_SLOT + ds * 64, 6, slot);
      }
      for (let slot = DIST_MODEL_END; slot < this.distTableSize; slot++) {
        slotPrices[so + slot] += ((slot >>> 1) - 1 - 4) << 4;
      }
      for (let i = 0; i < DIST_MODEL_START; i++) this.distPrices[ds * FULL_DISTANCES + i] = slotPrices[so + i]!;
    }
    for (let i = DIST_MODEL_START; i < FULL_DISTANCES; i++) {
      const slot = distSlot(i);
      const footerBits = (slot >>> 1) - 1;
      const base = (2 | (slot & 1)) << footerBits;
      const price = this.bittreeReversePrice(P_DIST_SPECIAL + base - slot - 1, footerBits, i - base);
      for (let ds = 0; ds < DIST_STATES; ds++) this.distPrices[ds * FULL_DISTANCES + i] = price + slotPrices[ds * 64 + slot]!;
    }
    this.matchPriceCount = 0;
  }

  private fillAlignPrices(): void {
    for (let i = 0; i < ALIGN_SIZE; i++) this.alignPrices[i] = this.bittreeReversePrice(P_DIST_ALIGN, 4, i);
    this.alignPriceCount = 0;
  }

  private literalPrice(position: number, prevByte: number, matchMode: boolean, matchByte: number, symbol: number): number {
    const sub = this.literalBase(position, prevByte);
    if (!matchMode) return this.bittreePrice(sub, 8, symbol);
    const probs = this.probs;
    let price = 0;
    let offset = 0x100;
    symbol += 0x100;
    do {
      matchByte <<= 1;
      const matchBit = matchByte & offset;
      price += priceBit(probs[sub + offset + matchBit + (symbol >>> 8)]!, (symbol >>> 7) & 1);
      symbol <<= 1;
      offset &= ~(matchByte ^ symbol);
    } while (symbol < 0x10000);
    return price;
  }

  private shortRepPrice(state: number, posState: number): number {
    return price0(this.probs[P_IS_REP0 + state]!) + price0(this.probs[P_IS_REP0_LONG + state * 16 + posState]!);
  }

  private pureRepPrice(repIndex: number, state: number, posState: number): number {
    const probs = this.probs;
    if (repIndex === 0) {
      return price0(probs[P_IS_REP0 + state]!) + price1(probs[P_IS_REP0_LONG + state * 16 + posState]!);
    }
    let price = price1(probs[P_IS_REP0 + state]!);
    if (repIndex === 1) price += price0(probs[P_IS_REP1 + state]!);
    else price += price1(probs[P_IS_REP1 + state]!) + priceBit(probs[P_IS_REP2 + state]!, repIndex - 2);
    return price;
  }

  private repPrice(repIndex: number, len: number, state: number, posState: number): number {
    return this.lenPrice(1, len, posState) + this.pureRepPrice(repIndex, state, posState);
  }

  private distLenPrice(dist: number, len: number, posState: number): number {
    const distState = len < 6 ? len - 2 : 3;
    let price: number;
    if (dist < FULL_DISTANCES) price = this.distPrices[distState * FULL_DISTANCES + dist]!;
    else price = this.distSlotPrices[distState * 64 + distSlot(dist)]! + this.alignPrices[dist & ALIGN_MASK]!;
    return price + this.lenPrice(0, len, posState);
  }

  // ---- normal (optimal) parser ----------------------------------------------------------------

  private optimumNormal(position: number): void {
    if (this.optsEndIndex !== this.optsCurrentIndex) {
      // Return the next symbol of the path computed earlier.
      const i = this.optsCurrentIndex;
      this.lenRes = this.optPosPrev[i]! - i;
      this.backRes = this.optBackPrev[i]!;
      this.optsCurrentIndex = this.optPosPrev[i]!;
      return;
    }
    const mf = this.mf;
    if (mf.readAhead === 0) {
      if (this.matchPriceCount >= 1 << 7) this.fillDistPrices();
      if (this.alignPriceCount >= ALIGN_SIZE) this.fillAlignPrices();
    }
    let lenEnd = this.helper1(position);
    if (lenEnd === -1) return;

    const reps = this.tmpReps;
    reps.set(this.reps);
    const niceLen = mf.niceLen;
    let cur = 1;
    for (; cur < lenEnd; cur++) {
      this.longestMatchLength = mf.find();
      this.matchesCount = mf.matchCount;
      if (this.longestMatchLength >= niceLen) break;
      let availFull = mf.writePos - mf.readPos + 1;
      if (availFull > OPTS - 1 - cur) availFull = OPTS - 1 - cur;
      lenEnd = this.helper2(reps, mf.readPos - 1, lenEnd, position + cur, cur, niceLen, availFull);
    }
    this.backward(cur);
  }

  private backward(cur: number): void {
    const posPrev = this.optPosPrev;
    const backPrev = this.optBackPrev;
    this.optsEndIndex = cur;
    let posMem = posPrev[cur]!;
    let backMem = backPrev[cur]!;
    do {
      if (this.optPrev1IsLiteral[cur]) {
        backPrev[posMem] = LITERAL;
        this.optPrev1IsLiteral[posMem] = 0;
        posPrev[posMem] = posMem - 1;
        if (this.optPrev2[cur]) {
          this.optPrev1IsLiteral[posMem - 1] = 0;
          posPrev[posMem - 1] = this.optPosPrev2[cur]!;
          backPrev[posMem - 1] = this.optBackPrev2[cur]!;
        }
      }
      const p = posMem;
      const backCur = backMem;
      backMem = backPrev[p]!;
      posMem = posPrev[p]!;
      backPrev[p] = backCur;
      posPrev[p] = cur;
      cur = p;
    } while (cur !== 0);
    this.optsCurrentIndex = posPrev[0]!;
    this.lenRes = posPrev[0]!;
    this.backRes = backPrev[0]!;
  }

  /** First step of the optimal parser; returns the path end, or −1 when the symbol is decided. */
  private helper1(position: number): number {
    const mf = this.mf;
    const niceLen = mf.niceLen;
    let lenMain: number;
    let matchesCount: number;
    if (mf.readAhead === 0) {
      lenMain = mf.find();
      matchesCount = mf.matchCount;
    } else {
      lenMain = this.longestMatchLength;
      matchesCount = this.matchesCount;
    }
    let bufAvail = mf.writePos - mf.readPos + 1;
    if (bufAvail > MATCH_LEN_MAX) bufAvail = MATCH_LEN_MAX;
    if (bufAvail < 2) {
      this.backRes = LITERAL;
      this.lenRes = 1;
      return -1;
    }
    const buf = mf.buf;
    const view = mf.view;
    const cur = mf.readPos - 1;
    const reps = this.reps;
    const repLens = this.repLens;
    let repMaxIndex = 0;
    for (let i = 0; i < REPS; i++) {
      const back = cur - reps[i]! - 1;
      if (buf[cur] !== buf[back] || buf[cur + 1] !== buf[back + 1]) {
        repLens[i] = 0;
        continue;
      }
      let len = 2;
      len = matchLength(buf, view, cur, back, len, bufAvail);
      repLens[i] = len;
      if (len > repLens[repMaxIndex]!) repMaxIndex = i;
    }
    const matchLen = mf.matchLen;
    const matchDist = mf.matchDist;
    if (repLens[repMaxIndex]! >= niceLen) {
      this.backRes = repMaxIndex;
      this.lenRes = repLens[repMaxIndex]!;
      mf.skip(this.lenRes - 1);
      return -1;
    }
    if (lenMain >= niceLen) {
      this.backRes = matchDist[matchesCount - 1]! + REPS;
      this.lenRes = lenMain;
      mf.skip(lenMain - 1);
      return -1;
    }
    const currentByte = buf[cur]!;
    const matchByte = buf[cur - reps[0]! - 1]!;
    if (lenMain < 2 && currentByte !== matchByte && repLens[repMaxIndex]! < 2) {
      this.backRes = LITERAL;
      this.lenRes = 1;
      return -1;
    }
    const probs = this.probs;
    const state = this.state;
    this.optState[0] = state;
    const posState = position & this.posMask;
    const isMatchP = probs[P_IS_MATCH + state * 16 + posState]!;
    const price = this.optPrice;
    price[1] = price0(isMatchP) + this.literalPrice(position, buf[cur - 1]!, state >= 7, matchByte, currentByte);
    this.optBackPrev[1] = LITERAL;
    this.optPrev1IsLiteral[1] = 0;
    const matchPrice = price1(isMatchP);
    const repMatchPrice = matchPrice + price1(probs[P_IS_REP + state]!);
    if (matchByte === currentByte) {
      const shortRepPrice = repMatchPrice + this.shortRepPrice(state, posState);
      if (shortRepPrice < price[1]!) {
        price[1] = shortRepPrice;
        this.optBackPrev[1] = 0;
        this.optPrev1IsLiteral[1] = 0;
      }
    }
    const lenEnd = lenMain > repLens[repMaxIndex]! ? lenMain : repLens[repMaxIndex]!;
    if (lenEnd < 2) {
      this.backRes = this.optBackPrev[1]!;
      this.lenRes = 1;
      return -1;
    }
    this.optPosPrev[1] = 0;
    for (let i = 0; i < REPS; i++) this.optBacks[i] = reps[i]!;
    let len = lenEnd;
    do price[len] = RC_INFINITY_PRICE;
    while (--len >= 2);

    for (let i = 0; i < REPS; i++) {
      let repLen = repLens[i]!;
      if (repLen < 2) continue;
      const p = repMatchPrice + this.pureRepPrice(i, state, posState);
      do {
        const total = p + this.lenPrice(1, repLen, posState);
        if (total < price[repLen]!) {
          price[repLen] = total;
          this.optPosPrev[repLen] = 0;
          this.optBackPrev[repLen] = i;
          this.optPrev1IsLiteral[repLen] = 0;
        }
      } while (--repLen >= 2);
    }

    const normalMatchPrice = matchPrice + price0(probs[P_IS_REP + state]!);
    len = repLens[0]! >= 2 ? repLens[0]! + 1 : 2;
    if (len <= lenMain) {
      let i = 0;
      while (len > matchLen[i]!) ++i;
      for (; ; ++len) {
        const dist = matchDist[i]!;
        const total = normalMatchPrice + this.distLenPrice(dist, len, posState);
        if (total < price[len]!) {
          price[len] = total;
          this.optPosPrev[len] = 0;
          this.optBackPrev[len] = dist + REPS;
          this.optPrev1IsLiteral[len] = 0;
        }
        if (len === matchLen[i]! && ++i === matchesCount) break;
      }
    }
    return lenEnd;
  }

  private helper2(
    reps: Int32Array,
    bufPos: number,
    lenEnd: number,
    position: number,
    cur: number,
    niceLen: number,
    bufAvailFull: number,
  ): number {
    const mf = this.mf;
    const buf = mf.buf;
    const view = mf.view;
    const probs = this.probs;
    const price = this.optPrice;
    const posPrevA = this.optPosPrev;
    const backPrevA = this.optBackPrev;
    const matchLen = mf.matchLen;
    const matchDist = mf.matchDist;
    let matchesCount = this.matchesCount;
    let newLen = this.longestMatchLength;
    let posPrev = posPrevA[cur]!;
    let state: number;

    if (this.optPrev1IsLiteral[cur]) {
      --posPrev;
      if (this.optPrev2[cur]) {
        state = this.optState[this.optPosPrev2[cur]!]!;
        state = this.optBackPrev2[cur]! < REPS ? afterLongRep(state) : afterMatch(state);
      } else {
        state = this.optState[posPrev]!;
      }
      state = afterLiteral(state);
    } else {
      state = this.optState[posPrev]!;
    }

    if (posPrev === cur - 1) {
      state = backPrevA[cur] === 0 ? afterShortRep(state) : afterLiteral(state);
    } else {
      let pos: number;
      if (this.optPrev1IsLiteral[cur] && this.optPrev2[cur]) {
        posPrev = this.optPosPrev2[cur]!;
        pos = this.optBackPrev2[cur]!;
        state = afterLongRep(state);
      } else {
        pos = backPrevA[cur]!;
        state = pos < REPS ? afterLongRep(state) : afterMatch(state);
      }
      const pb = posPrev * REPS;
      const backs = this.optBacks;
      if (pos < REPS) {
        reps[0] = backs[pb + pos]!;
        let i = 1;
        for (; i <= pos; i++) reps[i] = backs[pb + i - 1]!;
        for (; i < REPS; i++) reps[i] = backs[pb + i]!;
      } else {
        reps[0] = pos - REPS;
        for (let i = 1; i < REPS; i++) reps[i] = backs[pb + i - 1]!;
      }
    }
    this.optState[cur] = state;
    const cb = cur * REPS;
    for (let i = 0; i < REPS; i++) this.optBacks[cb + i] = reps[i]!;

    const curPrice = price[cur]!;
    const currentByte = buf[bufPos]!;
    const matchByte = buf[bufPos - reps[0]! - 1]!;
    const posState = position & this.posMask;
    const isMatchP = probs[P_IS_MATCH + state * 16 + posState]!;
    const curAnd1Price =
      curPrice + price0(isMatchP) + this.literalPrice(position, buf[bufPos - 1]!, state >= 7, matchByte, currentByte);

    let nextIsLiteral = false;
    if (curAnd1Price < price[cur + 1]!) {
      price[cur + 1] = curAnd1Price;
      posPrevA[cur + 1] = cur;
      backPrevA[cur + 1] = LITERAL;
      this.optPrev1IsLiteral[cur + 1] = 0;
      nextIsLiteral = true;
    }

    const matchPrice = curPrice + price1(isMatchP);
    const repMatchPrice = matchPrice + price1(probs[P_IS_REP + state]!);

    if (matchByte === currentByte && !(posPrevA[cur + 1]! < cur && backPrevA[cur + 1] === 0)) {
      const shortRepPrice = repMatchPrice + this.shortRepPrice(state, posState);
      if (shortRepPrice <= price[cur + 1]!) {
        price[cur + 1] = shortRepPrice;
        posPrevA[cur + 1] = cur;
        backPrevA[cur + 1] = 0;
        this.optPrev1IsLiteral[cur + 1] = 0;
        nextIsLiteral = true;
      }
    }

    if (bufAvailFull < 2) return lenEnd;
    const bufAvail = bufAvailFull < niceLen ? bufAvailFull : niceLen;

    if (!nextIsLiteral && matchByte !== currentByte) {
      // Literal + rep0.
      const back = bufPos - reps[0]! - 1;
      const limit = bufAvailFull < niceLen + 1 ? bufAvailFull : niceLen + 1;
      let lenTest = 1;
      lenTest = matchLength(buf, view, bufPos, back, lenTest, limit);
      lenTest -= 1;
      if (lenTest >= 2) {
        const state2 = afterLiteral(state);
        const posStateNext = (position + 1) & this.posMask;
        const nextRepMatchPrice =
          curAnd1Price + price1(probs[P_IS_MATCH + state2 * 16 + posStateNext]!) + price1(probs[P_IS_REP + state2]!);
        const offset = cur + 1 + lenTest;
        while (lenEnd < offset) price[++lenEnd] = RC_INFINITY_PRICE;
        const total = nextRepMatchPrice + this.repPrice(0, lenTest, state2, posStateNext);
        if (total < price[offset]!) {
          price[offset] = total;
          posPrevA[offset] = cur + 1;
          backPrevA[offset] = 0;
          this.optPrev1IsLiteral[offset] = 1;
          this.optPrev2[offset] = 0;
        }
      }
    }

    let startLen = 2;
    for (let repIndex = 0; repIndex < REPS; repIndex++) {
      const back = bufPos - reps[repIndex]! - 1;
      if (buf[bufPos] !== buf[back] || buf[bufPos + 1] !== buf[back + 1]) continue;
      let lenTest = 2;
      lenTest = matchLength(buf, view, bufPos, back, lenTest, bufAvail);
      while (lenEnd < cur + lenTest) price[++lenEnd] = RC_INFINITY_PRICE;
      const lenTestTemp = lenTest;
      const p = repMatchPrice + this.pureRepPrice(repIndex, state, posState);
      do {
        const total = p + this.lenPrice(1, lenTest, posState);
        if (total < price[cur + lenTest]!) {
          price[cur + lenTest] = total;
          posPrevA[cur + lenTest] = cur;
          backPrevA[cur + lenTest] = repIndex;
          this.optPrev1IsLiteral[cur + lenTest] = 0;
        }
      } while (--lenTest >= 2);
      lenTest = lenTestTemp;
      if (repIndex === 0) startLen = lenTest + 1;

      // Rep match + literal + rep0.
      let lenTest2 = lenTest + 1;
      const limit = bufAvailFull < lenTest2 + niceLen ? bufAvailFull : lenTest2 + niceLen;
      if (lenTest2 < limit) {
        lenTest2 = matchLength(buf, view, bufPos, back, lenTest2, limit);
      }
      lenTest2 -= lenTest + 1;
      if (lenTest2 >= 2) {
        let state2 = afterLongRep(state);
        let posStateNext = (position + lenTest) & this.posMask;
        const curAndLenLiteralPrice =
          p +
          this.lenPrice(1, lenTest, posState) +
          price0(probs[P_IS_MATCH + state2 * 16 + posStateNext]!) +
          this.literalPrice(position + lenTest, buf[bufPos + lenTest - 1]!, true, buf[back + lenTest]!, buf[bufPos + lenTest]!);
        state2 = afterLiteral(state2);
        posStateNext = (position + lenTest + 1) & this.posMask;
        const nextRepMatchPrice =
          curAndLenLiteralPrice + price1(probs[P_IS_MATCH + state2 * 16 + posStateNext]!) + price1(probs[P_IS_REP + state2]!);
        const offset = cur + lenTest + 1 + lenTest2;
        while (lenEnd < offset) price[++lenEnd] = RC_INFINITY_PRICE;
        const total = nextRepMatchPrice + this.repPrice(0, lenTest2, state2, posStateNext);
        if (total < price[offset]!) {
          price[offset] = total;
          posPrevA[offset] = cur + lenTest + 1;
          backPrevA[offset] = 0;
          this.optPrev1IsLiteral[offset] = 1;
          this.optPrev2[offset] = 1;
          this.optPosPrev2[offset] = cur;
          this.optBackPrev2[offset] = repIndex;
        }
      }
    }

    if (newLen > bufAvail) {
      newLen = bufAvail;
      matchesCount = 0;
      while (newLen > matchLen[matchesCount]!) ++matchesCount;
      matchLen[matchesCount++] = newLen;
    }

    if (newLen >= startLen) {
      const normalMatchPrice = matchPrice + price0(probs[P_IS_REP + state]!);
      while (lenEnd < cur + newLen) price[++lenEnd] = RC_INFINITY_PRICE;
      let i = 0;
      while (startLen > matchLen[i]!) ++i;
      for (let lenTest = startLen; ; ++lenTest) {
        const curBack = matchDist[i]!;
        let total = normalMatchPrice + this.distLenPrice(curBack, lenTest, posState);
        if (total < price[cur + lenTest]!) {
          price[cur + lenTest] = total;
          posPrevA[cur + lenTest] = cur;
          backPrevA[cur + lenTest] = curBack + REPS;
          this.optPrev1IsLiteral[cur + lenTest] = 0;
        }
        if (lenTest === matchLen[i]!) {
          // Match + literal + rep0.
          const back = bufPos - curBack - 1;
          let lenTest2 = lenTest + 1;
          const limit = bufAvailFull < lenTest2 + niceLen ? bufAvailFull : lenTest2 + niceLen;
          if (lenTest2 < limit) {
            lenTest2 = matchLength(buf, view, bufPos, back, lenTest2, limit);
          }
          lenTest2 -= lenTest + 1;
          if (lenTest2 >= 2) {
            let state2 = afterMatch(state);
            let posStateNext = (position + lenTest) & this.posMask;
            const curAndLenLiteralPrice =
              total +
              price0(probs[P_IS_MATCH + state2 * 16 + posStateNext]!) +
              this.literalPrice(position + lenTest, buf[bufPos + lenTest - 1]!, true, buf[back + lenTest]!, buf[bufPos + lenTest]!);
            state2 = afterLiteral(state2);
            posStateNext = (posStateNext + 1) & this.posMask;
            const nextRepMatchPrice =
              curAndLenLiteralPrice +
              price1(probs[P_IS_MATCH + state2 * 16 + posStateNext]!) +
              price1(probs[P_IS_REP + state2]!);
            const offset = cur + lenTest + 1 + lenTest2;
            while (lenEnd < offset) price[++lenEnd] = RC_INFINITY_PRICE;
            total = nextRepMatchPrice + this.repPrice(0, lenTest2, state2, posStateNext);
            if (total < price[offset]!) {
              price[offset] = total;
              posPrevA[offset] = cur + lenTest + 1;
              backPrevA[offset] = 0;
              this.optPrev1IsLiteral[offset] = 1;
              this.optPrev2[offset] = 1;
              this.optPosPrev2[offset] = cur;
              this.optBackPrev2[offset] = curBack + REPS;
            }
          }
          if (++i === matchesCount) break;
        }
      }
    }
    return lenEnd;
  }
}
