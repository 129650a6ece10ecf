/**
 * Single-threaded one-shot .xz encoding: the same bytes as the parallel encoder (blocks are
 * independent), used for small inputs, for tests and where no worker may be started.
 */
import { XzBlockEncoder, type EncodedBlock } from './block-encoder.js';
import { encodeIndex, streamFooter, streamHeader, type IndexRecord } from './container.js';
import { resolveXzOptions, type XzEncodeOptions } from './options.js';
import { zeroBlock, isAllZero } from './zero-block.js';

/** Encode `input` as an .xz stream of independent blocks, as `xz -T0` does. */
export function xzEncodeSync(input: Uint8Array, opts: XzEncodeOptions = {}): Uint8Array {
  const r = resolveXzOptions(opts);
  const encoder = new XzBlockEncoder(r.lzma, r.check);
  const parts: Uint8Array[] = [streamHeader(r.check)];
  const records: IndexRecord[] = [];
  for (let off = 0; off < input.length; off += r.blockSize) {
    const chunk = input.subarray(off, Math.min(input.length, off + r.blockSize));
    const block: EncodedBlock = isAllZero(chunk)
      ? zeroBlock(r, chunk.length)
      : encoder.encode(chunk, { kind: 'mt', blockSize: r.blockSize });
    parts.push(block.bytes);
    records.push({ unpaddedSize: block.unpaddedSize, uncompressedSize: block.uncompressedSize });
  }
  const index = encodeIndex(records);
  parts.push(index, streamFooter(r.check, index.length));
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
