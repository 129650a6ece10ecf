/**
 * xz presets 0–9 and the extreme flag, as liblzma defines them (lzma_lzma_preset; xz(1) "Custom
 * compressor filter chains" table). The parameters decide the encoder's bytes, so they are part of
 * the output format for anyone comparing with `xz -N[e]`.
 */
import { invalidInput, unsupported } from '../../core/errors.js';
import { DICT_SIZE_MIN, MATCH_LEN_MAX } from './lzma-constants.js';

/** Match finders: hash chains with 3 or 4 hashed bytes, binary tree with 4. */
export type MatchFinderKind = 'hc3' | 'hc4' | 'bt4';

export interface LzmaOptions {
  dictSize: number;
  lc: number;
  lp: number;
  pb: number;
  /** 'fast' = greedy-with-lookahead parser (presets 0–3); 'normal' = price-based optimal parser. */
  mode: 'fast' | 'normal';
  niceLen: number;
  mf: MatchFinderKind;
  /** Match finder search depth; 0 = automatic (liblzma: bt 16 + nice/2, hc 4 + nice/4). */
  depth: number;
}

const DICT_POW2 = [18, 20, 21, 22, 22, 23, 23, 24, 25, 26];

/** Largest dictionary our encoder accepts (preset 9 uses 64 MiB). */
export const MAX_ENCODER_DICT = 256 << 20;
const FAST_DEPTHS = [4, 8, 24, 48];

/** The LZMA2 options of `xz -<preset>[e]`. */
export function lzmaPreset(preset: number, extreme = false): LzmaOptions {
  if (!Number.isInteger(preset) || preset < 0 || preset > 9) {
    throw invalidInput('E_XZ_PRESET', `xz preset must be an integer 0–9, got ${preset}`);
  }
  const o: LzmaOptions = {
    dictSize: 2 ** DICT_POW2[preset]!,
    lc: 3,
    lp: 0,
    pb: 2,
    mode: preset <= 3 ? 'fast' : 'normal',
    niceLen: preset <= 1 ? 128 : preset <= 3 ? 273 : preset === 4 ? 16 : preset === 5 ? 32 : 64,
    mf: preset === 0 ? 'hc3' : preset <= 3 ? 'hc4' : 'bt4',
    depth: preset <= 3 ? FAST_DEPTHS[preset]! : 0,
  };
  if (extreme) {
    o.mode = 'normal';
    o.mf = 'bt4';
    if (preset === 3 || preset === 5) {
      o.niceLen = 192;
      o.depth = 0;
    } else {
      o.niceLen = 273;
      o.depth = 512;
    }
  }
  return o;
}

/** Validate options given by a caller (not from a preset). */
export function validateLzmaOptions(o: LzmaOptions): void {
  const bad = (what: string) => {
    throw invalidInput('E_XZ_OPTIONS', `invalid LZMA2 options: ${what}`);
  };
  if (!Number.isInteger(o.dictSize) || o.dictSize < DICT_SIZE_MIN || o.dictSize > 1536 * 1024 * 1024) bad(`dictSize ${o.dictSize}`);
  if (o.dictSize > MAX_ENCODER_DICT) {
    throw unsupported('E_XZ_DICT_TOO_LARGE', `xz encoder dictionary of ${o.dictSize} bytes is above our limit of ${MAX_ENCODER_DICT} (the match finder needs ~10 bytes per dictionary byte)`);
  }
  if (!Number.isInteger(o.lc) || !Number.isInteger(o.lp) || o.lc < 0 || o.lp < 0 || o.lc + o.lp > 4) bad(`lc=${o.lc} lp=${o.lp} (lc + lp ≤ 4)`);
  if (!Number.isInteger(o.pb) || o.pb < 0 || o.pb > 4) bad(`pb=${o.pb}`);
  if (!Number.isInteger(o.niceLen) || o.niceLen < 2 || o.niceLen > MATCH_LEN_MAX) bad(`niceLen ${o.niceLen}`);
  if (!Number.isInteger(o.depth) || o.depth < 0) bad(`depth ${o.depth}`);
  if (o.mode !== 'fast' && o.mode !== 'normal') bad(`mode ${String(o.mode)}`);
  if (o.mf !== 'hc3' && o.mf !== 'hc4' && o.mf !== 'bt4') bad(`match finder ${String(o.mf)}`);
}

/** Block size `xz -T0` uses for a filter chain (liblzma lzma_lzma2_block_size): 3 × dict, ≥ 1 MiB. */
export function mtBlockSize(dictSize: number): number {
  return Math.max(dictSize * 3, 1 << 20);
}

/** The LZMA2 filter property byte for a dictionary size (xz-file-format §5.3.1): rounds up. */
export function lzma2DictByte(dictSize: number): number {
  let d = Math.max(dictSize, DICT_SIZE_MIN) - 1;
  d |= d >>> 2;
  d |= d >>> 3;
  d |= d >>> 4;
  d |= d >>> 8;
  d |= d >>> 16;
  d = d >>> 0;
  if (d === 0xffffffff) return 40;
  // d + 1 is 2^n or 3·2^(n-1); its distance slot minus 24 is the encoded value.
  const v = d + 1;
  const i = 31 - Math.clz32(v);
  return ((i << 1) | ((v >>> (i - 1)) & 1)) - 24;
}

/** Dictionary size a property byte stands for. */
export function lzma2DictSizeFromByte(b: number): number {
  if (b > 40) throw invalidInput('E_XZ_CORRUPT', `LZMA2 dictionary property ${b} is out of range`);
  if (b === 40) return 0xffffffff;
  return (2 | (b & 1)) * 2 ** ((b >>> 1) + 11);
}
