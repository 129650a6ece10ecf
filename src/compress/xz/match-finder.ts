/**
 * LZ77 match finders over a sliding window: hash chains (HC3, HC4) and a binary tree (BT4).
 *
 * The search rules (hash functions, candidate order, depth and nice-length cut-offs, how a match of
 * nice length is extended) follow liblzma's documented match finders so that an encoder driven by
 * them makes the same decisions as `xz`; the data layout is ours.
 *
 * Positions stored in `hash` and `son` are `readPos + offset`: the window can move without touching
 * the tables, and 0 is never a usable candidate because positions start at `cyclicSize`. Stored
 * positions stay below 2^31 (normalization) so everything is small-integer arithmetic.
 */
import { HASH_TABLE, MATCH_LEN_MAX } from './lzma-constants.js';
import { matchLength } from './match-length.js';
import type { MatchFinderKind } from './presets.js';

const HASH_2_SIZE = 1 << 10;
const HASH_3_SIZE = 1 << 16;
const HASH_2_MASK = HASH_2_SIZE - 1;
const HASH_3_MASK = HASH_3_SIZE - 1;
const FIX_3_HASH_SIZE = HASH_2_SIZE;
const FIX_4_HASH_SIZE = HASH_2_SIZE + HASH_3_SIZE;

/** Stored positions are renormalized when the current one reaches this value. */
const NORMALIZE_POS = 0x7fffffff;

export const MF_HC3 = 0;
export const MF_HC4 = 1;
export const MF_BT4 = 2;

export interface MatchFinderOptions {
  kind: MatchFinderKind;
  dictSize: number;
  niceLen: number;
  /** 0 = automatic. */
  depth: number;
}

export class MatchFinder {
  /** The window. In one-shot mode this is the caller's input itself (never written). */
  buf: Uint8Array;
  /** `buf` as a DataView, for word-at-a-time match length. */
  view: DataView;
  /** Next byte to run through the match finder. */
  readPos = 0;
  /** Bytes run through the match finder but not yet encoded. */
  readAhead = 0;
  /** Encoding may proceed while readPos < readLimit. */
  readLimit = 0;
  /** End of valid data in `buf`. */
  writePos = 0;
  /** True once no more input will come: the encoder may consume up to writePos. */
  finishing = false;
  /** Bytes skipped without hashing because too little input was left (only at the end). */
  pending = 0;
  offset: number;

  readonly kind: number;
  readonly hash: Int32Array;
  readonly son: Int32Array;
  cyclicPos = 0;
  readonly cyclicSize: number;
  readonly hashMask: number;
  readonly depth: number;
  readonly niceLen: number;
  readonly matchLenMax = MATCH_LEN_MAX;

  /** Matches of the last find(): ascending lengths, distances zero-based. */
  readonly matchLen = new Int32Array(MATCH_LEN_MAX + 1);
  readonly matchDist = new Int32Array(MATCH_LEN_MAX + 1);
  matchCount = 0;

  constructor(opts: MatchFinderOptions) {
    this.kind = opts.kind === 'hc3' ? MF_HC3 : opts.kind === 'hc4' ? MF_HC4 : MF_BT4;
    const hashBytes = this.kind === MF_HC3 ? 3 : 4;
    this.niceLen = Math.max(hashBytes, opts.niceLen);
    this.cyclicSize = opts.dictSize + 1;
    const isBt = this.kind === MF_BT4;

    // Hash size: dictionary size rounded up to 2^n − 1, at least 0xFFFF, halved above 2^24.
    let hs = opts.dictSize - 1;
    hs |= hs >>> 1;
    hs |= hs >>> 2;
    hs |= hs >>> 4;
    hs |= hs >>> 8;
    hs >>>= 1;
    hs |= 0xffff;
    if (hs > 1 << 24) hs = hashBytes === 3 ? (1 << 24) - 1 : hs >>> 1;
    this.hashMask = hs;
    let hashCount = hs + 1 + HASH_2_SIZE;
    if (hashBytes > 3) hashCount += HASH_3_SIZE;
    this.hash = new Int32Array(hashCount);
    this.son = new Int32Array(isBt ? this.cyclicSize * 2 : this.cyclicSize);
    this.depth = opts.depth !== 0 ? opts.depth : isBt ? 16 + (this.niceLen >>> 1) : 4 + (this.niceLen >>> 2);
    this.offset = this.cyclicSize;
    this.buf = new Uint8Array(0);
    this.view = new DataView(this.buf.buffer);
  }

  /** Start over on new data (a new block): the tables are cleared, `son` needs no clearing. */
  reset(): void {
    this.hash.fill(0);
    this.readPos = 0;
    this.readAhead = 0;
    this.readLimit = 0;
    this.writePos = 0;
    this.pending = 0;
    this.finishing = false;
    this.offset = this.cyclicSize;
    this.cyclicPos = 0;
    this.matchCount = 0;
  }

  /** One-shot mode: the whole input is the window. */
  setInput(data: Uint8Array): void {
    this.reset();
    this.buf = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.writePos = data.length;
    this.readLimit = data.length;
    this.finishing = true;
  }

  avail(): number {
    return this.writePos - this.readPos;
  }

  /** Bytes not yet encoded (in the window or run through the match finder). */
  unencoded(): number {
    return this.writePos - this.readPos + this.readAhead;
  }

  private movePos(): void {
    if (++this.cyclicPos === this.cyclicSize) this.cyclicPos = 0;
    ++this.readPos;
    if (this.readPos + this.offset === NORMALIZE_POS) this.normalize();
  }

  private normalize(): void {
    // Entries farther than the dictionary are unusable anyway: mark them empty, rebase the rest.
    const sub = NORMALIZE_POS - this.cyclicSize;
    const h = this.hash;
    for (let i = 0; i < h.length; i++) h[i] = h[i]! <= sub ? 0 : h[i]! - sub;
    const s = this.son;
    for (let i = 0; i < s.length; i++) s[i] = s[i]! <= sub ? 0 : s[i]! - sub;
    this.offset -= sub;
  }

  /**
   * Find matches at readPos and advance by one. Fills matchLen/matchDist/matchCount and returns the
   * longest length (extended past niceLen up to 273 when a nice match is found).
   */
  find(): number {
    let count: number;
    switch (this.kind) {
      case MF_HC3:
        count = this.findHc3();
        break;
      case MF_HC4:
        count = this.findHc4();
        break;
      default:
        count = this.findBt4();
        break;
    }
    this.matchCount = count;
    let lenBest = 0;
    if (count > 0) {
      lenBest = this.matchLen[count - 1]!;
      if (lenBest === this.niceLen) {
        let limit = this.writePos - this.readPos + 1;
        if (limit > MATCH_LEN_MAX) limit = MATCH_LEN_MAX;
        const buf = this.buf;
        const p1 = this.readPos - 1;
        const p2 = p1 - this.matchDist[count - 1]! - 1;
        lenBest = matchLength(buf, this.view, p1, p2, lenBest, limit);
      }
    }
    ++this.readAhead;
    return lenBest;
  }

  /** Run `amount` bytes through the match finder without reporting matches. */
  skip(amount: number): void {
    if (amount === 0) return;
    this.skipRaw(amount);
    this.readAhead += amount;
  }

  /** skip() without counting read-ahead. */
  skipRaw(amount: number): void {
    switch (this.kind) {
      case MF_HC3:
        this.skipHc3(amount);
        break;
      case MF_HC4:
        this.skipHc4(amount);
        break;
      default:
        this.skipBt4(amount);
        break;
    }
  }

  private movePending(): void {
    ++this.readPos;
    ++this.pending;
  }

  // ---- hash chains ------------------------------------------------------------------------------

  private findHc3(): number {
    let lenLimit = this.writePos - this.readPos;
    if (this.niceLen <= lenLimit) lenLimit = this.niceLen;
    else if (lenLimit < 3) {
      this.movePending();
      return 0;
    }
    const buf = this.buf;
    const cur = this.readPos;
    const pos = cur + this.offset;
    const hash = this.hash;
    const temp = HASH_TABLE[buf[cur]!]! ^ buf[cur + 1]!;
    const h2 = temp & HASH_2_MASK;
    const hv = (temp ^ (buf[cur + 2]! << 8)) & this.hashMask;
    const delta2 = pos - hash[h2]!;
    const curMatch = hash[FIX_3_HASH_SIZE + hv]!;
    hash[h2] = pos;
    hash[FIX_3_HASH_SIZE + hv] = pos;

    let lenBest = 2;
    let count = 0;
    if (delta2 < this.cyclicSize && buf[cur - delta2] === buf[cur]) {
      // The 2-byte hash with an equal first byte implies an equal second byte.
      const p = cur - delta2;
      lenBest = matchLength(buf, this.view, p, cur, lenBest, lenLimit);
      this.matchLen[0] = lenBest;
      this.matchDist[0] = delta2 - 1;
      count = 1;
      if (lenBest === lenLimit) {
        this.son[this.cyclicPos] = curMatch;
        this.movePos();
        return 1;
      }
    }
    return this.hcChain(lenLimit, pos, cur, curMatch, count, lenBest);
  }

  private findHc4(): number {
    let lenLimit = this.writePos - this.readPos;
    if (this.niceLen <= lenLimit) lenLimit = this.niceLen;
    else if (lenLimit < 4) {
      this.movePending();
      return 0;
    }
    const buf = this.buf;
    const cur = this.readPos;
    const pos = cur + this.offset;
    const hash = this.hash;
    const temp = HASH_TABLE[buf[cur]!]! ^ buf[cur + 1]!;
    const h2 = temp & HASH_2_MASK;
    const t3 = temp ^ (buf[cur + 2]! << 8);
    const h3 = t3 & HASH_3_MASK;
    const hv = (t3 ^ (HASH_TABLE[buf[cur + 3]!]! << 5)) & this.hashMask;
    let delta2 = pos - hash[h2]!;
    const delta3 = pos - hash[FIX_3_HASH_SIZE + h3]!;
    const curMatch = hash[FIX_4_HASH_SIZE + hv]!;
    hash[h2] = pos;
    hash[FIX_3_HASH_SIZE + h3] = pos;
    hash[FIX_4_HASH_SIZE + hv] = pos;

    let lenBest = 1;
    let count = 0;
    const cyc = this.cyclicSize;
    if (delta2 < cyc && buf[cur - delta2] === buf[cur]) {
      lenBest = 2;
      this.matchLen[0] = 2;
      this.matchDist[0] = delta2 - 1;
      count = 1;
    }
    if (delta2 !== delta3 && delta3 < cyc && buf[cur - delta3] === buf[cur]) {
      lenBest = 3;
      this.matchDist[count++] = delta3 - 1;
      delta2 = delta3;
    }
    if (count !== 0) {
      const p = cur - delta2;
      lenBest = matchLength(buf, this.view, p, cur, lenBest, lenLimit);
      this.matchLen[count - 1] = lenBest;
      if (lenBest === lenLimit) {
        this.son[this.cyclicPos] = curMatch;
        this.movePos();
        return count;
      }
    }
    if (lenBest < 3) lenBest = 3;
    return this.hcChain(lenLimit, pos, cur, curMatch, count, lenBest);
  }

  private hcChain(lenLimit: number, pos: number, cur: number, curMatch: number, count: number, lenBest: number): number {
    const buf = this.buf;
    const view = this.view;
    const son = this.son;
    const cyclicPos = this.cyclicPos;
    const cyclicSize = this.cyclicSize;
    const matchLen = this.matchLen;
    const matchDist = this.matchDist;
    son[cyclicPos] = curMatch;
    let depth = this.depth;
    for (;;) {
      const delta = pos - curMatch;
      if (depth-- === 0 || delta >= cyclicSize) break;
      const pb = cur - delta;
      curMatch = son[cyclicPos - delta + (delta > cyclicPos ? cyclicSize : 0)]!;
      if (buf[pb + lenBest] === buf[cur + lenBest] && buf[pb] === buf[cur]) {
        let len = 1;
        len = matchLength(buf, view, pb, cur, len, lenLimit);
        if (lenBest < len) {
          lenBest = len;
          matchLen[count] = len;
          matchDist[count] = delta - 1;
          count++;
          if (len === lenLimit) break;
        }
      }
    }
    this.movePos();
    return count;
  }

  private skipHc3(amount: number): void {
    const buf = this.buf;
    const hash = this.hash;
    do {
      if (this.writePos - this.readPos < 3) {
        this.movePending();
        continue;
      }
      const cur = this.readPos;
      const pos = cur + this.offset;
      const temp = HASH_TABLE[buf[cur]!]! ^ buf[cur + 1]!;
      const hv = (temp ^ (buf[cur + 2]! << 8)) & this.hashMask;
      const curMatch = hash[FIX_3_HASH_SIZE + hv]!;
      hash[temp & HASH_2_MASK] = pos;
      hash[FIX_3_HASH_SIZE + hv] = pos;
      this.son[this.cyclicPos] = curMatch;
      this.movePos();
    } while (--amount !== 0);
  }

  private skipHc4(amount: number): void {
    const buf = this.buf;
    const hash = this.hash;
    do {
      if (this.writePos - this.readPos < 4) {
        this.movePending();
        continue;
      }
      const cur = this.readPos;
      const pos = cur + this.offset;
      const temp = HASH_TABLE[buf[cur]!]! ^ buf[cur + 1]!;
      const t3 = temp ^ (buf[cur + 2]! << 8);
      const hv = (t3 ^ (HASH_TABLE[buf[cur + 3]!]! << 5)) & this.hashMask;
      const curMatch = hash[FIX_4_HASH_SIZE + hv]!;
      hash[temp & HASH_2_MASK] = pos;
      hash[FIX_3_HASH_SIZE + (t3 & HASH_3_MASK)] = pos;
      hash[FIX_4_HASH_SIZE + hv] = pos;
      this.son[this.cyclicPos] = curMatch;
      this.movePos();
    } while (--amount !== 0);
  }

  // ---- binary tree ------------------------------------------------------------------------------

  private findBt4(): number {
    let lenLimit = this.writePos - this.readPos;
    if (this.niceLen <= lenLimit) lenLimit = this.niceLen;
    else if (lenLimit < 4) {
      this.movePending();
      return 0;
    }
    const buf = this.buf;
    const cur = this.readPos;
    const pos = cur + this.offset;
    const hash = this.hash;
    const temp = HASH_TABLE[buf[cur]!]! ^ buf[cur + 1]!;
    const h2 = temp & HASH_2_MASK;
    const t3 = temp ^ (buf[cur + 2]! << 8);
    const h3 = t3 & HASH_3_MASK;
    const hv = (t3 ^ (HASH_TABLE[buf[cur + 3]!]! << 5)) & this.hashMask;
    let delta2 = pos - hash[h2]!;
    const delta3 = pos - hash[FIX_3_HASH_SIZE + h3]!;
    const curMatch = hash[FIX_4_HASH_SIZE + hv]!;
    hash[h2] = pos;
    hash[FIX_3_HASH_SIZE + h3] = pos;
    hash[FIX_4_HASH_SIZE + hv] = pos;

    let lenBest = 1;
    let count = 0;
    const cyc = this.cyclicSize;
    if (delta2 < cyc && buf[cur - delta2] === buf[cur]) {
      lenBest = 2;
      this.matchLen[0] = 2;
      this.matchDist[0] = delta2 - 1;
      count = 1;
    }
    if (delta2 !== delta3 && delta3 < cyc && buf[cur - delta3] === buf[cur]) {
      lenBest = 3;
      this.matchDist[count++] = delta3 - 1;
      delta2 = delta3;
    }
    if (count !== 0) {
      const p = cur - delta2;
      lenBest = matchLength(buf, this.view, p, cur, lenBest, lenLimit);
      this.matchLen[count - 1] = lenBest;
      if (lenBest === lenLimit) {
        this.btSkip(lenLimit, pos, cur, curMatch);
        this.movePos();
        return count;
      }
    }
    if (lenBest < 3) lenBest = 3;
    count = this.btFind(lenLimit, pos, cur, curMatch, count, lenBest);
    this.movePos();
    return count;
  }

  private btFind(lenLimit: number, pos: number, cur: number, curMatch: number, count: number, lenBest: number): number {
    const buf = this.buf;
    const view = this.view;
    const son = this.son;
    const cyclicPos = this.cyclicPos;
    const cyclicSize = this.cyclicSize;
    const matchLen = this.matchLen;
    const matchDist = this.matchDist;
    // ptr0 / ptr1: indexes in son of the right / left link still to be filled.
    let ptr0 = (cyclicPos << 1) + 1;
    let ptr1 = cyclicPos << 1;
    let len0 = 0;
    let len1 = 0;
    let depth = this.depth;
    for (;;) {
      const delta = pos - curMatch;
      if (depth-- === 0 || delta >= cyclicSize) {
        son[ptr0] = 0;
        son[ptr1] = 0;
        return count;
      }
      const pair = (cyclicPos - delta + (delta > cyclicPos ? cyclicSize : 0)) << 1;
      const pb = cur - delta;
      let len = len0 < len1 ? len0 : len1;
      // a, b: the first differing bytes (each byte is read once).
      let a = buf[pb + len]!;
      let b = buf[cur + len]!;
      if (a === b) {
        // Most candidates differ within a byte or two: stay bytewise until two more bytes match.
        if (++len < lenLimit && buf[pb + len] === buf[cur + len]) len = matchLength(buf, view, pb, cur, len + 1, lenLimit);
        if (lenBest < len) {
          lenBest = len;
          matchLen[count] = len;
          matchDist[count] = delta - 1;
          count++;
          if (len === lenLimit) {
            son[ptr1] = son[pair]!;
            son[ptr0] = son[pair + 1]!;
            return count;
          }
        }
        a = buf[pb + len]!;
        b = buf[cur + len]!;
      }
      if (a < b) {
        son[ptr1] = curMatch;
        ptr1 = pair + 1;
        curMatch = son[ptr1]!;
        len1 = len;
      } else {
        son[ptr0] = curMatch;
        ptr0 = pair;
        curMatch = son[ptr0]!;
        len0 = len;
      }
    }
  }

  private btSkip(lenLimit: number, pos: number, cur: number, curMatch: number): void {
    const buf = this.buf;
    const view = this.view;
    const son = this.son;
    const cyclicPos = this.cyclicPos;
    const cyclicSize = this.cyclicSize;
    let ptr0 = (cyclicPos << 1) + 1;
    let ptr1 = cyclicPos << 1;
    let len0 = 0;
    let len1 = 0;
    let depth = this.depth;
    for (;;) {
      const delta = pos - curMatch;
      if (depth-- === 0 || delta >= cyclicSize) {
        son[ptr0] = 0;
        son[ptr1] = 0;
        return;
      }
      const pair = (cyclicPos - delta + (delta > cyclicPos ? cyclicSize : 0)) << 1;
      const pb = cur - delta;
      let len = len0 < len1 ? len0 : len1;
      let a = buf[pb + len]!;
      let b = buf[cur + len]!;
      if (a === b) {
        // Most candidates differ within a byte or two: stay bytewise until two more bytes match.
        if (++len < lenLimit && buf[pb + len] === buf[cur + len]) len = matchLength(buf, view, pb, cur, len + 1, lenLimit);
        if (len === lenLimit) {
          son[ptr1] = son[pair]!;
          son[ptr0] = son[pair + 1]!;
          return;
        }
        a = buf[pb + len]!;
        b = buf[cur + len]!;
      }
      if (a < b) {
        son[ptr1] = curMatch;
        ptr1 = pair + 1;
        curMatch = son[ptr1]!;
        len1 = len;
      } else {
        son[ptr0] = curMatch;
        ptr0 = pair;
        curMatch = son[ptr0]!;
        len0 = len;
      }
    }
  }

  private skipBt4(amount: number): void {
    const buf = this.buf;
    const hash = this.hash;
    do {
      let lenLimit = this.writePos - this.readPos;
      if (this.niceLen <= lenLimit) lenLimit = this.niceLen;
      else if (lenLimit < 4) {
        this.movePending();
        continue;
      }
      const cur = this.readPos;
      const pos = cur + this.offset;
      const temp = HASH_TABLE[buf[cur]!]! ^ buf[cur + 1]!;
      const t3 = temp ^ (buf[cur + 2]! << 8);
      const hv = (t3 ^ (HASH_TABLE[buf[cur + 3]!]! << 5)) & this.hashMask;
      const curMatch = hash[FIX_4_HASH_SIZE + hv]!;
      hash[temp & HASH_2_MASK] = pos;
      hash[FIX_3_HASH_SIZE + (t3 & HASH_3_MASK)] = pos;
      hash[FIX_4_HASH_SIZE + hv] = pos;
      this.btSkip(lenLimit, pos, cur, curMatch);
      this.movePos();
    } while (--amount !== 0);
  }
}
