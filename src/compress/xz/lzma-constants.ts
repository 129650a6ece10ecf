/**
 * Constants of the LZMA / LZMA2 formats (xz-file-format §5.3.1, the LZMA SDK's lzma-specification)
 * and of the liblzma encoder whose parameters we reproduce (OPTS, chunk limits, price shifts).
 */

export const STATES = 12;
export const LIT_STATES = 7;
export const POS_STATES_MAX = 16;
export const REPS = 4;

export const MATCH_LEN_MIN = 2;
export const LEN_LOW_SYMBOLS = 8;
export const LEN_MID_SYMBOLS = 8;
export const LEN_HIGH_SYMBOLS = 256;
export const LEN_SYMBOLS = LEN_LOW_SYMBOLS + LEN_MID_SYMBOLS + LEN_HIGH_SYMBOLS;
export const MATCH_LEN_MAX = MATCH_LEN_MIN + LEN_SYMBOLS - 1; // 273

export const DIST_STATES = 4;
export const DIST_SLOTS = 64;
export const DIST_MODEL_START = 4;
export const DIST_MODEL_END = 14;
export const FULL_DISTANCES = 128;
export const ALIGN_BITS = 4;
export const ALIGN_SIZE = 16;
export const ALIGN_MASK = 15;

export const LITERAL_CODER_SIZE = 0x300;

/** Range coder. */
export const RC_TOP = 1 << 24;
export const RC_BIT_MODEL_TOTAL = 1 << 11;
export const RC_MOVE_BITS = 5;
export const RC_PROB_INIT = RC_BIT_MODEL_TOTAL >>> 1;
export const RC_INFINITY_PRICE = 1 << 30;

/** Number of entries in the optimal-parsing array of the normal-mode encoder. */
export const OPTS = 1 << 12;
/** Most input one encoder iteration can consume (liblzma LOOP_INPUT_MAX). */
export const LOOP_INPUT_MAX = OPTS + 1;

/** LZMA2 chunk limits (xz-file-format §5.3.1 / liblzma lzma2_encoder.h). */
export const LZMA2_CHUNK_MAX = 1 << 16; // compressed bytes of one chunk
export const LZMA2_UNCOMPRESSED_MAX = 1 << 21; // uncompressed bytes of one LZMA chunk
export const LZMA2_HEADER_MAX = 6;
export const LZMA2_HEADER_UNCOMPRESSED = 3;

export const DICT_SIZE_MIN = 4096;

/** State transitions (literal / match / long rep / short rep). */
export function stateAfterLiteral(s: number): number {
  return s < 4 ? 0 : s < 10 ? s - 3 : s - 6;
}
export function stateAfterMatch(s: number): number {
  return s < LIT_STATES ? 7 : 10;
}
export function stateAfterLongRep(s: number): number {
  return s < LIT_STATES ? 8 : 11;
}
export function stateAfterShortRep(s: number): number {
  return s < LIT_STATES ? 9 : 11;
}

/** Distance slot of a zero-based match distance: 2·⌊log2 d⌋ + the next bit (d ≥ 4), else d. */
export function distSlot(dist: number): number {
  if (dist < 4) return dist;
  const i = 31 - Math.clz32(dist);
  return (i << 1) | ((dist >>> (i - 1)) & 1);
}

/**
 * Bit price table: the cost of coding a bit with probability p/2048 in 1/16 bit units, sampled in
 * steps of 16 (the same table every LZMA encoder derived from the SDK uses, so that price-driven
 * decisions are identical).
 */
export const RC_PRICES = (() => {
  const t = new Uint8Array(RC_BIT_MODEL_TOTAL >>> 4);
  for (let i = 8; i < RC_BIT_MODEL_TOTAL; i += 16) {
    let w = i;
    let bitCount = 0;
    for (let j = 0; j < 4; j++) {
      w = w * w;
      bitCount <<= 1;
      while (w >= 1 << 16) {
        w >>>= 1;
        bitCount++;
      }
    }
    t[i >>> 4] = (11 << 4) - 15 - bitCount;
  }
  return t;
})();

/** The CRC32 table the liblzma match finders hash with (polynomial 0xEDB88320). */
export const HASH_TABLE = (() => {
  const t = new Int32Array(256);
  for (let b = 0; b < 256; b++) {
    let r = b;
    for (let k = 0; k < 8; k++) r = r & 1 ? (r >>> 1) ^ 0xedb88320 : r >>> 1;
    t[b] = r;
  }
  return t;
})();
