/**
 * Reproducibility context (design.md "Reproducibility context"): everything a build may take from
 * the host is here and passed down explicitly. Nothing else may read the clock, the uid, the locale
 * or a random source.
 */
import { createHash } from 'node:crypto';
import { invalidInput } from './errors.js';

export interface ReproContext {
  /** Seconds since the epoch used for every timestamp written into an output. */
  sourceDateEpoch: number;
  /** Seed for any identifier that is not derived from a label (GUIDs, volume serials). */
  seed: string;
}

/** SOURCE_DATE_EPOCH from an environment (default 0, as a reproducible build expects). */
export function reproFromEnv(env: NodeJS.ProcessEnv = process.env, seed = 'imagekit'): ReproContext {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return { sourceDateEpoch: 0, seed };
  if (!/^\d{1,12}$/.test(raw)) {
    throw invalidInput('E_SOURCE_DATE_EPOCH', `SOURCE_DATE_EPOCH must be a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  return { sourceDateEpoch: Number(raw), seed };
}

/** Deterministic bytes from the context seed and a purpose label (sha256 stream). */
export function seededBytes(ctx: ReproContext, purpose: string, length: number): Buffer {
  const out: Buffer[] = [];
  let have = 0;
  for (let i = 0; have < length; i++) {
    const h = createHash('sha256').update(ctx.seed).update('\0').update(purpose).update('\0').update(String(i)).digest();
    out.push(h);
    have += h.length;
  }
  return Buffer.concat(out).subarray(0, length);
}
