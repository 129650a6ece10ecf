/**
 * Pull an image from a registry into the cache (talos-imager.md §2.2 `crane.Pull` with a platform):
 * resolve the tag (recorded as tag → digest), pick the platform's manifest from an index, then
 * fetch config and layers — each blob verified before it lands. With `offline` only the cache is
 * used and whatever is missing is named.
 */
import { dependency, invalidInput } from '../core/errors.js';
import { silentProgress, type ProgressSink } from '../core/progress.js';
import { BlobCache } from './blob-cache.js';
import { directoryBlobSource, type Image, type Layer } from './image.js';
import { configPlatform, maxConfigBytes, maxManifestBytes, parseImageConfig, parseManifest, selectPlatform, type Descriptor, type ImageManifest, type ParsedManifest } from './manifest.js';
import { isLayerMediaType } from './media-types.js';
import { formatPlatform, platformMatches, type Platform } from './platform.js';
import { formatReference, parseReference, withDigest, type ImageReference } from './reference.js';
import { RegistryClient } from './registry-client.js';
import { registryErrorStatus } from './registry-error.js';

export interface PullOptions {
  /** Platform to select from an index (default linux/amd64 is NOT assumed: required). */
  platform: Platform;
  cache: BlobCache;
  /** Registry client (carries keychain, mirrors, insecure registries, retry policy). */
  client?: RegistryClient;
  /** Use only the cache; fail naming what is missing. */
  offline?: boolean;
  progress?: ProgressSink;
  /** Parallel layer downloads (default 3). */
  concurrency?: number;
  /** Only resolve and fetch manifests and config, not layers. */
  skipLayers?: boolean;
}

function offlineMissing(what: string, cache: BlobCache, ref: ImageReference): Error {
  return dependency('E_OFFLINE_MISSING', `offline: ${what} is not in the cache ${cache.dir}; run "imagekit pull ${formatReference(ref)}" while online`);
}

/** Fetch a manifest by digest through the cache (no network when cached). */
async function manifestByDigest(ref: ImageReference, digest: string, opts: PullOptions, client: RegistryClient, what: string): Promise<{ bytes: Uint8Array; mediaType: string }> {
  const { cache } = opts;
  if (await cache.has(digest)) return { bytes: await cache.readBlob(digest, maxManifestBytes), mediaType: '' };
  if (opts.offline) throw offlineMissing(what, cache, ref);
  const m = await client.getManifest(withDigest(ref, digest));
  await cache.putBytes(m.bytes, digest);
  return { bytes: m.bytes, mediaType: m.mediaType };
}

/** Resolve a reference to its root manifest (index or image manifest). */
async function resolveRoot(ref: ImageReference, opts: PullOptions, client: RegistryClient): Promise<{ digest: string; parsed: ParsedManifest; bytes: Uint8Array }> {
  const name = formatReference(ref);
  const { cache } = opts;
  let digest = ref.digest;
  let bytes: Uint8Array | undefined;
  let mediaType = '';
  if (!digest) {
    if (opts.offline) {
      const rec = await cache.lookupTag(ref);
      if (!rec) throw offlineMissing(`tag ${name}`, cache, ref);
      digest = rec.digest;
    } else {
      let head = null;
      try {
        head = await client.headManifest(ref);
      } catch (err) {
        const st = registryErrorStatus(err);
        if (st === 401 || st === 403 || st === 404 || st === undefined) throw err;
        // Some registries reject HEAD (405 …): GET below.
      }
      if (head && (await cache.has(head.digest))) digest = head.digest;
      else {
        const m = await client.getManifest(ref);
        await cache.putBytes(m.bytes, m.digest);
        digest = m.digest;
        bytes = m.bytes;
        mediaType = m.mediaType;
      }
    }
  }
  if (!bytes) ({ bytes, mediaType } = await manifestByDigest(ref, digest, opts, client, `manifest ${name}`));
  const parsed = parseManifest(bytes, mediaType || undefined, `manifest ${name}`);
  return { digest, parsed, bytes };
}

async function ensureBlob(ref: ImageReference, desc: Descriptor, opts: PullOptions, client: RegistryClient, what: string): Promise<boolean> {
  const { cache } = opts;
  if (await cache.has(desc.digest, desc.size)) return false;
  if (opts.offline) throw offlineMissing(what, cache, ref);
  const progress = opts.progress ?? silentProgress;
  const step = `pull ${desc.digest.slice(7, 19)}`;
  progress({ type: 'step-start', step, detail: what, total: desc.size });
  let last = 0;
  await cache.putVerified(desc.digest, desc.size, (sink) =>
    client.readBlob(ref, desc, sink, (n) => {
      if (n - last >= 4 * 1024 * 1024 || n === desc.size) {
        last = n;
        progress({ type: 'bytes', step, done: n, total: desc.size });
      }
    }),
  );
  progress({ type: 'step-done', step });
  return true;
}

async function runLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed;
}

/** Pull (or, offline, load from the cache) the image for `platform`. */
export async function pullImage(reference: string | ImageReference, opts: PullOptions): Promise<Image> {
  const ref = typeof reference === 'string' ? parseReference(reference) : reference;
  const client = opts.client ?? new RegistryClient({ progress: opts.progress ?? silentProgress });
  const name = formatReference(ref);
  const root = await resolveRoot(ref, opts, client);

  let manifestDigest = root.digest;
  let parsed = root.parsed;
  let rawManifest = root.bytes;
  let indexDigest: string | undefined;
  let chosenPlatform: Platform | undefined;
  if (parsed.kind === 'index') {
    indexDigest = root.digest;
    const child = selectPlatform(parsed.index, opts.platform, name);
    if (child.platform) chosenPlatform = child.platform;
    const m = await manifestByDigest(ref, child.digest, opts, client, `manifest ${name} for ${formatPlatform(opts.platform)}`);
    parsed = parseManifest(m.bytes, m.mediaType || child.mediaType, `manifest ${child.digest} of ${name}`);
    if (parsed.kind !== 'manifest') throw invalidInput('E_MANIFEST_NESTED', `${name}: the ${formatPlatform(opts.platform)} entry is itself an index (nested indexes are not followed)`);
    manifestDigest = child.digest;
    rawManifest = m.bytes;
  }
  const manifest: ImageManifest = parsed.manifest;

  await ensureBlob(ref, manifest.config, opts, client, `config of ${name}`);
  const rawConfig = await opts.cache.readBlob(manifest.config.digest, maxConfigBytes);
  const config = parseImageConfig(rawConfig, `config of ${name}`);
  const cfgPlatform = configPlatform(config);
  chosenPlatform ??= cfgPlatform;
  if (parsed === root.parsed && cfgPlatform && !platformMatches(opts.platform, cfgPlatform)) {
    // A single-manifest reference is used as it is (as crane.Pull does); say so.
    (opts.progress ?? silentProgress)({ type: 'warning', message: `${name} is a single-platform image for ${formatPlatform(cfgPlatform)}, not ${formatPlatform(opts.platform)}; using it as it is` });
  }
  const layers = layersOf(manifest, config, name);

  await opts.cache.recordReference(ref, { digest: root.digest, mediaType: root.parsed.mediaType, size: root.bytes.byteLength });
  if (!opts.skipLayers) {
    await runLimited(layers, opts.concurrency ?? 3, async (l) => {
      await ensureBlob(ref, l.descriptor, opts, client, `layer ${l.descriptor.digest} of ${name}`);
    });
  }
  const image: Image = {
    name,
    reference: ref,
    digest: manifestDigest,
    mediaType: parsed.mediaType,
    manifest,
    rawManifest,
    config,
    rawConfig,
    layers,
    blobs: directoryBlobSource(opts.cache.dir, `cache ${opts.cache.dir}`, true),
  };
  if (indexDigest) image.indexDigest = indexDigest;
  if (chosenPlatform) image.platform = chosenPlatform;
  return image;
}

/** Layers with their diff IDs; checks the config agrees with the manifest. */
export function layersOf(manifest: ImageManifest, config: { rootfs?: { diff_ids: string[] } }, name: string): Layer[] {
  const diffIds = config.rootfs?.diff_ids;
  const fsLayers = manifest.layers.filter((l) => isLayerMediaType(l.mediaType));
  if (diffIds && fsLayers.length === manifest.layers.length && diffIds.length !== fsLayers.length) {
    throw invalidInput('E_MANIFEST_INVALID', `${name}: the manifest has ${fsLayers.length} layers but the config lists ${diffIds.length} diff_ids`);
  }
  return manifest.layers.map((descriptor, i) => {
    const l: Layer = { descriptor };
    const d = diffIds?.[i];
    if (d && fsLayers.length === manifest.layers.length) l.diffId = d;
    return l;
  });
}
