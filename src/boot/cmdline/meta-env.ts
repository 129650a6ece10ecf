/**
 * META values carried on the kernel command line (talos-imager.md §5.3; upstream
 * `pkg/machinery/meta/meta.go` `Values.Encode` / `DecodeValues`): the installer finds them in
 * `talos.environment=INSTALLER_META_BASE64=<value>`.
 *
 * Encoding: `0x<key hex>=<value>` joined by `;`; when the target allows it (≥ 1.6.3) and the text is
 * longer than 256 bytes it is gzipped; then standard base64 with padding.
 *
 * Divergence from upstream, on purpose and documented: upstream gzips with Go's compress/flate at
 * BestCompression. Its deflate stream is Go's own algorithm and differs from zlib's, so for META text
 * over 256 bytes the base64 here is not the same string as the imager's (it is usually shorter: the
 * upstream test vector "huge" is 80 base64 characters from Go, 72 from here). Both decode to the same
 * values — Talos gunzips whatever it gets. The gzip header is written exactly as Go writes it:
 * no name, MTIME 0, XFL 2 (best compression), OS 255 (unknown); zlib's own header would say OS 3.
 */
import { crc32, deflateRawSync, gunzipSync } from 'node:zlib';
import { invalidInput } from '../../core/errors.js';
import type { MetaValue } from '../../profile/schema.js';
import { parseGoUint } from '../../profile/yaml/resolve.js';

/** Go's `gzip.NewWriterLevel(w, BestCompression)` header (RFC 1952 §2.3). */
export const GO_GZIP_BEST_HEADER = Uint8Array.of(0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0xff);

/** Above this many bytes the encoded META text is gzipped (when allowed). */
export const META_GZIP_THRESHOLD = 256;

/** gzip member with Go's header fields around a zlib level-9 raw deflate stream. */
export function gzipLikeGo(data: Uint8Array): Buffer {
  const body = deflateRawSync(data, { level: 9 });
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data) >>> 0, 0);
  trailer.writeUInt32LE(data.byteLength >>> 0, 4);
  return Buffer.concat([GO_GZIP_BEST_HEADER, body, trailer]);
}

/** `Value.String()`: `0x%x=%s`. */
export const metaValueText = (v: MetaValue) => `0x${v.key.toString(16)}=${v.value}`;

/** `Values.Encode(allowGzip)`. */
export function encodeMetaValues(values: readonly MetaValue[], allowGzip: boolean): string {
  let raw: Buffer = Buffer.from(values.map(metaValueText).join(';'), 'utf8');
  if (allowGzip && raw.length > META_GZIP_THRESHOLD) raw = gzipLikeGo(raw);
  return raw.toString('base64');
}

/** `DecodeValues`: base64, gunzip when it starts with the gzip magic, split and parse. */
export function decodeMetaValues(encoded: string, maxBytes = 1 << 20): MetaValue[] {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    throw invalidInput('E_META_BASE64', 'META environment value is not standard base64');
  }
  let b: Buffer = Buffer.from(encoded, 'base64');
  if (b.length === 0) return [];
  if (b.length >= 10 && b[0] === 0x1f && b[1] === 0x8b) {
    try {
      b = gunzipSync(b, { maxOutputLength: maxBytes });
    } catch (e) {
      throw invalidInput('E_META_GZIP', `META environment value: ${(e as Error).message}`, e);
    }
  }
  return b
    .toString('utf8')
    .split(';')
    .map((part) => {
      // meta.Value.Parse: cut at the first '=', key via strconv.ParseUint(k, 0, 8).
      const eq = part.indexOf('=');
      const key = eq < 0 ? null : parseGoUint(part.slice(0, eq), 8);
      if (key === null) throw invalidInput('E_META_VALUE', `invalid META value ${JSON.stringify(part.slice(0, 40))}`);
      return { key: Number(key), value: part.slice(eq + 1) };
    });
}
