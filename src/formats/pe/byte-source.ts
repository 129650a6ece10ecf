/**
 * Section content for the PE writer: bytes in memory, or a sized source opened lazily (a kernel or
 * an initramfs that should not be held in memory). `open()` may be called more than once (one pass
 * for the PCR measurement, one for the Authenticode digest, one for the output).
 */
import { assembly } from '../../core/errors.js';

export interface StreamSource {
  /** Exact content length in bytes. */
  readonly size: number;
  open(): AsyncIterable<Uint8Array>;
}

export type ByteSource = Uint8Array | StreamSource;

export function sourceSize(source: ByteSource): number {
  return source instanceof Uint8Array ? source.byteLength : source.size;
}

/** Chunks of a source, checking that a streamed source delivers exactly its declared size. */
export async function* sourceChunks(source: ByteSource, label: string): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    if (source.byteLength > 0) yield source;
    return;
  }
  let seen = 0;
  for await (const chunk of source.open()) {
    const bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk as ArrayBufferLike);
    seen += bytes.byteLength;
    if (seen > source.size) break;
    if (bytes.byteLength > 0) yield bytes;
  }
  if (seen !== source.size) {
    throw assembly('E_SOURCE_SIZE', `${label}: content is ${seen > source.size ? 'longer' : 'shorter'} than its declared ${source.size} bytes`);
  }
}

/** Read a whole source into memory (small sources: command lines, os-release, PCR JSON). */
export async function sourceBytes(source: ByteSource, label: string): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  const out = new Uint8Array(source.size);
  let pos = 0;
  for await (const chunk of sourceChunks(source, label)) {
    out.set(chunk, pos);
    pos += chunk.byteLength;
  }
  return out;
}
