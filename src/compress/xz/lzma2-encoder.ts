/**
 * LZMA2 (xz-file-format §5.3.1): the LZMA stream cut into chunks of at most 2 MiB uncompressed /
 * 64 KiB compressed, each with a control byte saying whether it resets the dictionary, the state
 * or the properties; a chunk that does not shrink is stored uncompressed (which forces a state
 * reset for the next LZMA chunk). The chunking rules are liblzma's, so chunk boundaries (and the
 * bytes) match `xz`.
 */
import { ByteSink } from './byte-sink.js';
import {
  LZMA2_CHUNK_MAX,
  LZMA2_UNCOMPRESSED_MAX,
  MATCH_LEN_MAX,
} from './lzma-constants.js';
import { LzmaEncoder } from './lzma-encoder.js';
import type { LzmaOptions } from './presets.js';

export class Lzma2Encoder {
  readonly lzma: LzmaEncoder;
  private readonly propsByte: number;

  constructor(readonly options: LzmaOptions) {
    this.lzma = new LzmaEncoder(options);
    this.propsByte = (options.pb * 5 + options.lp) * 9 + options.lc;
  }

  /** Encode `input` as one complete LZMA2 stream (with its end marker) appended to `out`. */
  encode(input: Uint8Array, out: ByteSink): void {
    const lzma = this.lzma;
    const mf = lzma.mf;
    lzma.begin(input);
    let needProperties = true;
    let needStateReset = false;
    let needDictReset = true;
    const buf = mf.buf;
    for (;;) {
      if (mf.unencoded() === 0) {
        out.byte(0x00);
        return;
      }
      if (needStateReset) lzma.reset();
      lzma.outPos = 0;
      const readStart = mf.readPos - mf.readAhead;
      // The chunk may grow to 2 MiB uncompressed; stop early enough for the longest match.
      const limit = readStart + LZMA2_UNCOMPRESSED_MAX - MATCH_LEN_MAX;
      lzma.encodeChunk(limit);
      let uncompressed = mf.readPos - mf.readAhead - readStart;
      const compressed = lzma.outPos;
      if (compressed >= uncompressed) {
        // Store the chunk; it also takes the bytes the parser had looked ahead at. Our LZMA
        // position advances past them too, as a decoder's does (liblzma leaves its position
        // counter behind by that read-ahead; on every input we compared the bytes are the same).
        uncompressed += mf.readAhead;
        if (uncompressed > LZMA2_CHUNK_MAX) throw new Error('internal: stored LZMA2 chunk larger than 64 KiB');
        lzma.uncompSize += mf.readAhead;
        mf.readAhead = 0;
        out.ensure(3 + uncompressed);
        const o = out.buf;
        let p = out.pos;
        o[p++] = needDictReset ? 1 : 2;
        o[p++] = (uncompressed - 1) >>> 8;
        o[p++] = (uncompressed - 1) & 0xff;
        o.set(buf.subarray(mf.readPos - uncompressed, mf.readPos), p);
        out.pos = p + uncompressed;
        needDictReset = false;
        needStateReset = true;
        continue;
      }
      out.ensure(6 + compressed);
      const o = out.buf;
      let p = out.pos;
      const u = uncompressed - 1;
      const c = compressed - 1;
      o[p++] = (needProperties ? (needDictReset ? 0xe0 : 0xc0) : needStateReset ? 0xa0 : 0x80) + (u >>> 16);
      o[p++] = (u >>> 8) & 0xff;
      o[p++] = u & 0xff;
      o[p++] = c >>> 8;
      o[p++] = c & 0xff;
      if (needProperties) o[p++] = this.propsByte;
      o.set(lzma.out.subarray(0, compressed), p);
      out.pos = p + compressed;
      needProperties = false;
      needStateReset = false;
      needDictReset = false;
    }
  }
}

/** Upper bound of an LZMA2 stream made only of uncompressed chunks (liblzma lzma2_bound). */
export function lzma2UncompressedBound(size: number): number {
  return size + Math.ceil(size / LZMA2_CHUNK_MAX) * 3 + 1;
}
