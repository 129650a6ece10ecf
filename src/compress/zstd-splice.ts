/**
 * Join independently compressed zstd frames into ONE frame, so that segments can be compressed in
 * parallel and still give a single-frame stream.
 *
 * Why: the Linux initramfs unpacker stops at the end of the first zstd frame and then requires a
 * complete cpio archive ("junk at the end of compressed archive" otherwise; measured with the
 * Debian 6.1 kernel, see bench/README.md `## compress`), so a multi-frame stream only works when
 * each frame ends exactly at a cpio TRAILER. One frame has no such constraint.
 *
 * How (RFC 8878): a frame's blocks depend on earlier blocks of the same frame through (1) the window
 * of decoded bytes, (2) the Huffman table (Treeless literals), (3) the FSE tables (Repeat_Mode) and
 * (4) the three repeat offsets. A segment compressed as its own frame never reaches back before its
 * own start (1) and never uses a table it did not define itself (2, 3), so its blocks stay valid
 * after other blocks, provided the combined window is at least the segment's window. Only (4)
 * differs: the segment's encoder assumed the initial offsets {1, 4, 8}, while the decoder arrives
 * with the previous segment's final offsets. So the leading compressed blocks of each segment are
 * decoded to their actual offsets and re-encoded with offset values that give the same offsets
 * under the real history, until both histories agree (usually within the first block). When a new
 * offset code has no state in the block's offset table, that block switches its offset table to
 * the predefined one, and the following blocks that said "repeat the offset table" get the original
 * table written out explicitly. Literals and all other symbols are copied unchanged, so the
 * decoded content is identical by construction; tests check every join with the reference decoder.
 */
import { assembly } from '../core/errors.js';
import {
  applyOffset,
  BLOCK_COMPRESSED,
  blockHeader,
  canEncode,
  decodeSequences,
  encodeSequences,
  INITIAL_REPS,
  listBlocks,
  literalsSectionSize,
  MODE_PREDEFINED,
  MODE_REPEAT,
  offsetCode,
  PREDEFINED,
  readFrameHeader,
  readSequencesSection,
  resolveOffset,
  windowDescriptor,
  ZSTD_BLOCK_MAX,
  ZSTD_MAGIC,
  type RepHistory,
  type SequenceTables,
  type SequencesSection,
  type TableSpec,
} from './zstd-format.js';

/** A segment compressed as its own frame, with what the joiner needs to know about it. */
export interface SegmentFrame {
  frame: Uint8Array;
  contentSize: number;
  windowSize: number;
  /** Offset of the first block header in `frame`. */
  blocksStart: number;
  /** Repeat offsets at the end of the frame when it is decoded on its own. */
  finalReps: RepHistory;
}

/**
 * Walk a frame made by `ZSTD_compress` (runs in the worker that made it). The final repeat offsets
 * are found from the end: a block's sequences are decoded with a symbolic starting history, and
 * earlier blocks are decoded only while some final entry still depends on them (usually never).
 */
export function analyzeSegmentFrame(frame: Uint8Array, contentSize: number): SegmentFrame {
  const hdr = readFrameHeader(frame, 0);
  if (hdr.contentSize !== null && hdr.contentSize !== contentSize) {
    throw assembly('E_ZSTD_FORMAT', `zstd frame: content size ${hdr.contentSize}, expected ${contentSize}`);
  }
  const blocks = listBlocks(frame, hdr.size, Math.min(ZSTD_BLOCK_MAX, hdr.windowSize));
  // Forward: table descriptions only (Repeat_Mode needs the previous block's tables).
  const sections: SequencesSection[] = [];
  let tables: SequenceTables | null = null;
  for (const b of blocks) {
    if (b.type !== BLOCK_COMPRESSED) continue;
    const start = b.at + 3;
    const end = start + b.contentSize;
    const seq = readSequencesSection(frame, start + literalsSectionSize(frame, start, end), end, tables);
    if (!seq) continue;
    tables = seq.tables;
    sections.push(seq);
  }
  // Backward: entries are [base, value]: base -1 = the value itself, else history[base] + value.
  let need: Array<[number, number]> = [[0, 0], [1, 0], [2, 0]];
  for (let k = sections.length - 1; k >= 0 && need.some(([b]) => b >= 0); k--) {
    const map = symbolicBlock(frame, sections[k]!);
    need = need.map(([b, v]) => (b < 0 ? [b, v] : [map[b]![0], map[b]![1] + v]));
  }
  const finalReps = need.map(([b, v]) => (b < 0 ? v : INITIAL_REPS[b]! + v)) as RepHistory;
  return { frame, contentSize, windowSize: hdr.windowSize, blocksStart: hdr.size, finalReps };
}

/** The history at the end of a block as a function of the history at its start. */
function symbolicBlock(frame: Uint8Array, seq: SequencesSection): Array<[number, number]> {
  const s = decodeSequences(frame, seq);
  const h: Array<[number, number]> = [[0, 0], [1, 0], [2, 0]];
  for (let i = 0; i < seq.nbSeq; i++) {
    const ofv = s.ofv[i]!;
    if (ofv > 3) {
      h.unshift([-1, ofv - 3]);
      h.length = 3;
      continue;
    }
    const idx = ofv - 1 + (s.ll[i] === 0 ? 1 : 0);
    if (idx === 0) continue;
    if (idx === 3) {
      h.unshift([h[0]![0], h[0]![1] - 1]);
      h.length = 3;
      continue;
    }
    const [e] = h.splice(idx, 1);
    h.unshift(e!);
  }
  return h;
}

const same = (a: RepHistory, b: RepHistory) => a[0] === b[0] && a[1] === b[1] && a[2] === b[2];

function describe(spec: TableSpec): { mode: number; desc: Uint8Array } {
  return { mode: spec.mode, desc: spec.desc };
}

/**
 * Writes one frame from consecutive segment frames. `push` returns the bytes to emit for a segment
 * (the frame header comes with the first); `finish` returns the final block. Output never depends
 * on timing: only on the segments' bytes and order.
 */
export class ZstdFrameJoiner {
  private reps: RepHistory = [...INITIAL_REPS];
  private window: { byte: number; size: number } | null = null;
  private held: { type: number; content: Uint8Array; size: number } | null = null;
  private total = 0;

  /** Bytes of content joined so far. */
  get contentSize(): number {
    return this.total;
  }

  push(seg: SegmentFrame): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (!this.window) {
      this.window = windowDescriptor(Math.max(seg.windowSize, 1024));
      out.push(this.header());
    }
    if (seg.windowSize > this.window.size) {
      throw assembly('E_ZSTD_SPLICE', `zstd join: segment window ${seg.windowSize} exceeds the frame window ${this.window.size}`);
    }
    const blockMax = Math.min(ZSTD_BLOCK_MAX, this.window.size);
    const frame = seg.frame;
    const blocks = listBlocks(frame, seg.blocksStart, Math.min(ZSTD_BLOCK_MAX, seg.windowSize));
    if (this.held) {
      out.push(blockHeader(this.held.type, this.held.size, false), this.held.content);
      this.held = null;
    }

    const hA: RepHistory = [...this.reps]; // what the decoder really has
    const hB: RepHistory = [...INITIAL_REPS]; // what the segment's encoder assumed
    let converged = same(hA, hB);
    let ofDiverged = false;
    let tablesB: SequenceTables | null = null;

    for (let bi = 0; bi < blocks.length; bi++) {
      const b = blocks[bi]!;
      const start = b.at + 3;
      const end = start + b.contentSize;
      const headerSize = (frame[b.at]! | (frame[b.at + 1]! << 8) | (frame[b.at + 2]! << 16)) >>> 3;
      let content = frame.subarray(start, end);
      if (b.type === BLOCK_COMPRESSED && !(converged && !ofDiverged)) {
        const litSize = literalsSectionSize(frame, start, end);
        const seq = readSequencesSection(frame, start + litSize, end, tablesB);
        if (seq) {
          const modeOF = seq.modes[1];
          const specOF = seq.tables.of;
          let ofOut: { mode: number; desc: Uint8Array } | null = null; // null: as written
          let bitstream: Uint8Array | null = null;
          if (!converged) {
            const s = decodeSequences(frame, seq);
            let changed = false;
            for (let i = 0; i < seq.nbSeq; i++) {
              const ll = s.ll[i]!;
              const ofv = s.ofv[i]!;
              const actual = applyOffset(hB, ofv, ll);
              const v = chooseOffsetValue(hA, hB, actual, ll, ofv);
              applyOffset(hA, v, ll);
              if (v !== ofv) {
                s.ofv[i] = v;
                changed = true;
              }
            }
            converged = same(hA, hB);
            if (changed) {
              let fits = true;
              for (let i = 0; i < seq.nbSeq && fits; i++) fits = canEncode(specOF.table, offsetCode(s.ofv[i]!));
              const ofTable = fits ? specOF.table : PREDEFINED.of;
              if (!fits) {
                for (let i = 0; i < seq.nbSeq; i++) {
                  if (offsetCode(s.ofv[i]!) > 28) throw assembly('E_ZSTD_SPLICE', 'zstd join: offset beyond the predefined offset table');
                }
                ofOut = { mode: MODE_PREDEFINED, desc: new Uint8Array(0) };
              }
              bitstream = encodeSequences(s, seq.tables.ll.table, ofTable, seq.tables.ml.table);
            }
          }
          // The offset table the next blocks will find in the decoder.
          if (ofOut) {
            ofDiverged = specOF.mode !== MODE_PREDEFINED;
          } else if (modeOF === MODE_REPEAT) {
            if (ofDiverged) {
              ofOut = describe(specOF);
              ofDiverged = false;
            }
          } else ofDiverged = false;

          if (bitstream || ofOut) {
            content = rebuildBlock(frame.subarray(start, start + litSize), seq.countBytes, [
              modeDesc(seq.modes[0], seq.tables.ll),
              ofOut ?? modeDesc(modeOF, specOF),
              modeDesc(seq.modes[2], seq.tables.ml),
            ], bitstream ?? frame.subarray(seq.bitstreamStart, seq.end));
            if (content.length > blockMax) {
              throw assembly('E_ZSTD_SPLICE', `zstd join: re-encoded block of ${content.length} bytes exceeds ${blockMax}`);
            }
          }
          tablesB = seq.tables;
        }
      }
      const size = b.type === 1 ? headerSize : content.length;
      if (bi === blocks.length - 1) this.held = { type: b.type, content, size };
      else out.push(blockHeader(b.type, size, false), content);
    }
    // Once converged, the decoder's history follows the segment's own; otherwise hA tracked it all.
    this.reps = converged ? [...seg.finalReps] : hA;
    this.total += seg.contentSize;
    return out;
  }

  finish(): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (!this.window) {
      this.window = windowDescriptor(1024);
      out.push(this.header(), blockHeader(0, 0, true));
      return out;
    }
    if (this.held) {
      out.push(blockHeader(this.held.type, this.held.size, true), this.held.content);
      this.held = null;
    }
    return out;
  }

  private header(): Uint8Array {
    // Frame_Header_Descriptor 0: no content size, not single-segment, no checksum, no dictionary.
    const h = new Uint8Array(6);
    new DataView(h.buffer).setUint32(0, ZSTD_MAGIC, true);
    h[4] = 0;
    h[5] = this.window!.byte;
    return h;
  }
}

function modeDesc(mode: number, spec: TableSpec): { mode: number; desc: Uint8Array } {
  return mode === MODE_REPEAT ? { mode, desc: new Uint8Array(0) } : { mode, desc: spec.desc };
}

/**
 * The Offset_Value to write so the decoder, holding history `hA`, uses offset `actual`. Prefers
 * a value that leaves `hA` equal to the encoder's history after the same sequence (`hB`, already
 * updated), so the two converge; then the original value; then a repeat code; then the explicit offset.
 */
function chooseOffsetValue(hA: RepHistory, hBAfter: RepHistory, actual: number, ll: number, original: number): number {
  let fallback = 0;
  for (const v of [original, 1, 2, 3, actual + 3]) {
    if (resolveOffset(hA, v, ll) !== actual) continue;
    const trial: RepHistory = [...hA];
    applyOffset(trial, v, ll);
    if (same(trial, hBAfter)) return v;
    if (!fallback) fallback = v;
  }
  return fallback || actual + 3;
}

/** A compressed block: the literals section as it was, then a sequences section. */
function rebuildBlock(literals: Uint8Array, countBytes: Uint8Array, tables: { mode: number; desc: Uint8Array }[], bitstream: Uint8Array): Uint8Array {
  const modeByte = (tables[0]!.mode << 6) | (tables[1]!.mode << 4) | (tables[2]!.mode << 2);
  const parts = [literals, countBytes, Uint8Array.of(modeByte), tables[0]!.desc, tables[1]!.desc, tables[2]!.desc, bitstream];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
