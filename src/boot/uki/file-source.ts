/** A section source read lazily from a file (kernel, initramfs), re-openable for each pass. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { ioError } from '../../core/errors.js';
import type { StreamSource } from '../../formats/pe/byte-source.js';

export async function fileSource(path: string): Promise<StreamSource> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw ioError('E_SOURCE_NOT_FILE', `${path} is not a regular file`);
    size = st.size;
  } catch (err) {
    if ((err as { code?: string }).code === 'E_SOURCE_NOT_FILE') throw err;
    throw ioError('E_SOURCE_OPEN', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
  return { size, open: () => createReadStream(path, { highWaterMark: 1 << 20 }) };
}
