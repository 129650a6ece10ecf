/**
 * The nouns, after go-containerregistry `pkg/v1` (style-anchors §3.1): an `Image` is a manifest, a
 * config and layers whose bytes come from a `BlobSource` (the cache, an OCI layout directory, an
 * archive). Sources hand out streams that are verified against the descriptor's digest while they
 * flow: a stream whose bytes do not match errors at its end, before a consumer commits anything.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { invalidInput } from '../core/errors.js';
import { digestMismatch, IncrementalDigest, parseDigest } from './digest.js';
import type { Descriptor, ImageConfig, ImageManifest } from './manifest.js';
import type { Platform } from './platform.js';
import type { ImageReference } from './reference.js';

/** A byte range of a local file holding a blob as it is (no copy needed). */
export interface LocalBlob {
  path: string;
  /** Inclusive start, exclusive end. */
  start: number;
  end: number;
  /** True when the bytes were already checked against the digest (cache entries). */
  verified: boolean;
}

export interface BlobSource {
  /** Names the source in messages (`cache`, `OCI layout /x`, `archive /y.tar`). */
  readonly name: string;
  /** A stream of the blob that errors (E_DIGEST_MISMATCH / E_BLOB_SIZE) at its end if the bytes are wrong. */
  open(desc: Pick<Descriptor, 'digest' | 'size'>): Promise<Readable>;
  /** Where the blob lies in a local file, when it does. */
  local(desc: Pick<Descriptor, 'digest' | 'size'>): Promise<LocalBlob | null>;
}

export interface Layer {
  descriptor: Descriptor;
  /** Digest of the uncompressed tar, from the config's `rootfs.diff_ids` (when the config has it). */
  diffId?: string;
}

export interface Image {
  /** What the image was loaded from, for messages: a reference or a path. */
  name: string;
  reference?: ImageReference;
  /** Digest of the image manifest. */
  digest: string;
  mediaType: string;
  manifest: ImageManifest;
  rawManifest: Uint8Array;
  /** Digest of the index the manifest was picked from, when there was one. */
  indexDigest?: string;
  config: ImageConfig;
  rawConfig: Uint8Array;
  platform?: Platform;
  layers: Layer[];
  blobs: BlobSource;
}

/** A pass-through that checks size and digest; errors at the end (or as soon as it is too long). */
export class VerifyingStream extends Transform {
  private readonly hash: IncrementalDigest;
  constructor(private readonly desc: Pick<Descriptor, 'digest' | 'size'>, private readonly what: string) {
    super();
    this.hash = new IncrementalDigest(parseDigest(desc.digest, what).algorithm);
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    if (this.hash.bytes + chunk.byteLength > this.desc.size && this.desc.size >= 0) {
      cb(invalidInput('E_BLOB_SIZE', `${this.what}: longer than the ${this.desc.size} bytes its descriptor declares`));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    if (this.desc.size >= 0 && this.hash.bytes !== this.desc.size) {
      cb(invalidInput('E_BLOB_SIZE', `${this.what}: ${this.hash.bytes} bytes, its descriptor declares ${this.desc.size}`));
      return;
    }
    const got = this.hash.digest();
    cb(got === this.desc.digest ? null : digestMismatch(this.what, this.desc.digest, got));
  }
}

/** Open a local blob range, verifying unless already verified. */
export function openLocal(blob: LocalBlob, desc: Pick<Descriptor, 'digest' | 'size'>, what: string): Readable {
  const raw = blob.end > blob.start ? createReadStream(blob.path, { start: blob.start, end: blob.end - 1, highWaterMark: 256 * 1024 }) : Readable.from([]);
  if (blob.verified) return raw;
  const v = new VerifyingStream(desc, what);
  raw.on('error', (e: Error) => v.destroy(e));
  return raw.pipe(v);
}

/** Read a whole (small) blob, verified. */
export async function readBlobBytes(source: BlobSource, desc: Pick<Descriptor, 'digest' | 'size'>, limit: number, what: string): Promise<Uint8Array> {
  if (desc.size > limit) throw invalidInput('E_BLOB_TOO_LARGE', `${what}: ${desc.size} bytes exceeds the ${limit}-byte limit`);
  const parts: Buffer[] = [];
  const s = await source.open(desc);
  let n = 0;
  await pipeline(s, async function* (src: AsyncIterable<Buffer>) {
    for await (const c of src) {
      n += c.byteLength;
      if (n > limit) throw invalidInput('E_BLOB_TOO_LARGE', `${what}: exceeds the ${limit}-byte limit`);
      parts.push(c);
    }
  });
  return Buffer.concat(parts);
}

/** Blobs in a directory tree `blobs/<alg>/<hex>` (OCI layouts; the cache uses the same shape). */
export function directoryBlobSource(root: string, name: string, verified: boolean): BlobSource {
  const pathOf = (digest: string) => {
    const { algorithm, hex } = parseDigest(digest, name);
    return `${root}/blobs/${algorithm}/${hex}`;
  };
  const local = async (desc: Pick<Descriptor, 'digest' | 'size'>): Promise<LocalBlob | null> => {
    const path = pathOf(desc.digest);
    try {
      const st = await stat(path);
      if (!st.isFile()) return null;
      if (desc.size >= 0 && st.size !== desc.size) {
        throw invalidInput('E_BLOB_SIZE', `${name}: blob ${desc.digest} is ${st.size} bytes, its descriptor declares ${desc.size}`);
      }
      return { path, start: 0, end: st.size, verified };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  };
  return {
    name,
    local,
    async open(desc) {
      const l = await local(desc);
      if (!l) throw invalidInput('E_BLOB_MISSING', `${name}: blob ${desc.digest} is missing`);
      return openLocal(l, desc, `blob ${desc.digest} in ${name}`);
    },
  };
}
