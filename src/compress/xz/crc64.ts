/**
 * CRC-64/XZ (ECMA-182 polynomial, reflected: 0xC96C5795D7870F42, init and xorout all ones), the
 * check type 0x04 of the .xz format (xz-file-format §3.4). Table-driven, slicing by 4, with the
 * 64-bit state held as two 32-bit halves so the hot loop stays in small integers.
 */

const POLY_LO = 0xd7870f42;
const POLY_HI = 0xc96c5795;

/** tables[k][b] (lo and hi halves) = CRC of byte b followed by k zero bytes. */
const TAB_LO = new Int32Array(4 * 256);
const TAB_HI = new Int32Array(4 * 256);

for (let b = 0; b < 256; b++) {
  let lo = b;
  let hi = 0;
  for (let k = 0; k < 8; k++) {
    const odd = lo & 1;
    lo = (lo >>> 1) | (hi << 31);
    hi = hi >>> 1;
    if (odd) {
      lo ^= POLY_LO;
      hi ^= POLY_HI;
    }
  }
  TAB_LO[b] = lo;
  TAB_HI[b] = hi;
}
for (let t = 1; t < 4; t++) {
  for (let b = 0; b < 256; b++) {
    const plo = TAB_LO[(t - 1) * 256 + b]!;
    const phi = TAB_HI[(t - 1) * 256 + b]!;
    const i = plo & 0xff;
    TAB_LO[t * 256 + b] = ((plo >>> 8) | (phi << 24)) ^ TAB_LO[i]!;
    TAB_HI[t * 256 + b] = (phi >>> 8) ^ TAB_HI[i]!;
  }
}

/** Incremental CRC-64/XZ. */
export class Crc64 {
  private lo = -1;
  private hi = -1;

  update(data: Uint8Array): this {
    let lo = this.lo;
    let hi = this.hi;
    const n = data.length;
    let i = 0;
    const end4 = n - 3;
    for (; i < end4; i += 4) {
      const x = lo ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
      // Four bytes consumed: the low word is fully folded, the high word shifts down by 32 bits.
      const nlo =
        hi ^
        TAB_LO[768 + (x & 0xff)]! ^
        TAB_LO[512 + ((x >>> 8) & 0xff)]! ^
        TAB_LO[256 + ((x >>> 16) & 0xff)]! ^
        TAB_LO[x >>> 24]!;
      const nhi =
        TAB_HI[768 + (x & 0xff)]! ^ TAB_HI[512 + ((x >>> 8) & 0xff)]! ^ TAB_HI[256 + ((x >>> 16) & 0xff)]! ^ TAB_HI[x >>> 24]!;
      lo = nlo;
      hi = nhi;
    }
    for (; i < n; i++) {
      const idx = (lo ^ data[i]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ TAB_LO[idx]!;
      hi = (hi >>> 8) ^ TAB_HI[idx]!;
    }
    this.lo = lo;
    this.hi = hi;
    return this;
  }

  /** The 8-byte little-endian check field. */
  digest(): Uint8Array {
    const out = new Uint8Array(8);
    const lo = ~this.lo;
    const hi = ~this.hi;
    out[0] = lo;
    out[1] = lo >>> 8;
    out[2] = lo >>> 16;
    out[3] = lo >>> 24;
    out[4] = hi;
    out[5] = hi >>> 8;
    out[6] = hi >>> 16;
    out[7] = hi >>> 24;
    return out;
  }

  /** The CRC as a bigint (tests, diagnostics). */
  value(): bigint {
    return (BigInt((~this.hi) >>> 0) << 32n) | BigInt((~this.lo) >>> 0);
  }
}

export function crc64(data: Uint8Array): bigint {
  return new Crc64().update(data).value();
}
