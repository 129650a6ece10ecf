/**
 * Manifests, indexes, descriptors and image configs (OCI image spec; Docker manifest v2 schema 2 and
 * manifest list, which have the same shape). Everything read from a registry or a file is validated
 * here with bounds, so later code can trust the shapes.
 */
import { invalidInput, unsupported } from '../core/errors.js';
import { parseDigest } from './digest.js';
import { MediaType, bareMediaType, isImageManifestMediaType, isIndexMediaType, isSchema1MediaType } from './media-types.js';
import { formatPlatform, platformMatches, type Platform } from './platform.js';

/** Largest manifest we read (distribution's own limit is 4 MiB). */
export const maxManifestBytes = 4 * 1024 * 1024;
/** Largest image config we read. */
export const maxConfigBytes = 8 * 1024 * 1024;
const maxDescriptors = 10_000;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
  subject?: Descriptor;
  artifactType?: string;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
  subject?: Descriptor;
  artifactType?: string;
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  'os.version'?: string;
  created?: string;
  config?: Record<string, unknown>;
  rootfs?: { type: string; diff_ids: string[] };
  history?: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; index: ImageIndex }
  | { kind: 'manifest'; mediaType: string; manifest: ImageManifest };

type Json = Record<string, unknown>;

function fail(what: string, why: string): never {
  throw invalidInput('E_MANIFEST_INVALID', `${what}: ${why}`);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(bytes: Uint8Array, limit: number, what: string): Json {
  if (bytes.byteLength > limit) fail(what, `${bytes.byteLength} bytes is larger than the ${limit}-byte limit`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    fail(what, `not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (!isObject(value)) fail(what, 'not a JSON object');
  return value;
}

function stringMap(v: unknown, what: string, field: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) fail(what, `${field} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') fail(what, `${field}[${JSON.stringify(k)}] must be a string`);
    out[k] = val;
  }
  return out;
}

function parsePlatformField(v: unknown, what: string): Platform | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || typeof v.os !== 'string' || typeof v.architecture !== 'string') fail(what, 'platform must have string os and architecture');
  const p: Platform = { os: v.os, architecture: v.architecture };
  if (typeof v.variant === 'string' && v.variant !== '') p.variant = v.variant;
  if (typeof v['os.version'] === 'string' && v['os.version'] !== '') p['os.version'] = v['os.version'];
  if (Array.isArray(v['os.features'])) p['os.features'] = v['os.features'].filter((x): x is string => typeof x === 'string');
  return p;
}

/** Validate one descriptor (digest grammar, size bounds). */
export function parseDescriptor(v: unknown, what: string): Descriptor {
  if (!isObject(v)) fail(what, 'descriptor must be an object');
  if (typeof v.mediaType !== 'string' || v.mediaType.length === 0 || v.mediaType.length > 255) fail(what, 'descriptor mediaType must be a non-empty string');
  if (typeof v.digest !== 'string') fail(what, 'descriptor digest must be a string');
  parseDigest(v.digest, what);
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) fail(what, `descriptor size must be a non-negative integer, got ${JSON.stringify(v.size)}`);
  const d: Descriptor = { mediaType: v.mediaType, digest: v.digest, size: v.size };
  if (v.urls !== undefined && v.urls !== null) {
    if (!Array.isArray(v.urls) || v.urls.some((u) => typeof u !== 'string')) fail(what, 'descriptor urls must be strings');
    d.urls = v.urls as string[];
  }
  const ann = stringMap(v.annotations, what, 'annotations');
  if (ann) d.annotations = ann;
  const platform = parsePlatformField(v.platform, what);
  if (platform) d.platform = platform;
  if (typeof v.artifactType === 'string') d.artifactType = v.artifactType;
  return d;
}

function descriptorList(v: unknown, what: string, field: string): Descriptor[] {
  if (!Array.isArray(v)) fail(what, `${field} must be an array`);
  if (v.length > maxDescriptors) fail(what, `${field} has ${v.length} entries (limit ${maxDescriptors})`);
  return v.map((d, i) => parseDescriptor(d, `${what} ${field}[${i}]`));
}

/**
 * Parse a manifest or an index. The kind comes from the `Content-Type` the registry sent (when
 * given), else from the document's own `mediaType`, else from its shape. Docker schema 1 is refused.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined, what: string): ParsedManifest {
  const doc = parseJson(bytes, maxManifestBytes, what);
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const header = bareMediaType(contentType);
  if (isSchema1MediaType(header) || (declared && isSchema1MediaType(declared)) || doc.schemaVersion === 1) {
    throw unsupported('E_MANIFEST_SCHEMA1', `${what}: Docker image manifest schema 1 is deprecated and not supported; re-push the image with a current client`);
  }
  if (doc.schemaVersion !== 2) fail(what, `schemaVersion must be 2, got ${JSON.stringify(doc.schemaVersion)}`);
  let mediaType = declared ?? '';
  // The header is authoritative when it names a manifest type; `application/json` and
  // `application/octet-stream` (layouts, some servers) leave the decision to the document.
  if (isIndexMediaType(header) || isImageManifestMediaType(header)) {
    if (declared && declared !== header) fail(what, `Content-Type ${header} disagrees with the document's mediaType ${declared}`);
    mediaType = header;
  }
  if (!mediaType) mediaType = Array.isArray(doc.manifests) ? MediaType.ociIndex : MediaType.ociManifest;

  if (isIndexMediaType(mediaType)) {
    const index: ImageIndex = { schemaVersion: 2, manifests: descriptorList(doc.manifests, what, 'manifests') };
    if (declared) index.mediaType = declared;
    const ann = stringMap(doc.annotations, what, 'annotations');
    if (ann) index.annotations = ann;
    if (doc.subject !== undefined) index.subject = parseDescriptor(doc.subject, `${what} subject`);
    if (typeof doc.artifactType === 'string') index.artifactType = doc.artifactType;
    return { kind: 'index', mediaType, index };
  }
  if (isImageManifestMediaType(mediaType)) {
    const manifest: ImageManifest = {
      schemaVersion: 2,
      config: parseDescriptor(doc.config, `${what} config`),
      layers: descriptorList(doc.layers, what, 'layers'),
    };
    if (declared) manifest.mediaType = declared;
    const ann = stringMap(doc.annotations, what, 'annotations');
    if (ann) manifest.annotations = ann;
    if (doc.subject !== undefined) manifest.subject = parseDescriptor(doc.subject, `${what} subject`);
    if (typeof doc.artifactType === 'string') manifest.artifactType = doc.artifactType;
    return { kind: 'manifest', mediaType, manifest };
  }
  throw unsupported('E_MEDIA_TYPE_UNSUPPORTED', `${what}: unsupported manifest media type ${JSON.stringify(mediaType)}`);
}

/** Parse an image config blob (`application/vnd.oci.image.config.v1+json` or Docker's). */
export function parseImageConfig(bytes: Uint8Array, what: string): ImageConfig {
  const doc = parseJson(bytes, maxConfigBytes, what) as ImageConfig;
  for (const f of ['architecture', 'os', 'variant', 'created'] as const) {
    if (doc[f] !== undefined && typeof doc[f] !== 'string') fail(what, `${f} must be a string`);
  }
  if (doc.rootfs !== undefined) {
    const r = doc.rootfs as unknown;
    if (!isObject(r) || !Array.isArray(r.diff_ids)) fail(what, 'rootfs.diff_ids must be an array');
    if (r.diff_ids.length > maxDescriptors) fail(what, `rootfs.diff_ids has ${r.diff_ids.length} entries (limit ${maxDescriptors})`);
    r.diff_ids.forEach((d, i) => {
      if (typeof d !== 'string') fail(what, `rootfs.diff_ids[${i}] must be a string`);
      parseDigest(d, `${what} rootfs.diff_ids[${i}]`);
    });
  }
  return doc;
}

/** The platform an image config declares (for layouts and single-manifest references). */
export function configPlatform(config: ImageConfig): Platform | undefined {
  if (!config.os || !config.architecture) return undefined;
  const p: Platform = { os: config.os, architecture: config.architecture };
  if (config.variant) p.variant = config.variant;
  return p;
}

/** Platforms an index offers, for error messages: `linux/amd64, linux/arm64`. */
export function describePlatforms(index: ImageIndex): string {
  const list = index.manifests.map((d) => (d.platform ? formatPlatform(d.platform) : `(no platform: ${d.digest.slice(0, 19)})`));
  return list.length ? list.join(', ') : 'none';
}

/**
 * Pick the child manifest for a platform: the first descriptor whose platform matches (as
 * go-containerregistry's `remote.Image` with a platform does). Throws E_PLATFORM_NOT_FOUND listing
 * what is available.
 */
export function selectPlatform(index: ImageIndex, want: Platform, what: string): Descriptor {
  const hit = index.manifests.find((d) => platformMatches(want, d.platform));
  if (hit) return hit;
  throw invalidInput('E_PLATFORM_NOT_FOUND', `${what} has no image for platform ${formatPlatform(want)} (available: ${describePlatforms(index)})`);
}

/** Canonical JSON bytes for a manifest, index or config we write (no insignificant white space). */
export function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
