/**
 * A PE image described as a header plus section sources, so that a UKI (kernel and initramfs of
 * tens of megabytes) can be hashed, signed and written without being held in memory.
 *
 * Layout: `header` (SizeOfHeaders bytes) at offset 0, then each part at its offset, zero-padded to
 * its raw size, then `trailer` (the certificate table, when signed). Parts are contiguous and in
 * file order.
 */
import { Readable } from 'node:stream';
import type { RandomAccessSink } from '../../core/sink.js';
import { sourceChunks, type ByteSource, type StreamSource } from './byte-source.js';
import type { PeHeaders } from './pe-file.js';

export interface PeAssemblyPart {
  /** Section name, for messages. */
  name: string;
  /** File offset (PointerToRawData). */
  offset: number;
  /** Content length. */
  size: number;
  /** Bytes taken in the file (SizeOfRawData): content then zeros. */
  rawSize: number;
  source: ByteSource;
}

export interface PeAssembly {
  /** Decoded view of `header` (sections, data directories), checked against `size`. */
  headers: PeHeaders;
  header: Uint8Array;
  parts: PeAssemblyPart[];
  trailer: Uint8Array;
  /** Total file size. */
  size: number;
}

const ZEROS = new Uint8Array(64 * 1024);

function* zeros(n: number): Generator<Uint8Array> {
  while (n > 0) {
    const k = Math.min(n, ZEROS.byteLength);
    yield ZEROS.subarray(0, k);
    n -= k;
  }
}

/** The image bytes in file order. */
export async function* peAssemblyChunks(asm: PeAssembly): AsyncGenerator<Uint8Array> {
  yield asm.header;
  let pos = asm.header.byteLength;
  for (const part of asm.parts) {
    yield* zeros(part.offset - pos);
    for await (const chunk of sourceChunks(part.source, `section ${part.name}`)) yield chunk;
    yield* zeros(part.rawSize - part.size);
    pos = part.offset + part.rawSize;
  }
  if (asm.trailer.byteLength > 0) yield asm.trailer;
}

/** The image as a re-openable sized source (e.g. a file of an ESP FileTree or a disk writer input). */
export function peAssemblySource(asm: PeAssembly): StreamSource {
  return { size: asm.size, open: () => peAssemblyChunks(asm) };
}

export function peAssemblyStream(asm: PeAssembly): Readable {
  return Readable.from(peAssemblyChunks(asm), { objectMode: false });
}

/** The whole image in memory. */
export async function peAssemblyBytes(asm: PeAssembly): Promise<Buffer> {
  const out = Buffer.alloc(asm.size);
  let pos = 0;
  for await (const chunk of peAssemblyChunks(asm)) {
    out.set(chunk, pos);
    pos += chunk.byteLength;
  }
  return out;
}

/** Write the image at `offset` of a sink (e.g. straight into a FAT file's clusters). */
export async function writePeAssembly(asm: PeAssembly, sink: RandomAccessSink, offset = 0): Promise<number> {
  return sink.writeFrom(offset, peAssemblyChunks(asm));
}
