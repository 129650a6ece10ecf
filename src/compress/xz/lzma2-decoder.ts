/**
 * LZMA2 decoder (xz-file-format §5.3.1 and the LZMA specification): chunk headers, dictionary /
 * state / property resets, stored chunks, and the LZMA range decoder. The caller hands over whole
 * chunks (the header says the payload size, at most 64 KiB), so decoding never suspends inside a
 * symbol.
 *
 * Everything read from the input is bound-checked: a corrupt or truncated chunk throws
 * E_XZ_CORRUPT; a chunk always makes progress or fails, so there is no way to loop forever.
 */
import { invalidInput } from '../../core/errors.js';
import { LITERAL_CODER_SIZE, MATCH_LEN_MIN, RC_BIT_MODEL_TOTAL, RC_PROB_INIT, RC_TOP } from './lzma-constants.js';

const P_IS_MATCH = 0;
const P_IS_REP = 192;
const P_IS_REP0 = 204;
const P_IS_REP1 = 216;
const P_IS_REP2 = 228;
const P_IS_REP0_LONG = 240;
const P_DIST_SLOT = 432;
const P_DIST_SPECIAL = 688;
const P_DIST_ALIGN = 802;
const P_MATCH_LEN = 818;
const P_REP_LEN = 1332;
const P_LITERAL = 1846;
const LEN_LOW = 2;
const LEN_MID = 130;
const LEN_HIGH = 258;

export class Lzma2Decoder {
  private readonly probs = new Uint16Array(P_LITERAL + (LITERAL_CODER_SIZE << 4));
  private lc = 0;
  private lp = 0;
  private pb = 0;
  private state = 0;
  private rep0 = 0;
  private rep1 = 0;
  private rep2 = 0;
  private rep3 = 0;
  private needDictReset = true;
  private needProps = true;

  // Window: grows on demand up to the dictionary size, then wraps. Its size is a multiple of 16,
  // so pos mod 16 is the position since the dictionary reset mod 16 (pos_state, literal position).
  private buf: Uint8Array;
  private pos = 0;
  private full = 0;
  private outStart = 0;
  private readonly windowSize: number;
  private readonly out: Uint8Array[] = [];

  // Range decoder over the current chunk payload.
  private input: Uint8Array = new Uint8Array(0);
  private inPos = 0;
  private range = 0;
  private code = 0;

  constructor(
    dictSize: number,
    private readonly name: string,
  ) {
    this.windowSize = Math.max(4096, Math.ceil(dictSize / 16) * 16);
    this.buf = new Uint8Array(Math.min(this.windowSize, 1 << 12));
  }

  private corrupt(what: string): never {
    throw invalidInput('E_XZ_CORRUPT', `${this.name}: corrupt LZMA2 data (${what})`);
  }

  /**
   * Bytes of a chunk header after the control byte (0 for the end marker). Throws on a control
   * byte that the format does not define.
   */
  static headerRest(control: number, name: string): number {
    if (control === 0x00) return 0;
    if (control === 0x01 || control === 0x02) return 2;
    if (control >= 0x80) return control >= 0xc0 ? 5 : 4;
    throw invalidInput('E_XZ_CORRUPT', `${name}: corrupt LZMA2 data (invalid chunk control byte 0x${control.toString(16)})`);
  }

  /** Payload size of a chunk from its header (control byte first). */
  static payloadSize(header: Uint8Array): number {
    if (header[0]! < 0x80) return ((header[1]! << 8) | header[2]!) + 1;
    return ((header[3]! << 8) | header[4]!) + 1;
  }

  /** Uncompressed size of a chunk from its header. */
  static uncompressedSize(header: Uint8Array): number {
    if (header[0]! < 0x80) return ((header[1]! << 8) | header[2]!) + 1;
    return ((header[0]! & 0x1f) << 16) + (header[1]! << 8) + header[2]! + 1;
  }

  /** Decode one chunk (`header` starts with the control byte); returns its uncompressed size. */
  chunk(header: Uint8Array, payload: Uint8Array): number {
    const control = header[0]!;
    if (control === 0x01 || control === 0x02) {
      if (control === 0x01) this.dictReset();
      else if (this.needDictReset) this.corrupt('first chunk does not reset the dictionary');
      this.writeStored(payload);
      return payload.length;
    }
    const usize = Lzma2Decoder.uncompressedSize(header);
    const reset = (control >>> 5) & 3;
    if (reset === 3) this.dictReset();
    else if (this.needDictReset) this.corrupt('first chunk does not reset the dictionary');
    if (reset >= 2) {
      const props = header[5]!;
      if (props > (4 * 5 + 4) * 9 + 8) this.corrupt('invalid lc/lp/pb');
      this.pb = Math.floor(props / 45);
      this.lp = Math.floor((props % 45) / 9);
      this.lc = props % 9;
      if (this.lc + this.lp > 4) this.corrupt('lc + lp > 4');
      this.needProps = false;
    } else if (this.needProps) this.corrupt('first LZMA chunk sets no properties');
    if (reset >= 1) {
      this.state = 0;
      this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
      this.probs.fill(RC_PROB_INIT);
    }
    this.decodeLzma(payload, usize);
    return usize;
  }

  /** The bytes decoded since the last call (fresh copies). */
  take(): Uint8Array[] {
    this.flushOut();
    return this.out.splice(0);
  }

  // ---- window ---------------------------------------------------------------------------------

  private dictReset(): void {
    this.flushOut();
    this.pos = 0;
    this.outStart = 0;
    this.full = 0;
    this.needDictReset = false;
  }

  private flushOut(): void {
    if (this.pos > this.outStart) this.out.push(this.buf.slice(this.outStart, this.pos));
    this.outStart = this.pos;
  }

  /** Called when pos reached the end of buf: grow the window or wrap around. */
  private wrap(): void {
    this.flushOut();
    if (this.buf.length < this.windowSize) {
      const next = new Uint8Array(Math.min(this.windowSize, this.buf.length * 2));
      next.set(this.buf);
      this.buf = next;
    } else {
      this.pos = 0;
      this.outStart = 0;
    }
  }

  private writeStored(data: Uint8Array): void {
    let off = 0;
    while (off < data.length) {
      if (this.pos === this.buf.length) this.wrap();
      const n = Math.min(this.buf.length - this.pos, data.length - off);
      this.buf.set(data.subarray(off, off + n), this.pos);
      this.pos += n;
      off += n;
      this.full = Math.min(this.windowSize, this.full + n);
    }
  }

  // ---- range decoder --------------------------------------------------------------------------

  private bit(i: number): number {
    let range = this.range;
    let code = this.code;
    if (range >>> 24 === 0) {
      if (this.inPos >= this.input.length) this.corrupt('truncated chunk');
      range <<= 8;
      code = (code << 8) | this.input[this.inPos++]!;
    }
    const p = this.probs[i]!;
    const bound = Math.imul(range >>> 11, p);
    if ((code ^ 0x80000000) < (bound ^ 0x80000000)) {
      this.range = bound;
      this.code = code;
      this.probs[i] = p + ((RC_BIT_MODEL_TOTAL - p) >>> 5);
      return 0;
    }
    this.range = (range - bound) | 0;
    this.code = (code - bound) | 0;
    this.probs[i] = p - (p >>> 5);
    return 1;
  }

  private bittree(base: number, bits: number): number {
    let m = 1;
    for (let k = 0; k < bits; k++) m = (m << 1) | this.bit(base + m);
    return m - (1 << bits);
  }

  private reverse(base: number, bits: number): number {
    let m = 1;
    let sym = 0;
    for (let k = 0; k < bits; k++) {
      const b = this.bit(base + m);
      m = (m << 1) | b;
      sym |= b << k;
    }
    return sym;
  }

  private direct(bits: number): number {
    let result = 0;
    for (let k = 0; k < bits; k++) {
      let range = this.range;
      let code = this.code;
      if (range >>> 24 === 0) {
        if (this.inPos >= this.input.length) this.corrupt('truncated chunk');
        range <<= 8;
        code = (code << 8) | this.input[this.inPos++]!;
      }
      range = range >>> 1;
      let b = 0;
      if ((code >>> 0) >= range) {
        code = (code - range) | 0;
        b = 1;
      }
      this.range = range;
      this.code = code;
      result = result * 2 + b;
    }
    return result;
  }

  private length(base: number, posState: number): number {
    if (this.bit(base) === 0) return MATCH_LEN_MIN + this.bittree(base + LEN_LOW + posState * 8, 3);
    if (this.bit(base + 1) === 0) return MATCH_LEN_MIN + 8 + this.bittree(base + LEN_MID + posState * 8, 3);
    return MATCH_LEN_MIN + 16 + this.bittree(base + LEN_HIGH, 8);
  }

  private distance(len: number): number {
    const distState = len < 6 ? len - 2 : 3;
    const slot = this.bittree(P_DIST_SLOT + distState * 64, 6);
    if (slot < 4) return slot;
    const footerBits = (slot >>> 1) - 1;
    const base = (2 | (slot & 1)) * 2 ** footerBits;
    if (slot < 14) return base + this.reverse(P_DIST_SPECIAL + base - slot - 1, footerBits);
    return base + this.direct(footerBits - 4) * 16 + this.reverse(P_DIST_ALIGN, 4);
  }

  // ---- LZMA -----------------------------------------------------------------------------------

  private decodeLzma(input: Uint8Array, usize: number): void {
    if (input.length < 5 || input[0] !== 0) this.corrupt('bad range coder start');
    this.input = input;
    this.inPos = 5;
    this.range = -1; // 0xFFFFFFFF as int32: the coder state is kept in int32 registers
    this.code = (input[1]! << 24) | (input[2]! << 16) | (input[3]! << 8) | input[4]!;

    const probs = this.probs;
    const lc = this.lc;
    const lpMask = (1 << this.lp) - 1;
    const pbMask = (1 << this.pb) - 1;
    const windowSize = this.windowSize;
    let state = this.state;
    let remaining = usize;

    const input2 = input;
    const inEnd = input.length;
    while (remaining > 0) {
      if (this.pos === this.buf.length) this.wrap();
      const buf = this.buf;
      let pos = this.pos;
      const posState = pos & pbMask;
      // The hot path (is_match bit and literals) keeps the range decoder in locals.
      let range = this.range;
      let code = this.code;
      let inPos = this.inPos;
      if (range >>> 24 === 0) {
        if (inPos >= inEnd) this.corrupt('truncated chunk');
        range <<= 8;
        code = (code << 8) | input2[inPos++]!;
      }
      let pi = P_IS_MATCH + state * 16 + posState;
      let p = probs[pi]!;
      let bound = Math.imul(range >>> 11, p);
      if ((code ^ 0x80000000) < (bound ^ 0x80000000)) {
        range = bound;
        probs[pi] = p + ((RC_BIT_MODEL_TOTAL - p) >>> 5);
        const full = this.full;
        const prev = full === 0 ? 0 : buf[pos > 0 ? pos - 1 : buf.length - 1]!;
        const base = P_LITERAL + LITERAL_CODER_SIZE * (((pos & lpMask) << lc) + (prev >>> (8 - lc)));
        let symbol = 1;
        if (state < 7) {
          do {
            if (range >>> 24 === 0) {
              if (inPos >= inEnd) this.corrupt('truncated chunk');
              range <<= 8;
              code = (code << 8) | input2[inPos++]!;
            }
            pi = base + symbol;
            p = probs[pi]!;
            bound = Math.imul(range >>> 11, p);
            if ((code ^ 0x80000000) < (bound ^ 0x80000000)) {
              range = bound;
              probs[pi] = p + ((RC_BIT_MODEL_TOTAL - p) >>> 5);
              symbol <<= 1;
            } else {
              range = (range - bound) | 0;
              code = (code - bound) | 0;
              probs[pi] = p - (p >>> 5);
              symbol = (symbol << 1) | 1;
            }
          } while (symbol < 0x100);
        } else {
          if (this.rep0 >= full) this.corrupt('match distance beyond the dictionary');
          let src = pos - this.rep0 - 1;
          if (src < 0) src += buf.length;
          let matchByte = buf[src]!;
          let offset = 0x100;
          do {
            matchByte <<= 1;
            const matchBit = matchByte & offset;
            if (range >>> 24 === 0) {
              if (inPos >= inEnd) this.corrupt('truncated chunk');
              range <<= 8;
              code = (code << 8) | input2[inPos++]!;
            }
            pi = base + offset + matchBit + symbol;
            p = probs[pi]!;
            bound = Math.imul(range >>> 11, p);
            if ((code ^ 0x80000000) < (bound ^ 0x80000000)) {
              range = bound;
              probs[pi] = p + ((RC_BIT_MODEL_TOTAL - p) >>> 5);
              symbol <<= 1;
              offset &= ~matchBit;
            } else {
              range = (range - bound) | 0;
              code = (code - bound) | 0;
              probs[pi] = p - (p >>> 5);
              symbol = (symbol << 1) | 1;
              offset &= matchBit;
            }
          } while (symbol < 0x100);
        }
        this.range = range;
        this.code = code;
        this.inPos = inPos;
        buf[pos++] = symbol;
        this.pos = pos;
        if (full < windowSize) this.full = full + 1;
        remaining--;
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }
      this.range = (range - bound) | 0;
      this.code = (code - bound) | 0;
      this.inPos = inPos;
      probs[pi] = p - (p >>> 5);
      let len: number;
      if (this.bit(P_IS_REP + state) === 0) {
        len = this.length(P_MATCH_LEN, posState);
        state = state < 7 ? 7 : 10;
        const dist = this.distance(len);
        if (dist === 0xffffffff) this.corrupt('end marker inside LZMA2');
        this.rep3 = this.rep2;
        this.rep2 = this.rep1;
        this.rep1 = this.rep0;
        this.rep0 = dist;
      } else {
        if (this.bit(P_IS_REP0 + state) === 0) {
          if (this.bit(P_IS_REP0_LONG + state * 16 + posState) === 0) {
            // Short rep: one byte from distance rep0.
            if (this.rep0 >= this.full) this.corrupt('match distance beyond the dictionary');
            let src = this.pos - this.rep0 - 1;
            if (src < 0) src += buf.length;
            buf[this.pos++] = buf[src]!;
            if (this.full < windowSize) this.full++;
            remaining--;
            state = state < 7 ? 9 : 11;
            continue;
          }
        } else {
          let dist: number;
          if (this.bit(P_IS_REP1 + state) === 0) {
            dist = this.rep1;
          } else {
            if (this.bit(P_IS_REP2 + state) === 0) {
              dist = this.rep2;
            } else {
              dist = this.rep3;
              this.rep3 = this.rep2;
            }
            this.rep2 = this.rep1;
          }
          this.rep1 = this.rep0;
          this.rep0 = dist;
        }
        len = this.length(P_REP_LEN, posState);
        state = state < 7 ? 8 : 11;
      }
      const rep0 = this.rep0;
      if (rep0 >= this.full) this.corrupt('match distance beyond the dictionary');
      if (len > remaining) this.corrupt('match runs past the chunk size');
      remaining -= len;
      this.full = Math.min(windowSize, this.full + len);
      let b = this.buf;
      let src = this.pos - rep0 - 1;
      if (src < 0) src += b.length;
      pos = this.pos;
      while (len > 0) {
        if (pos === b.length) {
          this.pos = pos;
          this.wrap();
          // After growing, the source may have been in the old (copied) buffer: still valid.
          b = this.buf;
          pos = this.pos;
          src = pos - rep0 - 1;
          if (src < 0) src += b.length;
        }
        let n = Math.min(len, b.length - pos);
        if (src + n > b.length) n = b.length - src;
        if (rep0 + 1 >= n) {
          b.copyWithin(pos, src, src + n);
          pos += n;
          src += n;
        } else {
          for (let k = 0; k < n; k++) b[pos++] = b[src++]!;
        }
        if (src === b.length) src = 0;
        len -= n;
      }
      this.pos = pos;
    }
    this.state = state;
    // The chunk must end exactly at its compressed size, with the range decoder drained.
    if (this.range >>> 24 === 0) {
      if (this.inPos >= this.input.length) this.corrupt('truncated chunk');
      this.range <<= 8;
      this.code = (this.code << 8) | this.input[this.inPos++]!;
    }
    if (this.inPos !== input.length || this.code !== 0) this.corrupt('chunk size does not match its data');
    this.input = new Uint8Array(0);
  }
}
