/**
 * Our OCI image writer: layers from tar entries (or a FileTree), compressed with gzip, zstd or not
 * at all, an image config with `rootfs.diff_ids`, a manifest, and an index over several platforms.
 * Blobs go into a `BlobCache`-shaped store (the cache itself, or an OCI layout's `blobs/`).
 * Deterministic: the same input gives the same digests (timestamps come from the caller).
 */
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Zstd } from '@hpcc-js/wasm-zstd';
import type { FileTree } from '../core/file-tree.js';
import type { BlobCache } from './blob-cache.js';
import { DigestingStream } from './digest.js';
import { encodeJson, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from './manifest.js';
import { MediaType } from './media-types.js';
import type { Platform } from './platform.js';
import { fileEntryToTar, tarStream, type TarWriteEntry } from './tar-writer.js';

export type LayerCompression = 'gzip' | 'zstd' | 'none';

export interface LayerSpec {
  /** Tar entries (names are written as given, so tests can build hostile layers) or a FileTree. */
  entries?: TarWriteEntry[] | FileTree;
  /** A ready tar (uncompressed) instead of entries. */
  tar?: Uint8Array | (() => Readable);
  compression?: LayerCompression;
  /** Override the layer media type (e.g. a Docker type, or a deliberately wrong one). */
  mediaType?: string;
  /** gzip/zstd level (default 6 / 3). */
  level?: number;
}

export interface ImageSpec {
  platform: Platform;
  layers: LayerSpec[];
  /** `config` section of the image config (Env, Entrypoint, Labels …). */
  runtimeConfig?: Record<string, unknown>;
  /** RFC 3339 creation time (default 1970-01-01T00:00:00Z: reproducible). */
  created?: string;
  annotations?: Record<string, string>;
  /** `docker` writes Docker schema 2 media types. */
  format?: 'oci' | 'docker';
}

export interface BuiltImage {
  /** Descriptor of the manifest, with the platform set (ready for an index). */
  descriptor: Descriptor;
  manifest: ImageManifest;
  rawManifest: Uint8Array;
  config: ImageConfig;
  configDescriptor: Descriptor;
  layers: Array<Descriptor & { diffId: string }>;
}

export interface BuiltIndex {
  descriptor: Descriptor;
  index: ImageIndex;
  rawIndex: Uint8Array;
  images: BuiltImage[];
}

let zstdModule: Promise<Zstd> | undefined;
let zstdBusy: Promise<void> = Promise.resolve();

/** Streaming zstd compression on the WASM zstd (one stream at a time: the module holds the state). */
class ZstdEncodeStream extends Transform {
  constructor(private readonly z: Zstd, level: number) {
    super();
    z.reset();
    z.setCompressionLevel(level);
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    try {
      const out = this.z.compressChunk(chunk);
      if (out.byteLength) this.push(Buffer.from(out));
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
  override _flush(cb: TransformCallback): void {
    try {
      const out = this.z.compressEnd();
      if (out.byteLength) this.push(Buffer.from(out));
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
}

function layerMediaType(c: LayerCompression, format: 'oci' | 'docker'): string {
  if (format === 'docker') return c === 'none' ? 'application/vnd.docker.image.rootfs.diff.tar' : MediaType.dockerLayer;
  return c === 'gzip' ? MediaType.ociLayerGzip : c === 'zstd' ? MediaType.ociLayerZstd : MediaType.ociLayer;
}

function isFileTree(e: TarWriteEntry[] | FileTree): e is FileTree {
  return e.length > 0 && 'path' in e[0]!;
}

/** Build one layer blob into the store. */
export async function buildLayer(store: BlobCache, spec: LayerSpec, format: 'oci' | 'docker' = 'oci'): Promise<Descriptor & { diffId: string }> {
  const compression = spec.compression ?? 'gzip';
  let tar: Readable;
  if (spec.tar) tar = spec.tar instanceof Uint8Array ? Readable.from([Buffer.from(spec.tar)]) : spec.tar();
  else {
    const entries = spec.entries ?? [];
    tar = tarStream(isFileTree(entries) ? entries.map(fileEntryToTar) : entries);
  }
  const diff = new DigestingStream('sha256');
  let release = () => {};
  let compressor: Transform | undefined;
  if (compression === 'gzip') compressor = createGzip({ level: spec.level ?? 6 });
  else if (compression === 'zstd') {
    const prev = zstdBusy;
    zstdBusy = new Promise((r) => (release = r));
    await prev;
    zstdModule ??= Zstd.load();
    compressor = new ZstdEncodeStream(await zstdModule, spec.level ?? 3);
  }
  try {
    let stored: { digest: string; size: number } | undefined;
    const sink = async (src: AsyncIterable<Uint8Array>) => {
      stored = await store.putStream(src);
    };
    if (compressor) await pipeline(tar, diff, compressor, sink);
    else await pipeline(tar, diff, sink);
    const { digest, size } = stored!;
    return { mediaType: spec.mediaType ?? layerMediaType(compression, format), digest, size, diffId: diff.digest() };
  } finally {
    release();
  }
}

/** Build an image (layers, config, manifest) into the store. */
export async function buildImage(store: BlobCache, spec: ImageSpec): Promise<BuiltImage> {
  const format = spec.format ?? 'oci';
  const layers: Array<Descriptor & { diffId: string }> = [];
  for (const l of spec.layers) layers.push(await buildLayer(store, l, format));
  const config: ImageConfig = {
    created: spec.created ?? '1970-01-01T00:00:00Z',
    architecture: spec.platform.architecture,
    os: spec.platform.os,
    ...(spec.platform.variant ? { variant: spec.platform.variant } : {}),
    config: spec.runtimeConfig ?? {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created: spec.created ?? '1970-01-01T00:00:00Z', created_by: 'imagekit' })),
  };
  const rawConfig = encodeJson(config);
  const configDigest = await store.putBytes(rawConfig);
  const configDescriptor: Descriptor = { mediaType: format === 'docker' ? MediaType.dockerConfig : MediaType.ociConfig, digest: configDigest, size: rawConfig.byteLength };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: format === 'docker' ? MediaType.dockerManifest : MediaType.ociManifest,
    config: configDescriptor,
    layers: layers.map(({ diffId: _d, ...d }) => d),
  };
  if (spec.annotations) manifest.annotations = spec.annotations;
  const rawManifest = encodeJson(manifest);
  const digest = await store.putBytes(rawManifest);
  return {
    descriptor: { mediaType: manifest.mediaType!, digest, size: rawManifest.byteLength, platform: spec.platform },
    manifest,
    rawManifest,
    config,
    configDescriptor,
    layers,
  };
}

/** An index over several images (multi-platform). */
export async function buildIndex(store: BlobCache, images: BuiltImage[], opts: { format?: 'oci' | 'docker'; annotations?: Record<string, string> } = {}): Promise<BuiltIndex> {
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: opts.format === 'docker' ? MediaType.dockerManifestList : MediaType.ociIndex,
    manifests: images.map((i) => i.descriptor),
  };
  if (opts.annotations) index.annotations = opts.annotations;
  const rawIndex = encodeJson(index);
  const digest = await store.putBytes(rawIndex);
  return { descriptor: { mediaType: index.mediaType!, digest, size: rawIndex.byteLength }, index, rawIndex, images };
}

