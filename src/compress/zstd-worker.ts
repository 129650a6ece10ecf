/**
 * Worker entry for zstd tasks (see worker-protocol.ts for the message contract).
 *
 *   { op: 'frame', data, level }    → one complete frame (`ZSTD_compress`), e.g. a squashfs block
 *   { op: 'segment', data, level }  → a frame plus what zstd-splice.ts needs to join it into a
 *                                     single frame with its neighbours (`SegmentFrame`)
 */
import { withTransfer, serveWorker } from './worker-protocol.js';
import { zstdCompressFrame } from './zstd-wasm.js';
import { analyzeSegmentFrame } from './zstd-splice.js';

export type ZstdTask =
  | { op: 'frame'; data: Uint8Array; level: number }
  | { op: 'segment'; data: Uint8Array; level: number };

serveWorker(async (m: ZstdTask) => {
  switch (m.op) {
    case 'frame': {
      const frame = await zstdCompressFrame(m.data, m.level);
      return withTransfer(frame, [frame.buffer as ArrayBuffer]);
    }
    case 'segment': {
      const frame = await zstdCompressFrame(m.data, m.level);
      const seg = analyzeSegmentFrame(frame, m.data.length);
      return withTransfer(seg, [frame.buffer as ArrayBuffer]);
    }
    default:
      throw new Error(`unknown zstd task ${(m as { op: string }).op}`);
  }
});
