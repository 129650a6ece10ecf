/**
 * The initramfs with system extensions (talos-imager.md §4.6):
 *
 *   [uncompressed newc cpio: kernel/x86/microcode/…]   only when an extension ships CPU microcode
 *   [the original initramfs, byte for byte]            never decompressed
 *   [zstd-18 (Talos ≥ 1.8) or xz -C crc32 -0 -e (< 1.8) of a newc cpio: *.sqsh, extensions.yaml, firmware]
 *
 * The kernel unpacks concatenated archives in order; the early microcode archive must come first and
 * stay uncompressed. Everything is a stream: member content (the squashfs images) flows from disk
 * through the cpio writer into the encoder and out, chunk by chunk. Timestamps are SOURCE_DATE_EPOCH,
 * so the result is bit-for-bit reproducible (upstream's cpio carries extraction times, §13).
 */
import { Readable, type Transform } from 'node:stream';
import { createXzEncoder, createZstdEncoder, XZ_INITRAMFS } from '../../compress/index.js';
import type { FileTree } from '../../core/file-tree.js';
import { newcArchive } from '../../formats/cpio/index.js';
import { buildExtensionsPayload, type ExtensionsOptions, type ExtensionsPayload } from '../extensions/assemble.js';

/** Makes the encoder for the appended archive: zstd level 18, or xz with a CRC32 check at `-0 -e`. */
export type InitramfsEncoderFactory = (codec: 'zstd' | 'xz') => Transform;

/** `zstd -18` (one frame, as `zstd -T0 -18`) or `xz -C crc32 -0 -e -T0` (the kernel rejects CRC64). */
export const defaultInitramfsEncoder: InitramfsEncoderFactory = (codec) =>
  codec === 'zstd' ? createZstdEncoder({ level: 18 }) : createXzEncoder({ ...XZ_INITRAMFS });

export interface AppendOptions {
  /** The original initramfs as shipped (compressed), streamed through unchanged. */
  base: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | (() => AsyncIterable<Uint8Array> | Iterable<Uint8Array>);
  /** The extension payload (`buildExtensionsPayload`), or null for none. */
  payload: ExtensionsPayload | null;
  /** mtime of every archive member (SOURCE_DATE_EPOCH). */
  sourceDateEpoch: number;
  encoder?: InitramfsEncoderFactory;
}

const ROOT_OWNER = { uid: 0, gid: 0 };

/** The new initramfs as a chunk stream. Without a payload it is the base, unchanged. */
export async function* appendExtensions(opts: AppendOptions): AsyncGenerator<Uint8Array> {
  const base = typeof opts.base === 'function' ? opts.base() : opts.base;
  const payload = opts.payload;
  if (!payload) {
    yield* base;
    return;
  }
  const cpioOpts = { owner: ROOT_OWNER, mtime: opts.sourceDateEpoch };
  if (payload.early.length > 0) yield* newcArchive(payload.early, cpioOpts);
  yield* base;
  const encoder = (opts.encoder ?? defaultInitramfsEncoder)(payload.compression);
  const cpio = Readable.from(newcArchive(payload.compressed, cpioOpts), { objectMode: false });
  // pipe() does not forward errors: a failing member must fail the output.
  cpio.on('error', (err) => encoder.destroy(err));
  cpio.pipe(encoder);
  try {
    for await (const chunk of encoder as AsyncIterable<Uint8Array>) yield chunk;
  } finally {
    cpio.destroy();
    encoder.destroy();
  }
}

export interface BuildInitramfsOptions extends ExtensionsOptions {
  /** The original initramfs as shipped. */
  base: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  encoder?: InitramfsEncoderFactory;
}

/**
 * Everything in one call: extension trees in, new initramfs out (a stream). Scratch files are
 * removed when the stream ends or is abandoned.
 */
export async function* buildInitramfs(extensions: readonly FileTree[], opts: BuildInitramfsOptions): AsyncGenerator<Uint8Array> {
  const payload = await buildExtensionsPayload(extensions, opts);
  try {
    yield* appendExtensions({ base: opts.base, payload, sourceDateEpoch: opts.repro.sourceDateEpoch, encoder: opts.encoder });
  } finally {
    await payload?.dispose();
  }
}
