/**
 * Content-Type of a boot asset from its path's last extension (image-factory.md §2.8, upstream
 * `internal/mime`): a fixed table for the factory's own types, then what a Debian `/etc/mime.types`
 * gives Go's `mime.TypeByExtension` for the remaining asset suffixes (`.zst`, `.tar`), written out
 * here so the answer does not depend on the host. No extension → `application/octet-stream`.
 */
const TYPES: Readonly<Record<string, string>> = {
  '.efi': 'application/efi',
  '.iso': 'application/x-iso9660-image',
  '.xz': 'application/x-xz',
  '.gz': 'application/gzip',
  '.qcow2': 'application/x-qemu-disk',
  '.zst': 'application/zstd',
  '.tar': 'application/x-tar',
};

/** Go `filepath.Ext`: from the last dot of the last path element, '' when there is none. */
export function goExt(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot < 0 ? '' : base.slice(dot);
}

export function assetContentType(path: string): string {
  const ext = goExt(path);
  return Object.hasOwn(TYPES, ext) ? TYPES[ext]! : 'application/octet-stream';
}

/**
 * `Content-Disposition: attachment; filename="<name>"` as upstream writes it. Upstream copies the
 * name raw; a name that cannot be a quoted string (quotes, backslashes, control or non-ASCII
 * characters) is escaped per RFC 6266 instead, with a `filename*` UTF-8 form for non-ASCII.
 */
export function contentDisposition(filename: string): string {
  if (/^[\x20-\x7e]*$/.test(filename) && !/["\\]/.test(filename)) return `attachment; filename="${filename}"`;
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, (c) => `\\${c}`);
  const star = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${star}`;
}
