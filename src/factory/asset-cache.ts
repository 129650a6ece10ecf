/**
 * Built assets on disk, one directory per cache key (image-factory.md §6: "any deterministic key"):
 *
 *   <dir>/<key[0:2]>/<key>/asset       the bytes (sparse where the build produced zero runs)
 *   <dir>/<key[0:2]>/<key>/meta.json   {name, size, sha256, sha512}
 *
 * An entry is written into `<dir>/<key[0:2]>/.<key>.partial-<pid>-<n>/` and renamed into place
 * whole, so an entry directory that exists is complete; an interrupted build leaves only a partial
 * directory, removed on failure, on shutdown, and (for dead processes) at the next start.
 *
 * While a build writes, `LiveAsset.follow()` lets any number of responses stream the bytes written
 * so far and then wait for more (a growing-file reader), so the first download starts with the build.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ioError } from '../core/errors.js';

export interface AssetMeta {
  /** The output's file name as the pipeline names it (`metal-amd64.raw.xz`). */
  name: string;
  size: number;
  sha256: string;
  sha512: string;
}

/** A complete cache entry. */
export interface CachedAsset {
  key: string;
  path: string;
  meta: AssetMeta;
}

export const CACHE_KEY_RE = /^[0-9a-f]{64}$/;
const PARTIAL_RE = /^\.([0-9a-f]{64})\.partial-(\d+)-\d+$/;
/** Zero runs at least this long are left as holes instead of being written. */
const HOLE_MIN = 64 * 1024;
const READ_CHUNK = 1 << 20;
/**
 * The latest output kept in memory for followers that keep up: reading every small chunk back from
 * the file through libuv's thread pool, once per follower, would starve the build's own writes.
 */
const WINDOW_BYTES = 8 << 20;
/**
 * Small writes are gathered up to this size (or for FLUSH_DELAY_MS) before they reach the file and
 * the followers: a compressor emits many tiny chunks (zstd: a few bytes per block of zeros), and
 * waking every follower for each would cost more than the build.
 */
const COALESCE_BYTES = 64 * 1024;
const FLUSH_DELAY_MS = 50;
const WINDOW_CHUNKS = 4096;

function isZero(chunk: Buffer): boolean {
  // Compare against a zero buffer in slices (memcmp speed, bounded allocation).
  for (let off = 0; off < chunk.length; off += ZERO.length) {
    const n = Math.min(ZERO.length, chunk.length - off);
    if (chunk.compare(ZERO, 0, n, off, off + n) !== 0) return false;
  }
  return true;
}
const ZERO = Buffer.alloc(1 << 20);

export class AssetCache {
  private sequence = 0;
  constructor(readonly dir: string) {}

  private entryDir(key: string): string {
    return join(this.dir, key.slice(0, 2), key);
  }

  /** The complete entry for `key`, or null. */
  async lookup(key: string): Promise<CachedAsset | null> {
    if (!CACHE_KEY_RE.test(key)) return null;
    const dir = this.entryDir(key);
    let meta: AssetMeta;
    try {
      meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as AssetMeta;
    } catch {
      return null;
    }
    const path = join(dir, 'asset');
    const st = await stat(path).catch(() => null);
    if (!st?.isFile() || st.size !== meta.size || typeof meta.name !== 'string' || !/^[0-9a-f]{64}$/.test(meta.sha256)) return null;
    return { key, path, meta };
  }

  /** Start writing the entry for `key`. */
  async begin(key: string): Promise<LiveAsset> {
    if (!CACHE_KEY_RE.test(key)) throw ioError('E_SERVE_CACHE_KEY', `invalid cache key ${JSON.stringify(key)}`);
    const parent = join(this.dir, key.slice(0, 2));
    const temp = join(parent, `.${key}.partial-${process.pid}-${this.sequence++}`);
    try {
      await mkdir(parent, { recursive: true });
      await rm(temp, { recursive: true, force: true });
      await mkdir(temp);
      const fh = await open(join(temp, 'asset'), 'wx', 0o644);
      return new LiveAsset(key, temp, this.entryDir(key), fh);
    } catch (err) {
      throw ioError('E_SERVE_CACHE', `cannot create a cache entry in ${parent}: ${(err as Error).message}`, err);
    }
  }

  /** Remove partial entries left by processes that no longer run (a crash, `kill -9`). */
  async removeStalePartials(): Promise<number> {
    let removed = 0;
    const shards = await readdir(this.dir).catch(() => [] as string[]);
    for (const shard of shards) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      const names = await readdir(join(this.dir, shard)).catch(() => [] as string[]);
      for (const name of names) {
        const m = PARTIAL_RE.exec(name);
        if (!m || processAlive(Number(m[2]))) continue;
        await rm(join(this.dir, shard, name), { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Open an entry's bytes. */
  open(entry: CachedAsset): ReadStream {
    return createReadStream(entry.path, { highWaterMark: READ_CHUNK });
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type LiveState = 'building' | 'done' | 'failed';

/** An entry being written: a Writable for the build, followers for the responses. */
export class LiveAsset {
  private state: LiveState = 'building';
  private error: Error | null = null;
  private written = 0;
  private readonly sha256: Hash = createHash('sha256');
  private readonly sha512: Hash = createHash('sha512');
  private wake: { promise: Promise<void>; resolve: () => void };
  private committed: CachedAsset | null = null;
  /** Recent chunks covering [windowStart, written). */
  private window: Buffer[] = [];
  private windowStart = 0;
  private windowBytes = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private flushChain: Promise<void> = Promise.resolve();
  readonly writable: Writable;

  constructor(
    readonly key: string,
    private readonly tempDir: string,
    private readonly finalDir: string,
    private readonly fh: FileHandle,
  ) {
    this.wake = deferred();
    this.writable = new Writable({
      highWaterMark: 4 << 20,
      write: (chunk: Buffer, _enc, cb) => {
        this.append(chunk).then(() => cb(), (err: Error) => cb(err));
      },
    });
    // Errors surface through commit/abort; an unhandled 'error' event must not crash the process.
    this.writable.on('error', () => {});
  }

  /** Bytes available to followers. */
  get size(): number {
    return this.written;
  }

  get status(): LiveState {
    return this.state;
  }

  get failure(): Error | null {
    return this.error;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = deferred();
    w.resolve();
  }

  private async append(chunk: Buffer): Promise<void> {
    if (this.state !== 'building') throw this.error ?? new Error('cache entry is closed');
    this.sha256.update(chunk);
    this.sha512.update(chunk);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= COALESCE_BYTES) await this.flush();
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.flush().catch((err: Error) => this.abort(err));
      }, FLUSH_DELAY_MS);
    }
  }

  /** Write what is pending (serialized: the timer and the writer may both ask). */
  private flush(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    const run = this.flushChain.then(() => this.writePending());
    this.flushChain = run.catch(() => {});
    return run;
  }

  private async writePending(): Promise<void> {
    if (this.pendingBytes === 0 || this.state !== 'building') return;
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    const end = this.written + data.length;
    if (data.length >= HOLE_MIN && isZero(data)) {
      // Extending the file leaves a hole that reads as zeros: no bytes written, disk space saved.
      await this.fh.truncate(end);
    } else {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await this.fh.write(data, done, data.length - done, this.written + done);
        done += bytesWritten;
      }
    }
    this.window.push(data);
    this.windowBytes += data.length;
    while (this.window.length > 1 && (this.windowBytes > WINDOW_BYTES || this.window.length > WINDOW_CHUNKS)) {
      const dropped = this.window.shift()!;
      this.windowStart += dropped.length;
      this.windowBytes -= dropped.length;
    }
    this.written = end;
    this.notify();
  }

  /** Up to READ_CHUNK bytes from `pos`, when they are still in the memory window. */
  private fromWindow(pos: number): Buffer | null {
    if (pos < this.windowStart) return null;
    const parts: Buffer[] = [];
    let size = 0;
    let at = this.windowStart;
    for (const chunk of this.window) {
      const end = at + chunk.length;
      if (end > pos) {
        const part = pos > at ? chunk.subarray(pos - at) : chunk;
        const take = part.subarray(0, Math.min(part.length, READ_CHUNK - size));
        parts.push(take);
        size += take.length;
        if (size >= READ_CHUNK) break;
      }
      at = end;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
  }

  /** Wait until there are bytes to read, or the build finished or failed. */
  async started(): Promise<void> {
    while (this.state === 'building' && this.written === 0) await this.wake.promise;
  }

  /** Wait for the end of the build; resolves with the entry, rejects with the build's error. */
  async finished(): Promise<CachedAsset> {
    while (this.state === 'building') await this.wake.promise;
    if (this.state === 'failed') throw this.error;
    return this.committed!;
  }

  /** Flush, checksum, and move the entry into place. */
  async commit(name: string): Promise<CachedAsset> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.writable.once('error', reject);
        this.writable.end((err?: Error | null) => (err ? reject(err) : resolve()));
      });
      await this.flush();
      const meta: AssetMeta = { name, size: this.written, sha256: this.sha256.digest('hex'), sha512: this.sha512.digest('hex') };
      await this.fh.truncate(this.written);
      await this.fh.sync();
      await this.fh.close();
      await writeFile(join(this.tempDir, 'meta.json'), JSON.stringify(meta) + '\n');
      try {
        await rename(this.tempDir, this.finalDir);
      } catch (err) {
        // Another process committed the same key first: identical content by construction.
        if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        await rm(this.tempDir, { recursive: true, force: true });
      }
      this.committed = { key: this.key, path: join(this.finalDir, 'asset'), meta };
      this.window = [];
      this.windowStart = this.written;
      this.windowBytes = 0;
      this.state = 'done';
      this.notify();
      return this.committed;
    } catch (err) {
      const e = ioError('E_SERVE_CACHE', `cannot complete cache entry ${this.finalDir}: ${(err as Error).message}`, err);
      await this.abort(e);
      throw e;
    }
  }

  /** Drop the partial entry; followers fail with `err`. Safe to call more than once. */
  async abort(err: Error): Promise<void> {
    if (this.state !== 'building') return;
    this.state = 'failed';
    this.error = err;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.pending = [];
    this.window = [];
    this.writable.destroy();
    this.notify();
    await this.fh.close().catch(() => {});
    await rm(this.tempDir, { recursive: true, force: true }).catch(() => {});
  }

  /**
   * The bytes from the start, following the build: yields what is written, waits for more, ends
   * when the build is committed, throws when it fails.
   */
  async *follow(): AsyncGenerator<Buffer> {
    let fh: FileHandle;
    try {
      fh = await open(join(this.tempDir, 'asset'), 'r');
    } catch (err) {
      // Committed (renamed) between the caller's check and the open.
      if (this.state === 'done') fh = await open(this.committed!.path, 'r');
      else throw this.error ?? err;
    }
    try {
      let pos = 0;
      for (;;) {
        if (this.state === 'failed') throw this.error;
        if (pos < this.written) {
          const recent = this.fromWindow(pos);
          if (recent) {
            pos += recent.length;
            yield recent;
            continue;
          }
          const want = Math.min(READ_CHUNK, this.written - pos);
          const buf = Buffer.allocUnsafe(want);
          const { bytesRead } = await fh.read(buf, 0, want, pos);
          if (bytesRead === 0) throw ioError('E_SERVE_CACHE', `cache entry ${this.key} is shorter than reported`);
          pos += bytesRead;
          yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
          continue;
        }
        if (this.state === 'done') return;
        await this.wake.promise;
      }
    } finally {
      await fh.close().catch(() => {});
    }
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
