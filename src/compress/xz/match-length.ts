/**
 * Length of the common prefix of `buf[a…]` and `buf[b…]`, counting from `len` (bytes before it are
 * known equal) up to `limit`. Four bytes at a time through a DataView (TurboFan turns it into one
 * unaligned load), then byte by byte; liblzma's lzma_memcmplen does the same with 8 bytes.
 * Callers guarantee `max(a, b) + limit ≤ buf.length`.
 */
export function matchLength(buf: Uint8Array, view: DataView, a: number, b: number, len: number, limit: number): number {
  while (len + 4 <= limit) {
    const x = view.getInt32(a + len, true) ^ view.getInt32(b + len, true);
    if (x !== 0) return len + ((31 - Math.clz32(x & -x)) >>> 3);
    len += 4;
  }
  while (len < limit && buf[a + len] === buf[b + len]) len++;
  return len;
}
