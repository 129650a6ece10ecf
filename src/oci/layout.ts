/**
 * OCI image layout directories (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), read and written.
 *
 * Reading picks the image as the imager does for `ociPath` (talos-imager.md §2.2): the first
 * `index.json` descriptor whose platform is linux/<arch>. Layouts written by skopeo or umoci often
 * carry no platform on their descriptors; when no descriptor matches by platform, imagekit then
 * looks inside (the config's os/architecture, or a nested index) instead of failing as upstream would.
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { link, mkdir, readFile, rename, stat, writeFile, copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidInput, toImagekitError } from '../core/errors.js';
import { silentProgress, type ProgressSink } from '../core/progress.js';
import { directoryBlobSource, readBlobBytes, type BlobSource, type Image } from './image.js';
import { configPlatform, describePlatforms, encodeJson, maxConfigBytes, maxManifestBytes, parseImageConfig, parseManifest, type Descriptor, type ImageIndex, type ParsedManifest } from './manifest.js';
import { MediaType, isIndexMediaType } from './media-types.js';
import { formatPlatform, platformMatches, type Platform } from './platform.js';
import { layersOf } from './remote.js';
import { parseDigest } from './digest.js';

export const refNameAnnotation = 'org.opencontainers.image.ref.name';

export interface LayoutSelectOptions {
  /** Only descriptors annotated with this `org.opencontainers.image.ref.name` (e.g. a tag). */
  refName?: string;
  progress?: ProgressSink;
}

/** Read and check `oci-layout` and `index.json`. */
export async function readLayoutIndex(dir: string): Promise<ImageIndex> {
  let marker: string;
  try {
    marker = await readFile(join(dir, 'oci-layout'), 'utf8');
  } catch {
    throw invalidInput('E_LAYOUT_INVALID', `${dir} is not an OCI image layout (no oci-layout file)`);
  }
  let version: unknown;
  try {
    version = (JSON.parse(marker) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch {
    throw invalidInput('E_LAYOUT_INVALID', `${dir}/oci-layout is not JSON`);
  }
  if (typeof version !== 'string' || !/^1\.\d+\.\d+$/.test(version)) throw invalidInput('E_LAYOUT_INVALID', `${dir}/oci-layout: unsupported imageLayoutVersion ${JSON.stringify(version)}`);
  let bytes: Buffer;
  try {
    const st = await stat(join(dir, 'index.json'));
    if (st.size > maxManifestBytes) throw invalidInput('E_LAYOUT_INVALID', `${dir}/index.json is larger than ${maxManifestBytes} bytes`);
    bytes = await readFile(join(dir, 'index.json'));
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw invalidInput('E_LAYOUT_INVALID', `${dir} is not an OCI image layout (no index.json)`);
    throw toImagekitError(err);
  }
  const parsed = parseManifest(bytes, MediaType.ociIndex, `${dir}/index.json`);
  if (parsed.kind !== 'index') throw invalidInput('E_LAYOUT_INVALID', `${dir}/index.json is not an image index`);
  return parsed.index;
}

/** Pick an image manifest from an index whose blobs are in `blobs` (layouts and OCI archives). */
export async function selectFromIndex(index: ImageIndex, blobs: BlobSource, platform: Platform, where: string, opts: LayoutSelectOptions = {}): Promise<{ descriptor: Descriptor; parsed: ParsedManifest & { kind: 'manifest' }; raw: Uint8Array }> {
  const candidates = opts.refName ? index.manifests.filter((d) => d.annotations?.[refNameAnnotation] === opts.refName) : index.manifests;
  if (opts.refName && candidates.length === 0) {
    const names = index.manifests.map((d) => d.annotations?.[refNameAnnotation]).filter(Boolean);
    throw invalidInput('E_LAYOUT_REF', `${where}: no image named ${JSON.stringify(opts.refName)} (available: ${names.length ? names.join(', ') : 'none'})`);
  }
  const load = async (d: Descriptor) => {
    const raw = await readBlobBytes(blobs, d, maxManifestBytes, `manifest ${d.digest} in ${where}`);
    return { raw, parsed: parseManifest(raw, d.mediaType, `manifest ${d.digest} in ${where}`) };
  };
  // 1. As the imager: the first descriptor whose platform matches; no nested indexes.
  for (const d of candidates) {
    if (!d.platform || isIndexMediaType(d.mediaType) || !platformMatches(platform, d.platform)) continue;
    const m = await load(d);
    if (m.parsed.kind === 'manifest') return { descriptor: d, parsed: m.parsed, raw: m.raw };
  }
  // 2. Descriptors without a platform: look at the config, or into a nested index.
  const seen: string[] = [];
  for (const d of candidates) {
    if (d.platform && !isIndexMediaType(d.mediaType)) continue;
    const m = await load(d);
    if (m.parsed.kind === 'manifest') {
      const cfgRaw = await readBlobBytes(blobs, m.parsed.manifest.config, maxConfigBytes, `config in ${where}`);
      const p = configPlatform(parseImageConfig(cfgRaw, `config in ${where}`));
      seen.push(p ? formatPlatform(p) : `(unknown: ${d.digest.slice(0, 19)})`);
      if (!p || platformMatches(platform, p)) {
        (opts.progress ?? silentProgress)({ type: 'info', message: `${where}: using ${d.digest} (its descriptor has no platform; its config says ${p ? formatPlatform(p) : 'nothing'})` });
        return { descriptor: { ...d, ...(p ? { platform: p } : {}) }, parsed: m.parsed, raw: m.raw };
      }
    } else {
      const child = m.parsed.index.manifests.find((c) => platformMatches(platform, c.platform));
      seen.push(describePlatforms(m.parsed.index));
      if (child) {
        const c = await load(child);
        if (c.parsed.kind === 'manifest') return { descriptor: child, parsed: c.parsed, raw: c.raw };
      }
    }
  }
  const available = [describePlatforms({ schemaVersion: 2, manifests: candidates.filter((d) => d.platform) }), ...seen].filter((s) => s && s !== 'none');
  throw invalidInput('E_PLATFORM_NOT_FOUND', `${where} has no image for platform ${formatPlatform(platform)} (available: ${available.length ? available.join(', ') : 'none'})`);
}

/** Load an image from an OCI layout directory (`ociPath`). Blobs are verified as they are read. */
export async function openLayoutImage(dir: string, platform: Platform, opts: LayoutSelectOptions = {}): Promise<Image> {
  const index = await readLayoutIndex(dir);
  const where = `OCI layout ${dir}`;
  const blobs = directoryBlobSource(dir, where, false);
  return imageFromIndex(index, blobs, platform, where, opts);
}

export async function imageFromIndex(index: ImageIndex, blobs: BlobSource, platform: Platform, where: string, opts: LayoutSelectOptions = {}): Promise<Image> {
  const { descriptor, parsed, raw } = await selectFromIndex(index, blobs, platform, where, opts);
  const manifest = parsed.manifest;
  const rawConfig = await readBlobBytes(blobs, manifest.config, maxConfigBytes, `config of ${where}`);
  const config = parseImageConfig(rawConfig, `config of ${where}`);
  const image: Image = {
    name: opts.refName ? `${where}:${opts.refName}` : where,
    digest: descriptor.digest,
    mediaType: parsed.mediaType,
    manifest,
    rawManifest: raw,
    config,
    rawConfig,
    layers: layersOf(manifest, config, where),
    blobs,
  };
  const p = descriptor.platform ?? configPlatform(config);
  if (p) image.platform = p;
  return image;
}

// ---- writing ---------------------------------------------------------------------------------------

/** Put a blob into a layout: hard link from a local verified file when possible, else copy. */
async function placeBlob(dir: string, source: BlobSource, desc: Descriptor): Promise<void> {
  const { algorithm, hex } = parseDigest(desc.digest);
  const dest = join(dir, 'blobs', algorithm, hex);
  try {
    if ((await stat(dest)).size === desc.size) return;
  } catch {
    // absent
  }
  await mkdir(join(dir, 'blobs', algorithm), { recursive: true });
  const local = await source.local(desc);
  const tmp = `${dest}.${process.pid}.tmp`;
  if (local && local.verified && local.start === 0) {
    try {
      await link(local.path, tmp);
    } catch {
      await copyFile(local.path, tmp);
    }
    await rename(tmp, dest);
    return;
  }
  const stream = await source.open(desc);
  try {
    await pipeline(stream, createWriteStream(tmp));
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw toImagekitError(err);
  }
}

/**
 * Write `image` into an OCI layout (created when missing), listed in `index.json` with its
 * platform and, when given, a `org.opencontainers.image.ref.name` (an entry with the same name is
 * replaced) — what `skopeo copy … oci:DIR:NAME` produces.
 */
export async function writeImageToLayout(dir: string, image: Image, opts: { refName?: string } = {}): Promise<Descriptor> {
  await mkdir(join(dir, 'blobs'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  for (const d of [image.manifest.config, ...image.manifest.layers]) await placeBlob(dir, image.blobs, d);
  const manifestDesc: Descriptor = { mediaType: image.mediaType, digest: image.digest, size: image.rawManifest.byteLength };
  const { algorithm, hex } = parseDigest(image.digest);
  await mkdir(join(dir, 'blobs', algorithm), { recursive: true });
  await writeFile(join(dir, 'blobs', algorithm, hex), image.rawManifest);
  if (image.platform) manifestDesc.platform = image.platform;
  if (opts.refName) manifestDesc.annotations = { [refNameAnnotation]: opts.refName };
  let index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
  try {
    index = await readLayoutIndex(dir);
  } catch {
    // new layout
  }
  // Replace an entry for the same name and platform (several platforms may share a name).
  const samePlatform = (d: Descriptor) => (d.platform ? formatPlatform(d.platform) : '') === (image.platform ? formatPlatform(image.platform) : '');
  const keep = index.manifests.filter((d) => (opts.refName ? !(d.annotations?.[refNameAnnotation] === opts.refName && samePlatform(d)) : d.digest !== image.digest));
  const next: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...keep, manifestDesc] };
  const tmp = join(dir, `index.json.${process.pid}.tmp`);
  await writeFile(tmp, encodeJson(next));
  await rename(tmp, join(dir, 'index.json'));
  return manifestDesc;
}

/** Write `index.json` and `oci-layout` for blobs already in `dir/blobs` (builders). */
export async function writeLayoutIndex(dir: string, manifests: Descriptor[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), encodeJson({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
}
