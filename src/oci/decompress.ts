/**
 * Layer decompression: gzip (node:zlib), zstd (fzstd, streaming) or none. The kind is taken from
 * the blob's magic bytes — media types are often wrong in the wild (an uncompressed layer labelled
 * `+gzip`) and go-containerregistry sniffs as well.
 */
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { invalidInput } from '../core/errors.js';

export type Compression = 'gzip' | 'zstd' | 'none';

/** Compression from the first bytes of a blob. */
export function sniffCompression(head: Uint8Array): Compression {
  if (head.byteLength >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.byteLength >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** zstd frames decoded by fzstd's streaming decoder, as a Node transform. */
class ZstdDecodeStream extends Transform {
  private readonly dec: ZstdDecompress;
  private pending: Uint8Array[] = [];
  constructor() {
    super();
    this.dec = new ZstdDecompress((data) => {
      // fzstd may hand out views into its window buffer: copy before passing downstream.
      if (data.byteLength) this.pending.push(Buffer.from(data));
    });
  }
  private flushPending(): void {
    for (const p of this.pending) this.push(p);
    this.pending = [];
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    try {
      this.dec.push(chunk);
      this.flushPending();
      cb();
    } catch (err) {
      cb(invalidInput('E_ZSTD_CORRUPT', `zstd: ${(err as Error).message}`));
    }
  }
  override _flush(cb: TransformCallback): void {
    try {
      this.dec.push(new Uint8Array(0), true);
      this.flushPending();
      cb();
    } catch (err) {
      cb(invalidInput('E_ZSTD_CORRUPT', `zstd: ${(err as Error).message}`));
    }
  }
}

/** A transform that decompresses `kind`. */
export function decompressor(kind: Compression): Transform {
  switch (kind) {
    case 'gzip': {
      const g = createGunzip({ chunkSize: 256 * 1024 });
      return g;
    }
    case 'zstd':
      return new ZstdDecodeStream();
    default:
      return new PassThrough();
  }
}
