/**
 * The one-member GNU tar of the `.tar.gz` post-processing (talos-imager.md §12.1): upstream renames
 * the output to `disk.raw` and runs `tar -cf - --sort=name --owner=0 --group=0 --numeric-owner
 * --mtime=@<SOURCE_DATE_EPOCH> disk.raw`. The header is GNU format (magic `ustar  \0`); sizes of
 * 8 GiB and more use GNU's base-256 size field, as GNU tar does. Unlike upstream no `--sparse` map
 * is written (the one-pass writer does not know the holes before the header): the zeros are stored
 * and compress to almost nothing.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { assembly, invalidInput } from '../core/errors.js';

const BLOCK = 512;
const RECORD = 20 * BLOCK;
export const TAR_MEMBER_NAME = 'disk.raw';

function putAscii(b: Buffer, offset: number, length: number, text: string): void {
  b.write(text.slice(0, length), offset, length, 'ascii');
}

function putOctal(b: Buffer, offset: number, length: number, value: number): void {
  putAscii(b, offset, length - 1, value.toString(8).padStart(length - 1, '0'));
}

/** The header block of a regular file member. */
export function gnuFileHeader(name: string, size: number, mtime: number, mode = 0o644): Buffer {
  if (!Number.isSafeInteger(size) || size < 0) throw invalidInput('E_TAR_SIZE', `tar member size ${size} is invalid`);
  if (Buffer.byteLength(name) > 100) throw invalidInput('E_TAR_NAME', `tar member name ${JSON.stringify(name)} is longer than 100 bytes`);
  const b = Buffer.alloc(BLOCK);
  putAscii(b, 0, 100, name);
  putOctal(b, 100, 8, mode & 0o7777);
  putOctal(b, 108, 8, 0); // uid (--owner=0 --numeric-owner)
  putOctal(b, 116, 8, 0); // gid
  if (size <= 0o77777777777) putOctal(b, 124, 12, size);
  else {
    // GNU base-256: high bit of the first byte set, big-endian value in the rest.
    b[124] = 0x80;
    let v = BigInt(size);
    for (let i = 135; i > 124; i--) {
      b[i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  putOctal(b, 136, 12, Math.max(0, Math.floor(mtime)));
  b[156] = 0x30; // '0': regular file
  putAscii(b, 257, 8, 'ustar  \0');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  putAscii(b, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return b;
}

/**
 * A Transform that wraps exactly `size` bytes into a one-member tar: header first, then the data,
 * padding to the block size, the two-block trailer and zeros to the end of the 10 KiB record. Too many or too few bytes are an error.
 */
export function tarMemberStream(name: string, size: number, mtime: number): Transform {
  let seen = 0;
  let started = false;
  const header = gnuFileHeader(name, size, mtime);
  return new Transform({
    transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback) {
      if (!started) {
        started = true;
        this.push(header);
      }
      seen += chunk.byteLength;
      if (seen > size) return cb(assembly('E_TAR_SIZE', `${name}: more than the ${size} bytes announced in its tar header`));
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (!started) this.push(header);
      if (seen !== size) return cb(assembly('E_TAR_SIZE', `${name}: ${seen} bytes written, ${size} announced in its tar header`));
      // Data padding, the two-block trailer, then zeros to GNU tar's 10240-byte record.
      const end = BLOCK + size + ((BLOCK - (size % BLOCK)) % BLOCK) + 2 * BLOCK;
      this.push(Buffer.alloc(end - BLOCK - size + ((RECORD - (end % RECORD)) % RECORD)));
      cb();
    },
  });
}
