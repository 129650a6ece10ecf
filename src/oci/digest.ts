/**
 * Content digests (OCI image spec "Digests"): `algorithm:hex`. Only sha256 and sha512 are accepted;
 * every blob is hashed while it streams and checked before anything uses it.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { dependency, invalidInput, unsupported } from '../core/errors.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

const hexLength: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
// OCI image spec grammar: algorithm-component ( [+._-] algorithm-component )* ":" encoded.
const digestGrammar = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Parse and validate a digest string; `what` names the input for the error message. */
export function parseDigest(digest: string, what = 'digest'): ParsedDigest {
  if (typeof digest !== 'string' || digest.length > 200 || !digestGrammar.test(digest)) {
    throw invalidInput('E_DIGEST_INVALID', `${what}: malformed digest ${JSON.stringify(String(digest).slice(0, 200))}`);
  }
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw unsupported('E_DIGEST_ALGORITHM', `${what}: unsupported digest algorithm ${JSON.stringify(algorithm)} (sha256 and sha512 are supported)`);
  }
  if (hex.length !== hexLength[algorithm] || !/^[0-9a-f]+$/.test(hex)) {
    throw invalidInput('E_DIGEST_INVALID', `${what}: ${algorithm} digest must be ${hexLength[algorithm]} lower-case hex digits: ${JSON.stringify(digest)}`);
  }
  return { algorithm, hex };
}

export function isDigest(s: string): boolean {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

export function sha256Digest(data: Uint8Array | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:` + createHash(algorithm).update(data).digest('hex');
}

/** Throw E_DIGEST_MISMATCH unless `data` hashes to `expected`. */
export function verifyBytes(data: Uint8Array, expected: string, what: string): void {
  const { algorithm } = parseDigest(expected, what);
  const got = digestOf(data, algorithm);
  if (got !== expected) throw digestMismatch(what, expected, got);
}

export function digestMismatch(what: string, expected: string, got: string) {
  return dependency('E_DIGEST_MISMATCH', `${what}: digest mismatch (expected ${expected}, got ${got})`);
}

/**
 * A pass-through transform that hashes and counts what flows through it. It does not judge: the
 * owner calls `check()` once the stream ended, before using or publishing the bytes.
 */
export class DigestingStream extends Transform {
  private readonly hash: Hash;
  bytes = 0;
  constructor(readonly algorithm: DigestAlgorithm = 'sha256', private readonly limit = Number.MAX_SAFE_INTEGER) {
    super();
    this.hash = createHash(algorithm);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      cb(invalidInput('E_BLOB_TOO_LARGE', `stream exceeds its declared size of ${this.limit} bytes`));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }
  /** The digest of everything seen (call once, after the end). */
  digest(): string {
    return `${this.algorithm}:` + this.hash.digest('hex');
  }
}

/** A hash that can be fed incrementally and reset (for `Range` resume restarts). */
export class IncrementalDigest {
  private hash: Hash;
  bytes = 0;
  constructor(readonly algorithm: DigestAlgorithm) {
    this.hash = createHash(algorithm);
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
  }
  reset(): void {
    this.hash = createHash(this.algorithm);
    this.bytes = 0;
  }
  digest(): string {
    return `${this.algorithm}:` + this.hash.copy().digest('hex');
  }
}
