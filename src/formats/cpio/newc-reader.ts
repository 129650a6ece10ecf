/**
 * Streaming newc reader (also `070702`). Yields one member at a time; its body must be consumed (or it
 * is skipped) before the next member is read. Every size read from the input is bounded: a corrupt or
 * hostile archive gives an `E_CPIO_*` error, never a huge allocation or a hang.
 */
import { invalidInput } from '../../core/errors.js';
import type { FileType } from '../../core/file-tree.js';
import {
  decodeNewcHeader, NEWC_HEADER_SIZE, pad4, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
  TRAILER_NAME, type NewcHeader,
} from './newc-header.js';

export interface NewcReadOptions {
  /** Keep reading after `TRAILER!!!` when more archives follow (zero padding between them is skipped). */
  concatenated?: boolean;
  /** Longest member name accepted, including the NUL (default 4096, PATH_MAX). */
  maxNameSize?: number;
}

export interface NewcMember {
  header: NewcHeader;
  /** Member name as UTF-8 (raw bytes in `rawName`). */
  name: string;
  rawName: Buffer;
  type: FileType | 'socket';
  /** Permission bits (no type bits). */
  permissions: number;
  /** The member's data (`filesize` bytes); iterate once, before asking for the next member. */
  body: AsyncIterable<Buffer>;
}

export function typeOfMode(mode: number): FileType | 'socket' {
  switch (mode & S_IFMT) {
    case S_IFREG: return 'file';
    case S_IFDIR: return 'dir';
    case S_IFLNK: return 'symlink';
    case S_IFCHR: return 'char';
    case S_IFBLK: return 'block';
    case S_IFIFO: return 'fifo';
    case S_IFSOCK: return 'socket';
    default:
      throw invalidInput('E_CPIO_MODE', `cpio member has an unknown file type in mode ${mode.toString(8)}`);
  }
}

/** Pull-based byte source over an async iterable of chunks. */
class ByteSource {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  private readonly it: AsyncIterator<Uint8Array | string>;
  /** Bytes consumed so far (for error messages). */
  position = 0;

  constructor(source: AsyncIterable<Uint8Array | string>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    const v = r.value;
    const buf = typeof v === 'string' ? Buffer.from(v) : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    if (buf.byteLength) {
      this.chunks.push(buf);
      this.buffered += buf.byteLength;
    }
    return true;
  }

  /** Exactly `n` bytes, or null at a clean end of input (no byte available). Throws if cut short. */
  async exact(n: number, what: string): Promise<Buffer | null> {
    while (this.buffered < n) {
      if (!(await this.fill())) {
        if (this.buffered === 0) return null;
        throw invalidInput('E_CPIO_TRUNCATED', `cpio archive truncated in ${what} at offset ${this.position + this.buffered}`);
      }
    }
    return this.take(n);
  }

  /** Up to `n` bytes (at least 1), or null at the end. */
  async some(n: number): Promise<Buffer | null> {
    while (this.buffered === 0) if (!(await this.fill())) return null;
    return this.take(Math.min(n, this.buffered));
  }

  /** Next byte without consuming it, or -1 at the end. */
  async peekByte(): Promise<number> {
    while (this.buffered === 0) if (!(await this.fill())) return -1;
    return this.chunks[0]![0]!;
  }

  private take(n: number): Buffer {
    this.position += n;
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.byteLength === n) {
      this.chunks.shift();
      return first;
    }
    if (first.byteLength > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.byteLength, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.byteLength) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}

/** Iterate the members of a newc archive (the trailer is not yielded). */
export async function* readNewc(source: AsyncIterable<Uint8Array | string>, options: NewcReadOptions = {}): AsyncGenerator<NewcMember> {
  const maxNameSize = options.maxNameSize ?? 4096;
  const src = new ByteSource(source);
  let sawAny = false;

  for (;;) {
    const start = src.position;
    const raw = await src.exact(NEWC_HEADER_SIZE, 'a header');
    if (!raw) {
      throw invalidInput('E_CPIO_TRUNCATED', sawAny ? 'cpio archive ends without TRAILER!!!' : 'cpio archive is empty');
    }
    const header = decodeNewcHeader(raw);
    sawAny = true;
    if (header.namesize < 1 || header.namesize > maxNameSize) {
      throw invalidInput('E_CPIO_NAME', `cpio member at offset ${start} has an invalid name size ${header.namesize}`);
    }
    const nameBytes = await src.exact(header.namesize + pad4(NEWC_HEADER_SIZE + header.namesize), 'a member name');
    if (!nameBytes) throw invalidInput('E_CPIO_TRUNCATED', `cpio archive truncated in a member name at offset ${start}`);
    const rawName = Buffer.from(nameBytes.subarray(0, header.namesize - 1));
    if (nameBytes[header.namesize - 1] !== 0) {
      throw invalidInput('E_CPIO_NAME', `cpio member name at offset ${start} is not NUL-terminated`);
    }
    const name = rawName.toString('utf8');

    if (name === TRAILER_NAME) {
      if (header.filesize !== 0) await skip(src, header.filesize + pad4(header.filesize));
      if (!options.concatenated) return;
      // Skip the zero padding up to the next archive (the kernel's initramfs format).
      for (;;) {
        const b = await src.peekByte();
        if (b === -1) return;
        if (b !== 0) break;
        await src.exact(1, 'padding');
      }
      sawAny = false;
      continue;
    }

    let remaining = header.filesize;
    let consumed = false;
    const body: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: async function* () {
        if (consumed) throw invalidInput('E_CPIO_BODY', `cpio member ${JSON.stringify(name)}: body already read`);
        consumed = true;
        while (remaining > 0) {
          const chunk = await src.some(Math.min(remaining, 1 << 20));
          if (!chunk) throw invalidInput('E_CPIO_TRUNCATED', `cpio archive truncated in the data of ${JSON.stringify(name)}`);
          remaining -= chunk.byteLength;
          yield chunk;
        }
      },
    };
    yield {
      header,
      name,
      rawName,
      type: typeOfMode(header.mode),
      permissions: header.mode & 0o7777,
      body,
    };
    // Skip whatever the consumer did not read, then the data padding.
    if (remaining > 0) await skip(src, remaining);
    remaining = 0;
    consumed = true;
    const pad = pad4(header.filesize);
    if (pad && !(await src.exact(pad, 'data padding'))) throw invalidInput('E_CPIO_TRUNCATED', `cpio archive truncated after ${JSON.stringify(name)}`);
  }
}

async function skip(src: ByteSource, n: number): Promise<void> {
  let left = n;
  while (left > 0) {
    const c = await src.some(Math.min(left, 1 << 20));
    if (!c) throw invalidInput('E_CPIO_TRUNCATED', 'cpio archive truncated while skipping member data');
    left -= c.byteLength;
  }
}

export interface NewcRecord {
  header: NewcHeader;
  name: string;
  type: FileType | 'socket';
  permissions: number;
  data: Buffer;
}

/** Read a whole (small) archive into memory; refuses more than `maxTotal` bytes of member data. */
export async function readNewcAll(
  source: AsyncIterable<Uint8Array | string> | Uint8Array,
  options: NewcReadOptions & { maxTotal?: number } = {},
): Promise<NewcRecord[]> {
  const maxTotal = options.maxTotal ?? 256 * 1024 * 1024;
  const iterable = source instanceof Uint8Array ? [source] as Iterable<Uint8Array> : source;
  const out: NewcRecord[] = [];
  let total = 0;
  const asAsync = (async function* () {
    for await (const c of iterable as AsyncIterable<Uint8Array>) yield c;
  })();
  for await (const m of readNewc(asAsync, options)) {
    total += m.header.filesize;
    if (total > maxTotal) throw invalidInput('E_CPIO_TOO_LARGE', `cpio archive holds more than ${maxTotal} bytes of data`);
    const parts: Buffer[] = [];
    for await (const c of m.body) parts.push(c);
    out.push({ header: m.header, name: m.name, type: m.type, permissions: m.permissions, data: Buffer.concat(parts) });
  }
  return out;
}
