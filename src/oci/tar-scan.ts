/**
 * Index a tar that lies in a file (or a byte range of one) without reading entry data: headers are
 * read with positioned reads and data is skipped, so scanning a cached 500 MB layer costs one small
 * read per entry. Each member reports where its data starts; content is later opened as a file
 * range. GNU long names/links and PAX (per-entry and global) headers are folded into the member.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { invalidInput, unsupported } from '../core/errors.js';
import { applyPax, BLOCK, decodeHeader, isZeroBlock, paddingFor, parsePax, type TarHeader } from './tar-header.js';

export interface TarMember {
  header: TarHeader;
  xattrs: Record<string, Uint8Array>;
  /** Absolute file offset of the entry's data. */
  dataOffset: number;
}

/** Metadata entries (PAX, GNU long names) larger than this are refused. */
const maxMetaBytes = 1024 * 1024;
/** More members than this in one tar is refused (a hostile archive could exhaust memory). */
export const maxTarMembers = 2_000_000;
const windowSize = 64 * 1024;

/** Positioned reads through a small window (headers are mostly adjacent when files are small). */
class WindowReader {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  constructor(private readonly fh: FileHandle) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset >= this.bufStart && offset + length <= this.bufStart + this.buf.length) {
      return this.buf.subarray(offset - this.bufStart, offset - this.bufStart + length);
    }
    const size = Math.max(length, windowSize);
    const b = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await this.fh.read(b, got, size - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.buf = b.subarray(0, got);
    this.bufStart = offset;
    return this.buf.subarray(0, Math.min(length, got));
  }
}

export interface ScanOptions {
  /** Byte range of the tar inside the file (default: the whole file). */
  start?: number;
  end?: number;
  /** Names the tar in messages. */
  what: string;
}

/** Scan a tar file; yields members in archive order. */
export async function* scanTarFile(path: string, opts: ScanOptions): AsyncGenerator<TarMember> {
  const fh = await open(path, 'r');
  try {
    const end = opts.end ?? (await fh.stat()).size;
    yield* scanTarHandle(fh, opts.start ?? 0, end, opts.what);
  } finally {
    await fh.close();
  }
}

export async function* scanTarHandle(fh: FileHandle, start: number, end: number, what: string): AsyncGenerator<TarMember> {
  const r = new WindowReader(fh);
  let pos = start;
  let globalPax = new Map<string, Uint8Array>();
  let pendingPax: Map<string, Uint8Array> | null = null;
  let longName: string | null = null;
  let longLink: string | null = null;
  let members = 0;
  const truncated = () => invalidInput('E_TAR_TRUNCATED', `${what}: tar is truncated at byte ${pos - start}`);

  while (pos + BLOCK <= end) {
    const block = await r.read(pos, BLOCK);
    if (block.byteLength < BLOCK) throw truncated();
    if (isZeroBlock(block)) return; // end of archive (one zero block is accepted, as GNU tar does)
    let h: TarHeader;
    try {
      h = decodeHeader(block);
    } catch (err) {
      throw invalidInput((err as { code?: string }).code ?? 'E_TAR_HEADER', `${what}: at byte ${pos - start}: ${(err as Error).message}`);
    }
    const dataOffset = pos + BLOCK;
    if (!Number.isSafeInteger(h.size) || dataOffset + h.size > end) throw truncated();
    const next = dataOffset + h.size + paddingFor(h.size);

    if (h.type === 'pax' || h.type === 'pax-global' || h.type === 'gnu-longname' || h.type === 'gnu-longlink') {
      if (h.size > maxMetaBytes) throw invalidInput('E_TAR_HEADER', `${what}: ${h.type} header of ${h.size} bytes is too large`);
      const data = Buffer.from(await r.read(dataOffset, h.size));
      if (data.byteLength < h.size) throw truncated();
      try {
        if (h.type === 'pax') pendingPax = parsePax(data);
        else if (h.type === 'pax-global') globalPax = new Map([...globalPax, ...parsePax(data)]);
        else {
          const nul = data.indexOf(0);
          const s = data.subarray(0, nul >= 0 ? nul : data.byteLength).toString('utf8');
          if (h.type === 'gnu-longname') longName = s;
          else longLink = s;
        }
      } catch (err) {
        throw invalidInput((err as { code?: string }).code ?? 'E_TAR_PAX', `${what}: at byte ${pos - start}: ${(err as Error).message}`);
      }
      pos = next;
      continue;
    }

    if (longName !== null) h.name = longName;
    if (longLink !== null) h.linkname = longLink;
    longName = longLink = null;
    let xattrs: Record<string, Uint8Array> = {};
    const pax = pendingPax ? new Map([...globalPax, ...pendingPax]) : globalPax;
    pendingPax = null;
    if (pax.size) {
      const before = h.size;
      try {
        ({ xattrs } = applyPax(h, pax));
      } catch (err) {
        const e = err as { code?: string; exitCode?: number; message: string };
        if (e.code === 'E_TAR_SPARSE') throw unsupported('E_TAR_SPARSE', `${what}: ${e.message.replace(/^tar: /, '')}`);
        throw invalidInput(e.code ?? 'E_TAR_PAX', `${what}: ${e.message}`);
      }
      if (h.size !== before) {
        // A PAX size overrides the header's (files of 8 GiB and more).
        if (dataOffset + h.size > end) throw truncated();
      }
    }
    if (h.flag === 'S') throw unsupported('E_TAR_SPARSE', `${what}: GNU sparse file ${JSON.stringify(h.name)} is not supported`);
    if (++members > maxTarMembers) throw invalidInput('E_TAR_TOO_MANY', `${what}: more than ${maxTarMembers} entries`);
    // Only regular files carry data; for every other type a size is ignored as GNU tar does,
    // except that it still occupies blocks.
    yield { header: h, xattrs, dataOffset };
    pos = dataOffset + h.size + paddingFor(h.size);
  }
  if (pos < end && end - pos < BLOCK) {
    // Trailing garbage shorter than a block: tolerated (some writers pad oddly).
    return;
  }
}
