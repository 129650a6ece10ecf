/**
 * File data: blocks, fragments, tail ends, sparse blocks and duplicate files
 * (squashfs-tools-ng doc/format.adoc "Packing File Data").
 *
 * Files are read one after another and cut into block-size pieces. Each full piece goes to the block
 * compressor right away; several are in flight at once (bounded by `maxInFlight`) and the results
 * are written in submission order, so memory stays at a few blocks whatever the tree size. An
 * all-zero block is not stored (size 0 = sparse). A file smaller than a block — and, with `tailEnds`,
 * the last partial block of a larger file — is packed into a shared fragment block.
 *
 * Duplicates: a file whose content (SHA-256 over all bytes) equals an earlier file's reuses that
 * file's blocks and fragment. The decision comes after the file was read, when its blocks may already
 * be written: a "rollback" marker in the ordered queue then moves the write position back to where
 * the file started, so the next data overwrites them (mksquashfs truncates the same way).
 */
import { createHash } from 'node:crypto';
import { invalidInput } from '../../core/errors.js';
import type { FileEntry } from '../../core/file-tree.js';
import type { RandomAccessSink } from '../../core/sink.js';
import type { SquashfsBlockCompressor } from './compressor.js';
import { DATA_UNCOMPRESSED, INVALID_FRAGMENT } from './constants.js';
import type { FragmentEntry } from './fragment-table.js';

/** Where one regular file's data ended up. */
export interface FileData {
  size: number;
  blocksStart: number;
  /** On-disk size word per stored block (0 = sparse). */
  blockSizes: number[];
  fragment: number;
  fragmentOffset: number;
  /** Bytes not stored because their blocks were all zero. */
  sparse: number;
  /** Set when this file reuses an earlier file's data. */
  duplicateOf?: FileData;
}

type Slot =
  | { kind: 'mark'; file: FileData }
  | { kind: 'block'; file: FileData; index: number; raw: Uint8Array; result: Promise<Uint8Array> }
  | { kind: 'fragment'; index: number; raw: Uint8Array; result: Promise<Uint8Array> }
  | { kind: 'rollback'; file: FileData };

export interface DataWriterOptions {
  blockSize: number;
  /** Pack small files (and tail ends with `tailEnds`) into fragment blocks. Default true. */
  fragments: boolean;
  /** Also pack the tail end of files larger than a block (mksquashfs `-tailends`). Default false. */
  tailEnds: boolean;
  /** Detect duplicate files. Default true. */
  duplicates: boolean;
  /** Blocks being compressed at once. */
  maxInFlight: number;
  /** Called with the number of input bytes consumed (progress). */
  onBytes?: (n: number) => void;
}

function isZero(b: Uint8Array, zero: Buffer): boolean {
  return Buffer.compare(Buffer.from(b.buffer, b.byteOffset, b.byteLength), zero.subarray(0, b.byteLength)) === 0;
}

export class DataWriter {
  private readonly queue: Slot[] = [];
  private inFlight = 0;
  private pos: number;
  private readonly fragments: FragmentEntry[] = [];
  private fragBuf: Buffer;
  private fragLen = 0;
  private readonly seen = new Map<string, FileData>();
  private readonly zero: Buffer;

  constructor(
    private readonly sink: RandomAccessSink,
    start: number,
    private readonly compressor: SquashfsBlockCompressor,
    private readonly opts: DataWriterOptions,
  ) {
    this.pos = start;
    this.fragBuf = Buffer.alloc(opts.blockSize);
    this.zero = Buffer.alloc(opts.blockSize);
  }

  private submit(raw: Uint8Array): Promise<Uint8Array> {
    const p = this.compressor.compress(raw);
    // A failure is reported when the slot is written; never as an unhandled rejection meanwhile.
    p.catch(() => {});
    return p;
  }

  private async push(slot: Slot): Promise<void> {
    this.queue.push(slot);
    if (slot.kind === 'block' || slot.kind === 'fragment') {
      this.inFlight++;
      while (this.inFlight > this.opts.maxInFlight) await this.writeHead();
    }
  }

  /** Write (or apply) the oldest slot. */
  private async writeHead(): Promise<void> {
    const slot = this.queue.shift()!;
    switch (slot.kind) {
      case 'mark':
        slot.file.blocksStart = this.pos;
        return;
      case 'rollback':
        this.pos = slot.file.blocksStart;
        return;
      case 'block':
      case 'fragment': {
        this.inFlight--;
        const compressed = await slot.result;
        const store = compressed.byteLength < slot.raw.byteLength;
        const bytes = store ? compressed : slot.raw;
        const word = store ? bytes.byteLength : bytes.byteLength | DATA_UNCOMPRESSED;
        const at = this.pos;
        await this.sink.write(at, bytes);
        this.pos += bytes.byteLength;
        if (slot.kind === 'block') slot.file.blockSizes[slot.index] = word;
        else this.fragments[slot.index] = { start: at, sizeWord: word };
      }
    }
  }

  /** Read one regular file's content and lay out its data. */
  async addFile(entry: FileEntry): Promise<FileData> {
    const { blockSize } = this.opts;
    const size = entry.size;
    if (!Number.isSafeInteger(size) || size < 0) throw invalidInput('E_SQUASHFS_SIZE', `${JSON.stringify(entry.path)} has an invalid size ${size}`);
    const file: FileData = { size, blocksStart: 0, blockSizes: [], fragment: INVALID_FRAGMENT, fragmentOffset: 0, sparse: 0 };
    if (size === 0) return file;
    const tail = size % blockSize;
    const useFragment = this.opts.fragments && tail > 0 && (size < blockSize || this.opts.tailEnds);
    const storedBlocks = useFragment ? Math.floor(size / blockSize) : Math.ceil(size / blockSize);
    file.blockSizes = new Array<number>(storedBlocks).fill(0);
    await this.push({ kind: 'mark', file });

    if (!entry.open) throw invalidInput('E_SQUASHFS_NO_CONTENT', `${JSON.stringify(entry.path)} has no content source`);
    const hash = createHash('sha256');
    let block = Buffer.allocUnsafe(Math.min(blockSize, size));
    let fill = 0;
    let index = 0;
    let total = 0;
    let tailBytes: Buffer | null = null;

    const finishBlock = async (): Promise<void> => {
      const piece = block.subarray(0, fill);
      hash.update(piece);
      if (index < storedBlocks) {
        if (isZero(piece, this.zero)) {
          file.sparse += piece.byteLength;
        } else {
          await this.push({ kind: 'block', file, index, raw: piece, result: this.submit(piece) });
        }
      } else {
        tailBytes = piece;
      }
      index++;
      const left = size - index * blockSize;
      block = Buffer.allocUnsafe(Math.max(0, Math.min(blockSize, left)));
      fill = 0;
    };

    for await (const chunk of entry.open() as AsyncIterable<Uint8Array | string>) {
      const c = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += c.byteLength;
      if (total > size) throw invalidInput('E_SQUASHFS_SIZE_MISMATCH', `${JSON.stringify(entry.path)}: content is longer than its declared size ${size}`);
      let off = 0;
      while (off < c.byteLength) {
        const n = Math.min(block.byteLength - fill, c.byteLength - off);
        block.set(c.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === block.byteLength) await finishBlock();
      }
      this.opts.onBytes?.(c.byteLength);
    }
    if (total !== size) throw invalidInput('E_SQUASHFS_SIZE_MISMATCH', `${JSON.stringify(entry.path)}: content is shorter than its declared size ${size}`);

    if (this.opts.duplicates) {
      const key = hash.digest('base64');
      const original = this.seen.get(key);
      if (original) {
        // Our blocks (if any were queued) are dropped: rewind to where this file started.
        await this.push({ kind: 'rollback', file });
        file.duplicateOf = original;
        return file;
      }
      this.seen.set(key, file);
    }
    if (tailBytes) this.addFragment(file, tailBytes);
    return file;
  }

  private addFragment(file: FileData, bytes: Buffer): void {
    if (this.fragLen + bytes.byteLength > this.opts.blockSize) this.flushFragment();
    bytes.copy(this.fragBuf, this.fragLen);
    file.fragment = this.fragments.length;
    file.fragmentOffset = this.fragLen;
    this.fragLen += bytes.byteLength;
  }

  private flushFragment(): void {
    if (this.fragLen === 0) return;
    const raw = this.fragBuf.subarray(0, this.fragLen);
    const index = this.fragments.length;
    // Reserve the table slot now so later files index past it; it is filled when written.
    this.fragments.push({ start: 0, sizeWord: 0 });
    this.fragBuf = Buffer.alloc(this.opts.blockSize);
    this.fragLen = 0;
    this.queue.push({ kind: 'fragment', index, raw, result: this.submit(raw) });
    this.inFlight++;
  }

  /** Flush the open fragment and wait for every write; returns the end of the data area. */
  async finish(): Promise<{ end: number; fragments: FragmentEntry[] }> {
    this.flushFragment();
    while (this.queue.length) await this.writeHead();
    return { end: this.pos, fragments: this.fragments };
  }
}
