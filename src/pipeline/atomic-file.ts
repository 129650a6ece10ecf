/**
 * Output files appear whole or not at all: content goes to a temporary file in the destination
 * directory (same file system, so the final `rename` is atomic), which is renamed over the final
 * name on success and removed on failure.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ioError } from '../core/errors.js';

export class AtomicFile {
  private done = false;
  private constructor(
    /** Where the file ends up. */
    readonly path: string,
    /** The temporary file being written; pass it to writers that want a path (e.g. a sparse sink). */
    readonly tempPath: string,
    readonly handle: FileHandle,
  ) {}

  /** Create the temporary file next to `path` (exclusive create; no random names). */
  static async create(path: string): Promise<AtomicFile> {
    const dir = dirname(path);
    for (let attempt = 0; ; attempt++) {
      const tempPath = join(dir, `.${basename(path)}.${process.pid}.${attempt}.partial`);
      try {
        return new AtomicFile(path, tempPath, await open(tempPath, 'wx', 0o644));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 100) continue;
        throw ioError('E_OUTPUT_CREATE', `cannot create a file in ${dir}: ${(err as Error).message}`, err);
      }
    }
  }

  /** Flush, close and move into place. */
  async commit(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      await this.handle.sync();
      await this.handle.close();
      await rename(this.tempPath, this.path);
    } catch (err) {
      await this.handle.close().catch(() => {});
      await rm(this.tempPath, { force: true }).catch(() => {});
      throw ioError('E_OUTPUT_COMMIT', `cannot write ${this.path}: ${(err as Error).message}`, err);
    }
  }

  /** Discard the temporary file (safe to call after a failed commit or twice). */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.close().catch(() => {});
    await rm(this.tempPath, { force: true }).catch(() => {});
  }
}

/** Write `data` to `path` atomically. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const f = await AtomicFile.create(path);
  try {
    await f.handle.writeFile(data);
  } catch (err) {
    await f.abort();
    throw ioError('E_OUTPUT_WRITE', `cannot write ${path}: ${(err as Error).message}`, err);
  }
  await f.commit();
}
