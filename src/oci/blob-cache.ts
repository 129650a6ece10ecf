/**
 * The content-addressed cache (`$XDG_CACHE_HOME/imagekit`, else `~/.cache/imagekit`, or
 * `--cache-dir`):
 *
 * ```
 * blobs/<alg>/<hex>               verified blobs: manifests, configs, compressed layers
 * layers/<alg>/<hex>.tar          uncompressed layers by diff ID (what flattened FileTrees read from)
 * refs/<registry>/<repo>/@tag/<tag>        tag → digest records (JSON)
 * refs/<registry>/<repo>/@digest/<alg>-<hex>  digest references that were pulled
 * tmp/                            downloads in progress
 * ```
 *
 * A blob is written under `tmp/` and renamed into place only after its size and digest verified,
 * so a cut or corrupt download never lands. Renames are atomic, so concurrent pulls are safe.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { invalidInput, ioError, toImagekitError } from '../core/errors.js';
import { digestMismatch, digestOf, IncrementalDigest, parseDigest, type DigestAlgorithm } from './digest.js';
import type { BlobSink } from './registry-client.js';
import { formatReference, type ImageReference } from './reference.js';

export interface TagRecord {
  digest: string;
  mediaType: string;
  size: number;
}

export interface CachedReference extends TagRecord {
  /** `registry/repository:tag` or `registry/repository@digest`. */
  reference: string;
  registry: string;
  repository: string;
  tag?: string;
}

/** The default cache directory for an environment. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.IMAGEKIT_CACHE_DIR) return env.IMAGEKIT_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'imagekit');
}

let tempCounter = 0;
const writeBatch = 1024 * 1024;

/** A temp file that becomes a cache entry only through `commit`. */
export class PendingFile {
  private constructor(readonly path: string, readonly fh: FileHandle, private readonly durable: boolean) {}
  written = 0;

  /** `durable`: fsync before the rename (default true; a crash then never leaves a short blob). */
  static async create(dir: string, label: string, durable = true): Promise<PendingFile> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${label}.${process.pid}.${++tempCounter}.part`);
    return new PendingFile(path, await open(path, 'wx', 0o644), durable);
  }

  // Small chunks (network reads are ~16–64 KiB) are gathered into 1 MiB writes.
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private flushedTo = 0;

  async write(chunk: Uint8Array): Promise<void> {
    this.written += chunk.byteLength;
    if (chunk.byteLength >= writeBatch && this.pendingBytes === 0) {
      await this.writeAt(chunk);
      return;
    }
    this.pending.push(chunk); // callers hand over their chunk (network and decoder chunks are fresh)
    this.pendingBytes += chunk.byteLength;
    if (this.pendingBytes >= writeBatch) await this.flush();
  }

  private async writeAt(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await this.fh.write(bytes, done, bytes.byteLength - done, this.flushedTo + done);
      done += bytesWritten;
    }
    this.flushedTo += bytes.byteLength;
  }

  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const list = this.pending.map((c) => (Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
    let left = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    // One writev per batch: no concatenation copy.
    while (left > 0) {
      const { bytesWritten } = await this.fh.writev(list, this.flushedTo);
      this.flushedTo += bytesWritten;
      left -= bytesWritten;
      if (left > 0) {
        let skip = bytesWritten;
        while (skip >= list[0]!.byteLength) skip -= list.shift()!.byteLength;
        if (skip) list[0] = list[0]!.subarray(skip);
      }
    }
  }

  async truncate(): Promise<void> {
    // Writes are positional, so after truncation they start at 0 again.
    this.pending = [];
    this.pendingBytes = 0;
    await this.fh.truncate(0);
    this.written = 0;
    this.flushedTo = 0;
  }

  async commit(dest: string): Promise<void> {
    await this.flush();
    if (this.durable) await this.fh.sync();
    await this.fh.close();
    await mkdir(dirname(dest), { recursive: true });
    await rename(this.path, dest);
  }

  async discard(): Promise<void> {
    await this.fh.close().catch(() => {});
    await rm(this.path, { force: true });
  }
}

export class BlobCache {
  /** `tmpDir` defaults to `<dir>/tmp` (an OCI layout writer keeps it outside the layout). */
  constructor(readonly dir: string, private readonly tmp?: string) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): BlobCache {
    return new BlobCache(defaultCacheDir(env));
  }

  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest, 'cache blob');
    return join(this.dir, 'blobs', algorithm, hex);
  }

  /** Where the uncompressed tar of a layer with this diff ID lives. */
  layerPath(diffId: string): string {
    const { algorithm, hex } = parseDigest(diffId, 'cache layer');
    return join(this.dir, 'layers', algorithm, `${hex}.tar`);
  }

  get tmpDir(): string {
    return this.tmp ?? join(this.dir, 'tmp');
  }

  /** Is the blob cached (with the expected size, when given)? */
  async has(digest: string, size?: number): Promise<boolean> {
    try {
      const st = await stat(this.blobPath(digest));
      return st.isFile() && (size === undefined || size < 0 || st.size === size);
    } catch {
      return false;
    }
  }

  async hasLayer(diffId: string): Promise<boolean> {
    try {
      return (await stat(this.layerPath(diffId))).isFile();
    } catch {
      return false;
    }
  }

  openBlob(digest: string, start?: number, end?: number): ReadStream {
    const opts: { start?: number; end?: number } = {};
    if (start !== undefined) opts.start = start;
    if (end !== undefined) opts.end = end;
    return createReadStream(this.blobPath(digest), opts);
  }

  async readBlob(digest: string, limit: number): Promise<Uint8Array> {
    const path = this.blobPath(digest);
    const st = await stat(path);
    if (st.size > limit) throw invalidInput('E_BLOB_TOO_LARGE', `cached blob ${digest} is ${st.size} bytes (limit ${limit})`);
    return readFile(path);
  }

  /**
   * Fill a blob through a sink (a download); it lands in the cache only when `fill` resolves and
   * the size and digest match. On any failure nothing is left behind.
   */
  async putVerified(digest: string, size: number, fill: (sink: BlobSink) => Promise<void>): Promise<string> {
    const dest = this.blobPath(digest);
    const { algorithm, hex } = parseDigest(digest);
    const pending = await PendingFile.create(this.tmpDir, hex);
    const hash = new IncrementalDigest(algorithm);
    try {
      await fill({
        write: async (chunk) => {
          await pending.write(chunk);
          hash.update(chunk);
        },
        reset: async () => {
          await pending.truncate();
          hash.reset();
        },
      });
      const got = hash.digest();
      if (got !== digest) throw digestMismatch(`blob ${digest}`, digest, got);
      if (size >= 0 && pending.written !== size) throw invalidInput('E_BLOB_SIZE', `blob ${digest}: ${pending.written} bytes, descriptor says ${size}`);
      await pending.commit(dest);
      return dest;
    } catch (err) {
      await pending.discard();
      throw err;
    }
  }

  /** Store a stream, verifying it against `digest` (or computing the digest when none is given). */
  async putStream(stream: Readable | AsyncIterable<Uint8Array>, expected?: { digest?: string; size?: number }, algorithm: DigestAlgorithm = 'sha256'): Promise<{ digest: string; size: number; path: string }> {
    const alg = expected?.digest ? parseDigest(expected.digest).algorithm : algorithm;
    const pending = await PendingFile.create(this.tmpDir, 'stream');
    const hash = new IncrementalDigest(alg);
    try {
      for await (const chunk of stream as AsyncIterable<Uint8Array>) {
        if (expected?.size !== undefined && pending.written + chunk.byteLength > expected.size) {
          throw invalidInput('E_BLOB_SIZE', `blob ${expected.digest ?? ''}: more than the declared ${expected.size} bytes`.replace('  ', ' '));
        }
        await pending.write(chunk);
        hash.update(chunk);
      }
      const digest = hash.digest();
      if (expected?.digest && digest !== expected.digest) throw digestMismatch(`blob ${expected.digest}`, expected.digest, digest);
      if (expected?.size !== undefined && expected.size >= 0 && pending.written !== expected.size) {
        throw invalidInput('E_BLOB_SIZE', `blob ${digest}: ${pending.written} bytes, descriptor says ${expected.size}`);
      }
      const path = this.blobPath(digest);
      await pending.commit(path);
      return { digest, size: pending.written, path };
    } catch (err) {
      await pending.discard();
      throw toImagekitError(err);
    }
  }

  async putBytes(bytes: Uint8Array, expectedDigest?: string): Promise<string> {
    const digest = expectedDigest ?? digestOf(bytes);
    if (expectedDigest) {
      const got = digestOf(bytes, parseDigest(expectedDigest).algorithm);
      if (got !== expectedDigest) throw digestMismatch(`blob ${expectedDigest}`, expectedDigest, got);
    }
    if (await this.has(digest, bytes.byteLength)) return digest;
    const { hex } = parseDigest(digest);
    const pending = await PendingFile.create(this.tmpDir, hex);
    try {
      await pending.write(bytes);
      await pending.commit(this.blobPath(digest));
    } catch (err) {
      await pending.discard();
      throw toImagekitError(err);
    }
    return digest;
  }

  // ---- references --------------------------------------------------------------------------------

  private refDir(ref: Pick<ImageReference, 'registry' | 'repository'>): string {
    return join(this.dir, 'refs', ref.registry, ...ref.repository.split('/'));
  }

  private tagPath(ref: ImageReference): string {
    if (ref.tag === undefined) throw invalidInput('E_REFERENCE_INVALID', `${formatReference(ref)} has no tag`);
    return join(this.refDir(ref), '@tag', ref.tag);
  }

  /** Record what a tag (or a digest reference) resolved to. */
  async recordReference(ref: ImageReference, record: TagRecord): Promise<void> {
    const path = ref.digest ? join(this.refDir(ref), '@digest', ref.digest.replace(':', '-')) : this.tagPath(ref);
    const pending = await PendingFile.create(this.tmpDir, 'ref');
    try {
      await pending.write(new TextEncoder().encode(JSON.stringify(record) + '\n'));
      await pending.commit(path);
    } catch (err) {
      await pending.discard();
      throw toImagekitError(err);
    }
  }

  /** What a tag resolved to when it was last pulled; null when never. */
  async lookupTag(ref: ImageReference): Promise<TagRecord | null> {
    let text: string;
    try {
      text = await readFile(this.tagPath(ref), 'utf8');
    } catch {
      return null;
    }
    try {
      const r = JSON.parse(text) as TagRecord;
      parseDigest(r.digest);
      if (typeof r.mediaType !== 'string' || !Number.isSafeInteger(r.size)) return null;
      return r;
    } catch {
      return null;
    }
  }

  /** Every recorded reference, sorted by name. */
  async listReferences(): Promise<CachedReference[]> {
    const root = join(this.dir, 'refs');
    const out: CachedReference[] = [];
    const walk = async (dir: string, parts: string[]): Promise<void> => {
      let names: string[];
      try {
        names = (await readdir(dir)).sort();
      } catch {
        return;
      }
      for (const name of names) {
        const full = join(dir, name);
        if (name === '@tag' || name === '@digest') {
          if (parts.length < 2) continue;
          const registry = parts[0]!;
          const repository = parts.slice(1).join('/');
          for (const leaf of (await readdir(full)).sort()) {
            try {
              const r = JSON.parse(await readFile(join(full, leaf), 'utf8')) as TagRecord;
              parseDigest(r.digest);
              const entry: CachedReference = { ...r, registry, repository, reference: '' };
              if (name === '@tag') {
                entry.tag = leaf;
                entry.reference = `${registry}/${repository}:${leaf}`;
              } else entry.reference = `${registry}/${repository}@${leaf.replace('-', ':')}`;
              out.push(entry);
            } catch {
              // unreadable record: skip
            }
          }
        } else if ((await stat(full)).isDirectory()) {
          await walk(full, [...parts, name]);
        }
      }
    };
    await walk(root, []);
    return out;
  }

  /** Remove leftovers of interrupted downloads by this process (all of them when `all`). */
  async cleanTemp(all = false): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.tmpDir);
    } catch {
      return;
    }
    for (const n of names) if (all || n.includes(`.${process.pid}.`)) await rm(join(this.tmpDir, n), { force: true });
  }
}

export function cacheIoError(path: string, err: unknown) {
  return ioError('E_CACHE_IO', `cache ${path}: ${(err as Error).message}`, err);
}
