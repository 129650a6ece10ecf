/**
 * One .xz block: header + LZMA2 data + padding + check (xz-file-format §3).
 *
 * Three header conventions exist in practice and each decides bytes:
 *  - 'mt': what `xz -T0` writes. Header room is reserved for the sizes of a *full* block
 *    (compressed = worst-case bound of a full block), the real sizes are written after encoding and
 *    the rest of the reserved room is header padding; a block that would outgrow that bound is
 *    re-encoded as stored LZMA2 chunks with the minimum dictionary.
 *  - 'buffer': liblzma's single-call block encoder (`lzma_stream_buffer_encode`, as mksquashfs
 *    uses it): sizes of this block in the header; LZMA2 data larger than the stored-chunk bound is
 *    replaced by stored chunks.
 *  - 'none': no sizes in the header (what `xz -T1` writes); used by the streaming single-block mode.
 */
import { ByteSink } from './byte-sink.js';
import { CheckState, checkSize, type XzCheck } from './check.js';
import { blockHeaderSize, encodeBlockHeader, padTo4, type IndexRecord } from './container.js';
import { LZMA2_CHUNK_MAX } from './lzma-constants.js';
import { Lzma2Encoder, lzma2UncompressedBound } from './lzma2-encoder.js';
import { lzma2DictByte, type LzmaOptions } from './presets.js';

/** Worst-case size of a whole block of `size` input bytes (liblzma lzma_block_buffer_bound64). */
export function blockBufferBound(size: number): number {
  const headersBound = 92; // (1 + 1 + 2·9 + 3 + 4 + 64 + 3) & ~3
  const lzma2 = lzma2UncompressedBound(size);
  return headersBound + ((lzma2 + 3) & ~3);
}

export type BlockHeaderStyle = { kind: 'mt'; blockSize: number } | { kind: 'buffer' } | { kind: 'none' };

export interface EncodedBlock extends IndexRecord {
  /** The complete block: header, data, padding, check. */
  bytes: Uint8Array;
}

/** Write `input` as stored LZMA2 chunks (first one resets the dictionary) plus the end marker. */
function storedLzma2(input: Uint8Array, out: ByteSink): void {
  out.ensure(lzma2UncompressedBound(input.length));
  const o = out.buf;
  let p = out.pos;
  let control = 0x01;
  for (let i = 0; i < input.length; i += LZMA2_CHUNK_MAX) {
    const n = Math.min(LZMA2_CHUNK_MAX, input.length - i);
    o[p++] = control;
    control = 0x02;
    o[p++] = (n - 1) >>> 8;
    o[p++] = (n - 1) & 0xff;
    o.set(input.subarray(i, i + n), p);
    p += n;
  }
  o[p++] = 0x00;
  out.pos = p;
}

/** Encodes blocks with one set of options; reuses its match-finder tables between blocks. */
export class XzBlockEncoder {
  private readonly lzma2: Lzma2Encoder;
  private readonly dictByte: number;
  private readonly sink = new ByteSink(1 << 16);

  constructor(
    readonly options: LzmaOptions,
    readonly check: XzCheck,
  ) {
    this.lzma2 = new Lzma2Encoder(options);
    this.dictByte = lzma2DictByte(options.dictSize);
  }

  /** Encode one block. The returned bytes are a fresh copy (safe to transfer). */
  encode(input: Uint8Array, style: BlockHeaderStyle): EncodedBlock {
    const csize = checkSize(this.check);
    let headerSize: number;
    if (style.kind === 'mt') {
      headerSize = blockHeaderSize({
        dictByte: this.dictByte,
        compressedSize: blockBufferBound(style.blockSize),
        uncompressedSize: style.blockSize,
      });
    } else if (style.kind === 'buffer') {
      headerSize = blockHeaderSize({
        dictByte: this.dictByte,
        compressedSize: lzma2UncompressedBound(input.length),
        uncompressedSize: input.length,
      });
    } else {
      headerSize = blockHeaderSize({ dictByte: this.dictByte });
    }

    const sink = this.sink;
    sink.pos = 0;
    this.lzma2.encode(input, sink);
    let data = sink.view();

    let stored = false;
    if (style.kind === 'mt') {
      stored = headerSize + data.length + padTo4(data.length) + csize > blockBufferBound(style.blockSize);
    } else if (style.kind === 'buffer') {
      stored = data.length > lzma2UncompressedBound(input.length);
    }
    let dictByte = this.dictByte;
    if (stored) {
      sink.pos = 0;
      storedLzma2(input, sink);
      data = sink.view();
      dictByte = 0; // 4 KiB, the minimum: stored chunks need no dictionary
      headerSize = blockHeaderSize({
        dictByte,
        compressedSize: lzma2UncompressedBound(input.length),
        uncompressedSize: input.length,
      });
    }

    const header = encodeBlockHeader(
      style.kind === 'none' ? { dictByte } : { dictByte, compressedSize: data.length, uncompressedSize: input.length },
      headerSize,
    );
    const check = new CheckState(this.check);
    check.update(input);
    const digest = check.digest();
    const pad = padTo4(data.length);
    const bytes = new Uint8Array(headerSize + data.length + pad + csize);
    bytes.set(header, 0);
    bytes.set(data, headerSize);
    bytes.set(digest, headerSize + data.length + pad);
    return { bytes, unpaddedSize: headerSize + data.length + csize, uncompressedSize: input.length };
  }
}
