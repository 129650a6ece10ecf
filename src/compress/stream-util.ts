/** Small stream helpers for the one-shot codec functions. */
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { toImagekitError } from '../core/errors.js';

const CHUNK = 1 << 20;

/** Feed `data` through `t` (in 1 MiB chunks, with backpressure) and return everything it emits. */
export async function collect(t: Transform, data: Uint8Array): Promise<Uint8Array> {
  const out: Buffer[] = [];
  let total = 0;
  try {
    await pipeline(Readable.from(chunks(data)), t, async function* (source: AsyncIterable<Buffer>) {
      for await (const b of source) {
        out.push(b);
        total += b.length;
      }
    });
  } catch (err) {
    throw toImagekitError(err);
  }
  return out.length === 1 ? out[0]! : Buffer.concat(out, total);
}

function* chunks(data: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < data.length; at += CHUNK) yield data.subarray(at, Math.min(data.length, at + CHUNK));
}
