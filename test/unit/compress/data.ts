/** Deterministic test inputs for the compression tests (no random source: a fixed LCG). */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/** Text-like data: real files from /usr/share (stable on a Debian machine), else generated words. */
export function textLike(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  const files: string[] = [];
  try {
    for (const dir of ['/usr/share/common-licenses', '/usr/share/perl5/Debian', '/usr/include/linux']) {
      for (const f of readdirSync(dir).sort()) {
        const p = join(dir, f);
        if (statSync(p).isFile()) files.push(p);
      }
    }
  } catch {
    /* fall back to generated words */
  }
  for (const f of files) {
    if (at >= size) break;
    const b = readFileSync(f);
    const n = Math.min(b.length, size - at);
    out.set(b.subarray(0, n), at);
    at += n;
  }
  const rnd = lcg(seed);
  const words = ['lorem', 'ipsum', 'squashfs', 'initramfs', 'kernel', 'talos', 'zstd', '\n', 'block', 'frame', '0x1f8b', 'ext4'];
  while (at < size) {
    const w = words[Math.floor(rnd() * words.length)]! + (rnd() < 0.5 ? ' ' : '');
    for (let i = 0; i < w.length && at < size; i++) out[at++] = w.charCodeAt(i);
  }
  return out;
}

export function randomBytes(size: number, seed = 7): Uint8Array {
  const rnd = lcg(seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (rnd() * 256) | 0;
  return out;
}

/** Runs of zeros, text, random bytes and short periodic patterns. */
export function mixed(size: number, seed = 3): Uint8Array {
  const rnd = lcg(seed);
  const text = textLike(Math.min(size, 1 << 20), seed);
  const out = new Uint8Array(size);
  let at = 0;
  while (at < size) {
    const n = Math.min(size - at, 1 + Math.floor(rnd() * 20000));
    const k = rnd();
    if (k < 0.3) {
      /* zeros */
    } else if (k < 0.6) {
      const o = Math.floor(rnd() * Math.max(1, text.length - n));
      out.set(text.subarray(o, o + Math.min(n, text.length)), at);
    } else if (k < 0.8) {
      for (let i = 0; i < n; i++) out[at + i] = (rnd() * 256) | 0;
    } else {
      const period = 1 + Math.floor(rnd() * 9);
      for (let i = 0; i < n; i++) out[at + i] = (i % period) * 37;
    }
    at += n;
  }
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}
