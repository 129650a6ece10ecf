/**
 * Streaming .xz decoder (xz-file-format 1.1.0): any number of concatenated streams with stream
 * padding, any number of blocks, LZMA2 as the only filter, checks none / CRC32 / CRC64 / SHA-256
 * verified (reserved check types are skipped, as xz does).
 *
 * Input arrives in pieces of any size; the decoder keeps a byte queue and advances a state machine
 * only when the bytes a step needs are present. Every size, count and flag read from the input is
 * validated against the format and against what was actually decoded; `end()` fails unless the
 * input stopped exactly at a stream boundary. Errors are E_XZ_* ImagekitErrors naming the input.
 */
import { crc32 } from 'node:zlib';
import { invalidInput, unsupported } from '../../core/errors.js';
import { CheckState, CHECK_SIZE_BY_ID, checkFromId } from './check.js';
import { FILTER_LZMA2, FOOTER_MAGIC, HEADER_MAGIC, padTo4 } from './container.js';
import { Lzma2Decoder } from './lzma2-decoder.js';
import { lzma2DictSizeFromByte } from './presets.js';

export interface XzDecodeOptions {
  /** Names the input in error messages. */
  source?: string;
  /** Largest dictionary accepted (bytes; default 1.5 GiB, the largest liblzma encoder dictionary). */
  maxDictSize?: number;
  /** Fail (E_XZ_OUTPUT_LIMIT) when the output would exceed this many bytes (default: no limit). */
  maxOutput?: number;
}

const enum_ = {
  streamHeader: 0,
  blockStart: 1,
  blockHeader: 2,
  chunkHeader: 3,
  chunkPayload: 4,
  blockPadding: 5,
  blockCheck: 6,
  index: 7,
  footer: 8,
  streamPadding: 9,
} as const;

interface Record2 {
  unpadded: number;
  uncompressed: number;
}

/** Byte queue over pushed pieces; `peek(n)` gives n contiguous bytes without consuming them. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  length = 0;

  push(c: Uint8Array): void {
    if (c.length === 0) return;
    this.chunks.push(c);
    this.length += c.length;
  }

  peek(n: number): Uint8Array | null {
    if (this.length < n) return null;
    if (n === 0) return new Uint8Array(0);
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = new Uint8Array(n);
    let got = 0;
    let i = 0;
    let off = this.head;
    while (got < n) {
      const c = this.chunks[i++]!;
      const take = Math.min(c.length - off, n - got);
      out.set(c.subarray(off, off + take), got);
      got += take;
      off = 0;
    }
    return out;
  }

  /** Up to `n` bytes (fewer if not available), contiguous. */
  peekUpTo(n: number): Uint8Array {
    return this.peek(Math.min(n, this.length))!;
  }

  consume(n: number): void {
    this.length -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      const avail = c.length - this.head;
      if (avail > n) {
        this.head += n;
        return;
      }
      n -= avail;
      this.chunks.shift();
      this.head = 0;
    }
  }
}

/** Read a multibyte integer (§1.2) from `b` at `pos`; returns [value, size] or null if cut short. */
function readVli(b: Uint8Array, pos: number, end: number, fail: (what: string) => never): [number, number] | null {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 9; i++) {
    if (pos + i >= end) return null;
    const byte = b[pos + i]!;
    value += (byte & 0x7f) * mul;
    mul *= 128;
    if ((byte & 0x80) === 0) {
      if (byte === 0 && i > 0) fail('non-minimal integer encoding');
      if (value > Number.MAX_SAFE_INTEGER) fail('integer too large');
      return [value, i + 1];
    }
  }
  return fail('integer longer than 9 bytes');
}

function readU32(b: Uint8Array, pos: number): number {
  return (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0;
}

export class XzStreamDecoder {
  private readonly q = new ByteQueue();
  private state: number = enum_.streamHeader;
  private readonly name: string;
  private readonly maxDictSize: number;
  private readonly maxOutput: number;
  private produced = 0;
  private streams = 0;

  // Stream state.
  private checkId = 0;
  private records: Record2[] = [];

  // Block state.
  private headerSize = 0;
  private declaredCompressed = -1;
  private declaredUncompressed = -1;
  private lzma2: Lzma2Decoder | null = null;
  private check: CheckState | null = null;
  private compressed = 0;
  private uncompressed = 0;
  private chunkHeader = new Uint8Array(6);
  private payloadSize = 0;

  // Index state.
  private indexCrc = 0;
  private indexSize = 0;
  private indexCount = -1;
  private indexNext = 0;

  constructor(opts: XzDecodeOptions = {}) {
    this.name = opts.source ?? 'xz input';
    this.maxDictSize = opts.maxDictSize ?? 1536 * 1024 * 1024;
    this.maxOutput = opts.maxOutput ?? Number.MAX_SAFE_INTEGER;
  }

  private fail(what: string): never {
    throw invalidInput('E_XZ_CORRUPT', `${this.name}: ${what}`);
  }

  private readonly ready: Uint8Array[] = [];

  /** Queue more input (not copied: do not modify it afterwards). */
  write(data: Uint8Array): void {
    this.q.push(data);
  }

  /**
   * The next piece of output (at most one LZMA2 chunk, ≤ 2 MiB), or null when more input is
   * needed. Decoding happens here, a piece at a time, so a consumer controls memory.
   */
  read(): Uint8Array | null {
    while (this.ready.length === 0) if (!this.step(this.ready)) return null;
    return this.ready.shift()!;
  }

  /** Feed input and decode everything it completes. */
  push(data: Uint8Array): Uint8Array[] {
    this.write(data);
    const out: Uint8Array[] = [];
    for (let p = this.read(); p; p = this.read()) out.push(p);
    return out;
  }

  /** No more input: throws unless the input ended exactly after a complete stream. */
  end(): void {
    if (this.state === enum_.streamPadding && this.q.length === 0) return;
    if (this.state === enum_.streamHeader && this.streams === 0 && this.q.length === 0) this.fail('empty input is not an .xz stream');
    if (this.state === enum_.streamPadding) this.fail('stream padding is not a multiple of 4 bytes or is followed by garbage');
    this.fail('truncated input (the .xz stream is incomplete)');
  }

  /** One step of the state machine; false when more input is needed. */
  private step(out: Uint8Array[]): boolean {
    const q = this.q;
    switch (this.state) {
      case enum_.streamHeader: {
        const h = q.peek(12);
        if (!h) return false;
        for (let i = 0; i < 6; i++) if (h[i] !== HEADER_MAGIC[i]) this.fail(this.streams === 0 ? 'not an .xz stream (bad magic)' : 'garbage after an .xz stream');
        if (h[6] !== 0 || (h[7]! & 0xf0) !== 0) this.fail('unsupported stream flags');
        if ((crc32(h.subarray(6, 8)) >>> 0) !== readU32(h, 8)) this.fail('stream header CRC32 mismatch');
        this.checkId = h[7]!;
        this.records = [];
        q.consume(12);
        this.state = enum_.blockStart;
        return true;
      }
      case enum_.blockStart: {
        const b = q.peek(1);
        if (!b) return false;
        if (b[0] === 0x00) {
          this.indexCrc = 0;
          this.indexSize = 0;
          this.indexCount = -1;
          this.indexNext = 0;
          this.state = enum_.index;
          return true;
        }
        this.headerSize = (b[0]! + 1) * 4;
        this.state = enum_.blockHeader;
        return true;
      }
      case enum_.blockHeader: {
        const h = q.peek(this.headerSize);
        if (!h) return false;
        this.parseBlockHeader(h);
        q.consume(this.headerSize);
        this.state = enum_.chunkHeader;
        return true;
      }
      case enum_.chunkHeader: {
        const c = q.peek(1);
        if (!c) return false;
        const rest = Lzma2Decoder.headerRest(c[0]!, this.name);
        const h = q.peek(1 + rest);
        if (!h) return false;
        this.chunkHeader.set(h);
        q.consume(1 + rest);
        this.addCompressed(1 + rest);
        if (rest === 0) {
          this.state = enum_.blockPadding;
          return true;
        }
        this.payloadSize = Lzma2Decoder.payloadSize(this.chunkHeader);
        const usize = Lzma2Decoder.uncompressedSize(this.chunkHeader);
        if (this.declaredUncompressed >= 0 && this.uncompressed + usize > this.declaredUncompressed) {
          this.fail('block holds more data than its header says');
        }
        this.state = enum_.chunkPayload;
        return true;
      }
      case enum_.chunkPayload: {
        const p = q.peek(this.payloadSize);
        if (!p) return false;
        this.addCompressed(this.payloadSize);
        const n = this.lzma2!.chunk(this.chunkHeader, p);
        q.consume(this.payloadSize);
        this.uncompressed += n;
        for (const piece of this.lzma2!.take()) {
          this.check!.update(piece);
          this.produced += piece.length;
          if (this.produced > this.maxOutput) {
            throw invalidInput('E_XZ_OUTPUT_LIMIT', `${this.name}: decompressed data exceeds the limit of ${this.maxOutput} bytes`);
          }
          out.push(piece);
        }
        this.state = enum_.chunkHeader;
        return true;
      }
      case enum_.blockPadding: {
        if (this.declaredCompressed >= 0 && this.compressed !== this.declaredCompressed) {
          this.fail('block compressed size does not match its header');
        }
        if (this.declaredUncompressed >= 0 && this.uncompressed !== this.declaredUncompressed) {
          this.fail('block uncompressed size does not match its header');
        }
        const n = padTo4(this.compressed);
        const p = q.peek(n);
        if (!p) return false;
        for (let i = 0; i < n; i++) if (p[i] !== 0) this.fail('nonzero block padding');
        q.consume(n);
        this.state = enum_.blockCheck;
        return true;
      }
      case enum_.blockCheck: {
        const size = CHECK_SIZE_BY_ID[this.checkId]!;
        const c = q.peek(size);
        if (!c) return false;
        if (checkFromId(this.checkId) !== null) {
          const want = this.check!.digest();
          for (let i = 0; i < size; i++) if (c[i] !== want[i]) this.fail(`${checkFromId(this.checkId)} check mismatch (data corrupt)`);
        }
        q.consume(size);
        this.records.push({ unpadded: this.headerSize + this.compressed + size, uncompressed: this.uncompressed });
        this.lzma2 = null;
        this.check = null;
        this.state = enum_.blockStart;
        return true;
      }
      case enum_.index:
        return this.stepIndex();
      case enum_.footer: {
        const f = q.peek(12);
        if (!f) return false;
        if (f[10] !== FOOTER_MAGIC[0] || f[11] !== FOOTER_MAGIC[1]) this.fail('bad stream footer magic');
        if ((crc32(f.subarray(4, 10)) >>> 0) !== readU32(f, 0)) this.fail('stream footer CRC32 mismatch');
        if ((readU32(f, 4) + 1) * 4 !== this.indexSize) this.fail('stream footer backward size does not match the index');
        if (f[8] !== 0 || f[9] !== this.checkId) this.fail('stream footer flags differ from the header');
        q.consume(12);
        this.streams++;
        this.state = enum_.streamPadding;
        return true;
      }
      case enum_.streamPadding: {
        const p = q.peek(Math.min(4, q.length));
        if (!p || p.length === 0) return false;
        if (p[0] !== 0) {
          this.state = enum_.streamHeader;
          return true;
        }
        if (p.length < 4) return false;
        if (p[1] !== 0 || p[2] !== 0 || p[3] !== 0) this.fail('stream padding is not a multiple of 4 bytes');
        q.consume(4);
        return true;
      }
      default:
        return false;
    }
  }

  private addCompressed(n: number): void {
    this.compressed += n;
    if (this.declaredCompressed >= 0 && this.compressed > this.declaredCompressed) {
      this.fail('block compressed data is longer than its header says');
    }
  }

  private parseBlockHeader(h: Uint8Array): void {
    const end = h.length - 4;
    if ((crc32(h.subarray(0, end)) >>> 0) !== readU32(h, end)) this.fail('block header CRC32 mismatch');
    const flags = h[1]!;
    if (flags & 0x3c) this.fail('unsupported block flags');
    const fail = (what: string): never => this.fail(`block header: ${what}`);
    let pos = 2;
    const vli = (): number => {
      const r = readVli(h, pos, end, fail);
      if (!r) fail('truncated field');
      pos += r![1];
      return r![0];
    };
    this.declaredCompressed = flags & 0x40 ? vli() : -1;
    if (this.declaredCompressed === 0) fail('compressed size is zero');
    this.declaredUncompressed = flags & 0x80 ? vli() : -1;
    const filters = (flags & 3) + 1;
    let dictSize = -1;
    for (let i = 0; i < filters; i++) {
      const id = vli();
      const propsSize = vli();
      if (pos + propsSize > end) fail('filter properties run past the header');
      if (id === FILTER_LZMA2) {
        if (i !== filters - 1) fail('LZMA2 is not the last filter');
        if (propsSize !== 1) fail('LZMA2 properties must be one byte');
        const b = h[pos]!;
        if (b > 40) fail(`LZMA2 dictionary property ${b} out of range`);
        dictSize = lzma2DictSizeFromByte(b);
      } else if (i === filters - 1) {
        fail(`last filter 0x${id.toString(16)} is not LZMA2`);
      } else {
        throw unsupported('E_XZ_UNSUPPORTED_FILTER', `${this.name}: filter 0x${id.toString(16)} is not supported (only LZMA2)`);
      }
      pos += propsSize;
    }
    for (; pos < end; pos++) if (h[pos] !== 0) fail('nonzero header padding');
    if (dictSize > this.maxDictSize) {
      throw unsupported('E_XZ_MEMLIMIT', `${this.name}: dictionary of ${dictSize} bytes exceeds the limit of ${this.maxDictSize}`);
    }
    this.lzma2 = new Lzma2Decoder(dictSize, this.name);
    const check = checkFromId(this.checkId);
    this.check = new CheckState(check ?? 'none');
    this.compressed = 0;
    this.uncompressed = 0;
  }

  private stepIndex(): boolean {
    const q = this.q;
    const fail = (what: string): never => this.fail(`index: ${what}`);
    // Indicator byte and record count.
    if (this.indexCount < 0) {
      const b = q.peekUpTo(10);
      const r = readVli(b, 1, b.length, fail);
      if (!r) {
        if (b.length >= 10) fail('record count too long');
        return false;
      }
      this.indexCount = r[0];
      if (this.indexCount !== this.records.length) fail(`lists ${this.indexCount} blocks but the stream has ${this.records.length}`);
      this.eatIndex(1 + r[1]);
      return true;
    }
    if (this.indexNext < this.indexCount) {
      const b = q.peekUpTo(18);
      const a = readVli(b, 0, b.length, fail);
      if (!a) return b.length >= 18 ? fail('record too long') : false;
      const u = readVli(b, a[1], b.length, fail);
      if (!u) return b.length >= 18 ? fail('record too long') : false;
      const rec = this.records[this.indexNext]!;
      if (a[0] !== rec.unpadded || u[0] !== rec.uncompressed) fail(`record ${this.indexNext} does not match block ${this.indexNext}`);
      this.indexNext++;
      this.eatIndex(a[1] + u[1]);
      return true;
    }
    const pad = padTo4(this.indexSize);
    const t = q.peek(pad + 4);
    if (!t) return false;
    for (let i = 0; i < pad; i++) if (t[i] !== 0) fail('nonzero padding');
    this.indexCrc = crc32(t.subarray(0, pad), this.indexCrc);
    if ((this.indexCrc >>> 0) !== readU32(t, pad)) fail('CRC32 mismatch');
    q.consume(pad + 4);
    this.indexSize += pad + 4;
    this.state = enum_.footer;
    return true;
  }

  private eatIndex(n: number): void {
    const b = this.q.peek(n)!;
    this.indexCrc = crc32(b, this.indexCrc);
    this.indexSize += n;
    this.q.consume(n);
  }
}

/** Decode a whole .xz file (any number of streams) in memory. */
export function xzDecodeSync(input: Uint8Array, opts: XzDecodeOptions = {}): Uint8Array {
  const d = new XzStreamDecoder(opts);
  const parts = d.push(input);
  d.end();
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
