/** Deterministic test inputs for the xz tests (seeded, no randomness from the host). */

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ('the of and to in is for that with on as by this be are from or it at an was which ' +
  'kernel initramfs squashfs partition sector block device driver module firmware talos image ' +
  'compress decompress dictionary match literal length distance header footer index stream').split(' ');

/** Text with a Zipf-ish word distribution: compresses like source code or docs. */
export function textLike(size: number, seed = 1): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(size);
  let pos = 0;
  while (pos < size) {
    const w = WORDS[Math.floor(WORDS.length * r() * r())]!;
    for (let i = 0; i < w.length && pos < size; i++) out[pos++] = w.charCodeAt(i);
    if (pos < size) out[pos++] = r() < 0.1 ? 10 : 32;
  }
  return out;
}

/** Random bytes: incompressible (like squashfs/zstd payloads in an initramfs). */
export function randomBytes(size: number, seed = 2): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (r() * 256) | 0;
  return out;
}

/** A mix of structures: records with small integers, repeated runs, text, random islands, zeros. */
export function mixed(size: number, seed = 3): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(size);
  let pos = 0;
  while (pos < size) {
    const kind = Math.floor(r() * 5);
    const n = Math.min(size - pos, 16 + Math.floor(r() * 4000));
    if (kind === 0) out.set(textLike(n, Math.floor(r() * 1e9)), pos);
    else if (kind === 1) out.set(randomBytes(n, Math.floor(r() * 1e9)), pos);
    else if (kind === 2) {
      const v = Math.floor(r() * 256);
      out.fill(v, pos, pos + n);
    } else if (kind === 3) {
      for (let i = 0; i < n; i++) out[pos + i] = i % 16 < 4 ? (pos + i) >>> 4 : i & 3;
    } else if (pos > 0) {
      // Copy of earlier data (a long match at some distance).
      const from = Math.floor(r() * pos);
      for (let i = 0; i < n; i++) out[pos + i] = out[from + i]!;
    }
    pos += n;
  }
  return out;
}

/** Data islands in zeros, like a sparse disk image. */
export function sparse(size: number, seed = 4): Uint8Array {
  const out = new Uint8Array(size);
  const r = rng(seed);
  for (let k = 0; k < 3; k++) {
    const at = Math.floor(r() * size * 0.8);
    const n = Math.min(size - at, 100_000 + Math.floor(r() * 300_000));
    out.set(mixed(n, seed * 10 + k), at);
  }
  return out;
}
