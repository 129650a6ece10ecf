/**
 * Worker entry for xz block tasks (message contract: ../worker-protocol.ts).
 *
 *   { op: 'block', data, lzma, check, style } → EncodedBlock (its bytes are transferred back)
 *
 * A worker keeps one block encoder per option set, so its match-finder tables are allocated once.
 */
import { serveWorker, withTransfer } from '../worker-protocol.js';
import { XzBlockEncoder, type BlockHeaderStyle, type EncodedBlock } from './block-encoder.js';
import type { XzCheck } from './check.js';
import type { LzmaOptions } from './presets.js';
import { xzEncodeSingleBlock, type XzSingleBlockOptions } from './single-block.js';

export interface XzBlockTask {
  op: 'block';
  data: Uint8Array;
  lzma: LzmaOptions;
  check: XzCheck;
  style: BlockHeaderStyle;
}

/** A whole single-block .xz stream (squashfs blocks); null when it exceeds `outLimit`. */
export interface XzSingleBlockTask {
  op: 'single';
  data: Uint8Array;
  opts: XzSingleBlockOptions;
}

export type XzTask = XzBlockTask | XzSingleBlockTask;

const encoders = new Map<string, XzBlockEncoder>();

function encoderFor(lzma: LzmaOptions, check: XzCheck): XzBlockEncoder {
  const key = JSON.stringify([lzma, check]);
  let e = encoders.get(key);
  if (!e) {
    if (encoders.size >= 4) encoders.clear();
    e = new XzBlockEncoder(lzma, check);
    encoders.set(key, e);
  }
  return e;
}

serveWorker((m: XzTask) => {
  switch (m.op) {
    case 'block': {
      const block: EncodedBlock = encoderFor(m.lzma, m.check).encode(m.data, m.style);
      return withTransfer(block, [block.bytes.buffer as ArrayBuffer]);
    }
    case 'single': {
      const out = xzEncodeSingleBlock(m.data, m.opts);
      return out ? withTransfer(out, [out.buffer as ArrayBuffer]) : null;
    }
    default:
      throw new Error(`unknown xz task ${String((m as { op: unknown }).op)}`);
  }
});
