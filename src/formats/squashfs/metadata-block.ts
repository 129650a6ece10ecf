/**
 * Metadata blocks (squashfs-tools-ng doc/format.adoc "Packing Metadata"): a record stream cut into
 * 8 KiB pieces, each compressed on its own and stored behind a u16 header (size, bit 15 set when
 * stored raw). Records may straddle pieces. A reference to a record is
 * `(start of its piece relative to the table) << 16 | offset inside the uncompressed piece`.
 */
import { invalidInput } from '../../core/errors.js';
import type { SquashfsBlockCompressor } from './compressor.js';
import { METADATA_SIZE, METADATA_UNCOMPRESSED } from './constants.js';

/** Compress one metadata piece into its on-disk form (header + payload). */
export async function packMetadataBlock(raw: Uint8Array, compressor: SquashfsBlockCompressor): Promise<Buffer> {
  const compressed = await compressor.compress(raw);
  const store = compressed.byteLength < raw.byteLength;
  const payload = store ? compressed : raw;
  const out = Buffer.allocUnsafe(2 + payload.byteLength);
  out.writeUInt16LE(payload.byteLength | (store ? 0 : METADATA_UNCOMPRESSED), 0);
  out.set(payload, 2);
  return out;
}

/** A metadata table being written: records in, compressed pieces out, references known at once. */
export class MetadataWriter {
  private readonly pieces: Buffer[] = [];
  /** Start (relative to the table) of each finished piece, plus the current one. */
  private readonly starts: number[] = [0];
  private compressedBytes = 0;
  private cur = Buffer.alloc(METADATA_SIZE);
  private curLen = 0;

  constructor(private readonly compressor: SquashfsBlockCompressor) {}

  /** Uncompressed position of the next byte. */
  get position(): number {
    return (this.starts.length - 1) * METADATA_SIZE + this.curLen;
  }

  /** Reference of the next record: (piece start << 16 | offset) as [start, offset]. */
  get ref(): { block: number; offset: number } {
    return { block: this.starts[this.starts.length - 1]!, offset: this.curLen };
  }

  /** Table-relative start of the piece holding uncompressed position `pos` (already begun). */
  blockStartAt(pos: number): number {
    const i = Math.floor(pos / METADATA_SIZE);
    const start = this.starts[i];
    if (start === undefined) throw new Error(`metadata position ${pos} not written yet`);
    return start;
  }

  async append(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.byteLength) {
      const n = Math.min(METADATA_SIZE - this.curLen, bytes.byteLength - off);
      this.cur.set(bytes.subarray(off, off + n), this.curLen);
      this.curLen += n;
      off += n;
      if (this.curLen === METADATA_SIZE) await this.flushPiece();
    }
  }

  private async flushPiece(): Promise<void> {
    const piece = await packMetadataBlock(this.cur.subarray(0, this.curLen), this.compressor);
    this.pieces.push(piece);
    this.compressedBytes += piece.byteLength;
    this.starts.push(this.compressedBytes);
    this.cur = Buffer.alloc(METADATA_SIZE);
    this.curLen = 0;
  }

  /** Flush the last partial piece; returns the on-disk pieces in order. */
  async finish(): Promise<Buffer[]> {
    if (this.curLen > 0) await this.flushPiece();
    return this.pieces;
  }

  get size(): number {
    return this.compressedBytes;
  }
}

/**
 * A lookup table (fragment, export, id, xattr id): fixed-size records in metadata pieces, followed by
 * the u64 list of the pieces' absolute locations. Returns the bytes to write at `tableOffset` and the
 * absolute offset of the location list (what the superblock points at).
 */
export async function packLookupTable(
  records: Uint8Array,
  tableOffset: number,
  compressor: SquashfsBlockCompressor,
): Promise<{ bytes: Buffer; listOffset: number }> {
  const pieces: Promise<Buffer>[] = [];
  for (let i = 0; i < records.byteLength; i += METADATA_SIZE) {
    pieces.push(packMetadataBlock(records.subarray(i, Math.min(i + METADATA_SIZE, records.byteLength)), compressor));
  }
  const packed = await Promise.all(pieces);
  const list = Buffer.alloc(8 * packed.length);
  let at = tableOffset;
  packed.forEach((p, i) => {
    list.writeBigUInt64LE(BigInt(at), 8 * i);
    at += p.byteLength;
  });
  return { bytes: Buffer.concat([...packed, list]), listOffset: at };
}

/** Reads metadata pieces from an image through a caller-supplied piece loader, with a small cache. */
export class MetadataReader {
  private readonly cache = new Map<number, Promise<{ data: Buffer; next: number }>>();

  /**
   * @param loadPiece reads and decompresses the piece at absolute `offset`, returning its data and
   *   the absolute offset of the following piece.
   * @param tableStart absolute start of the table; refs are relative to it.
   * @param tableEnd absolute end (exclusive): no piece may start at or after it.
   */
  constructor(
    private readonly loadPiece: (offset: number) => Promise<{ data: Buffer; next: number }>,
    private readonly tableStart: number,
    private readonly tableEnd: number,
  ) {}

  private piece(rel: number): Promise<{ data: Buffer; next: number }> {
    let p = this.cache.get(rel);
    if (!p) {
      const abs = this.tableStart + rel;
      if (!Number.isSafeInteger(abs) || abs < this.tableStart || abs >= this.tableEnd) {
        return Promise.reject(invalidInput('E_SQUASHFS_CORRUPT', `metadata reference ${rel} is outside its table`));
      }
      p = this.loadPiece(abs);
      if (this.cache.size > 256) this.cache.clear();
      this.cache.set(rel, p);
    }
    return p;
  }

  /** Read `length` bytes starting at piece `block` (relative), offset `offset`. */
  async read(block: number, offset: number, length: number): Promise<{ bytes: Buffer; block: number; offset: number }> {
    if (length > 1 << 24) throw invalidInput('E_SQUASHFS_CORRUPT', `metadata record of ${length} bytes is too large`);
    const out = Buffer.alloc(length);
    let got = 0;
    let b = block;
    let o = offset;
    while (got < length) {
      const { data, next } = await this.piece(b);
      if (o > data.byteLength) throw invalidInput('E_SQUASHFS_CORRUPT', `metadata offset ${o} beyond piece of ${data.byteLength} bytes`);
      const n = Math.min(length - got, data.byteLength - o);
      data.copy(out, got, o, o + n);
      got += n;
      o += n;
      if (got < length) {
        if (n === 0 && data.byteLength === 0) throw invalidInput('E_SQUASHFS_CORRUPT', 'empty metadata piece');
        b = next - this.tableStart;
        o = 0;
      }
    }
    // Normalise the position to the next piece when this one is used up.
    const { data, next } = await this.piece(b);
    if (o === data.byteLength && o === METADATA_SIZE) {
      b = next - this.tableStart;
      o = 0;
    }
    return { bytes: out, block: b, offset: o };
  }
}
