/**
 * Image inputs from files, without a registry:
 *  - OCI archives (a tar of an OCI layout: `oci-layout`, `index.json`, `blobs/…`), and docker-save
 *    archives (`manifest.json` listing `Config`, `RepoTags`, `Layers`; Docker ≥ 25 writes both);
 *  - plain filesystem tarballs (`tarballPath`, talos-imager.md §2.2: "a plain tar of the filesystem
 *    contents").
 * Archives may be gzip/zstd compressed; they are then decompressed once into the cache. Members are
 * read in place as byte ranges of the (uncompressed) archive file.
 */
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createReadStream } from 'node:fs';
import { invalidInput, toImagekitError } from '../core/errors.js';
import { silentProgress, type ProgressSink } from '../core/progress.js';
import type { FileTree } from '../core/file-tree.js';
import { PendingFile, type BlobCache } from './blob-cache.js';
import { decompressor, sniffCompression } from './decompress.js';
import { DigestingStream, parseDigest } from './digest.js';
import { flattenLayerTars } from './flatten.js';
import { openLocal, type BlobSource, type Image, type LocalBlob } from './image.js';
import { imageFromIndex, type LayoutSelectOptions } from './layout.js';
import type { LayerTar } from './layer-tar.js';
import { configPlatform, encodeJson, maxConfigBytes, maxManifestBytes, parseImageConfig, parseManifest, type Descriptor, type ImageManifest } from './manifest.js';
import { MediaType } from './media-types.js';
import { formatPlatform, platformMatches, type Platform } from './platform.js';
import { layersOf } from './remote.js';
import { cleanMemberPath } from './flatten.js';
import { scanTarFile } from './tar-scan.js';
import { digestOf } from './digest.js';

interface Member {
  name: string;
  type: string;
  offset: number;
  size: number;
  linkname: string;
}

export interface ArchiveOptions extends LayoutSelectOptions {
  /** Where compressed archives are decompressed to (and uncompressed layers of them). */
  cache: BlobCache;
  progress?: ProgressSink;
}

/** The archive as an uncompressed tar file range (decompressed into the cache when compressed). */
export async function uncompressedTar(path: string, cache: BlobCache, what: string, progress: ProgressSink = silentProgress): Promise<LayerTar> {
  const fh = await open(path, 'r').catch((err) => {
    throw invalidInput('E_INPUT_MISSING', `cannot open ${what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  });
  let size: number;
  const head = Buffer.alloc(8);
  try {
    size = (await fh.stat()).size;
    await fh.read(head, 0, 8, 0);
  } finally {
    await fh.close();
  }
  const kind = sniffCompression(head);
  if (kind === 'none') return { path, start: 0, end: size, diffId: '', what };
  progress({ type: 'step-start', step: 'decompress', detail: `${what} (${kind})` });
  const pending = await PendingFile.create(cache.tmpDir, 'archive');
  const hash = new DigestingStream('sha256');
  try {
    await pipeline(createReadStream(path), decompressor(kind), hash, async (s: AsyncIterable<Buffer>) => {
      for await (const c of s) await pending.write(c);
    });
    const diffId = hash.digest();
    const dest = cache.layerPath(diffId);
    await pending.commit(dest);
    progress({ type: 'step-done', step: 'decompress' });
    return { path: dest, start: 0, end: pending.written, diffId, what };
  } catch (err) {
    await pending.discard();
    const e = toImagekitError(err);
    throw e.code === 'E_UNKNOWN' ? invalidInput('E_ARCHIVE_CORRUPT', `${what}: cannot decompress (${kind}): ${e.message}`) : e;
  }
}

async function indexMembers(tar: LayerTar): Promise<Map<string, Member>> {
  const members = new Map<string, Member>();
  for await (const m of scanTarFile(tar.path, { start: tar.start, end: tar.end, what: tar.what })) {
    const { path } = cleanMemberPath(m.header.name);
    if (!path || members.has(path)) continue;
    members.set(path, { name: path, type: m.header.type, offset: m.dataOffset, size: m.header.type === 'file' ? m.header.size : 0, linkname: m.header.linkname });
  }
  return members;
}

/** Follow symlinks and hard links inside the archive (old docker-save links duplicate layers). */
function resolveMember(members: Map<string, Member>, name: string, what: string): Member {
  let cur = members.get(cleanMemberPath(name).path);
  for (let depth = 0; cur && (cur.type === 'symlink' || cur.type === 'hardlink'); depth++) {
    if (depth > 8) throw invalidInput('E_ARCHIVE_INVALID', `${what}: link loop at ${name}`);
    const base = cur.type === 'symlink' && !cur.linkname.startsWith('/') ? cur.name.split('/').slice(0, -1).join('/') + '/' : '';
    const target = cleanMemberPath(base + cur.linkname);
    cur = members.get(target.path);
  }
  if (!cur || cur.type !== 'file') throw invalidInput('E_ARCHIVE_INVALID', `${what}: member ${JSON.stringify(name)} is missing`);
  return cur;
}

function memberBlobSource(tar: LayerTar, byDigest: Map<string, { m: Member; verified: boolean }>, what: string): BlobSource {
  const local = async (desc: Pick<Descriptor, 'digest' | 'size'>): Promise<LocalBlob | null> => {
    const hit = byDigest.get(desc.digest);
    if (!hit) return null;
    if (desc.size >= 0 && hit.m.size !== desc.size) throw invalidInput('E_BLOB_SIZE', `${what}: ${hit.m.name} is ${hit.m.size} bytes, its descriptor declares ${desc.size}`);
    return { path: tar.path, start: hit.m.offset, end: hit.m.offset + hit.m.size, verified: hit.verified };
  };
  return {
    name: what,
    local,
    async open(desc) {
      const l = await local(desc);
      if (!l) throw invalidInput('E_BLOB_MISSING', `${what}: blob ${desc.digest} is missing`);
      return openLocal(l, desc, `blob ${desc.digest} in ${what}`);
    },
  };
}

async function hashMember(tar: LayerTar, m: Member): Promise<string> {
  const h = new DigestingStream('sha256');
  const raw = m.size > 0 ? createReadStream(tar.path, { start: m.offset, end: m.offset + m.size - 1 }) : Readable.from([]);
  await pipeline(raw, h, async (s: AsyncIterable<Buffer>) => {
    for await (const _ of s);
  });
  return h.digest();
}

async function readMember(tar: LayerTar, m: Member, limit: number, what: string): Promise<Buffer> {
  if (m.size > limit) throw invalidInput('E_ARCHIVE_INVALID', `${what}: ${m.name} is larger than ${limit} bytes`);
  const fh = await open(tar.path, 'r');
  try {
    const b = Buffer.alloc(m.size);
    await fh.read(b, 0, m.size, m.offset);
    return b;
  } finally {
    await fh.close();
  }
}

/** Open an image from an OCI archive or a docker-save archive (optionally compressed). */
export async function openArchiveImage(path: string, platform: Platform, opts: ArchiveOptions): Promise<Image> {
  const what = `archive ${path}`;
  const tar = await uncompressedTar(path, opts.cache, what, opts.progress);
  const members = await indexMembers(tar);

  if (members.has('oci-layout') && members.has('index.json')) {
    const byDigest = new Map<string, { m: Member; verified: boolean }>();
    for (const m of members.values()) {
      const b = /^blobs\/(sha256|sha512)\/([0-9a-f]+)$/.exec(m.name);
      if (b) byDigest.set(`${b[1]}:${b[2]}`, { m: resolveMember(members, m.name, what), verified: false });
    }
    const indexBytes = await readMember(tar, resolveMember(members, 'index.json', what), maxManifestBytes, what);
    const parsed = parseManifest(indexBytes, MediaType.ociIndex, `${what} index.json`);
    if (parsed.kind !== 'index') throw invalidInput('E_ARCHIVE_INVALID', `${what}: index.json is not an image index`);
    return imageFromIndex(parsed.index, memberBlobSource(tar, byDigest, what), platform, what, opts);
  }

  if (!members.has('manifest.json')) throw invalidInput('E_ARCHIVE_INVALID', `${what} is neither an OCI archive (oci-layout, index.json) nor a docker-save archive (manifest.json)`);
  let entries: Array<{ Config?: unknown; RepoTags?: unknown; Layers?: unknown }>;
  try {
    entries = JSON.parse((await readMember(tar, resolveMember(members, 'manifest.json', what), maxManifestBytes, what)).toString('utf8'));
  } catch (err) {
    throw invalidInput('E_ARCHIVE_INVALID', `${what}: manifest.json is not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(entries) || entries.length === 0) throw invalidInput('E_ARCHIVE_INVALID', `${what}: manifest.json lists no image`);
  let entry = entries[0]!;
  if (opts.refName) {
    const hit = entries.find((e) => Array.isArray(e.RepoTags) && e.RepoTags.some((t) => t === opts.refName || String(t).endsWith(`:${opts.refName}`)));
    if (!hit) throw invalidInput('E_LAYOUT_REF', `${what}: no image tagged ${JSON.stringify(opts.refName)}`);
    entry = hit;
  }
  if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers) || entry.Layers.some((l) => typeof l !== 'string')) {
    throw invalidInput('E_ARCHIVE_INVALID', `${what}: manifest.json entry needs Config and Layers`);
  }
  const byDigest = new Map<string, { m: Member; verified: boolean }>();
  const digestOfMember = async (name: string): Promise<string> => {
    const m = resolveMember(members, name, what);
    const b = /(?:^|\/)blobs\/(sha256)\/([0-9a-f]{64})$/.exec(cleanMemberPath(name).path);
    let digest: string;
    let verified = false;
    if (b) digest = `${b[1]}:${b[2]}`;
    else {
      digest = await hashMember(tar, m);
      verified = true;
    }
    byDigest.set(digest, { m, verified });
    return digest;
  };
  const rawConfigMember = resolveMember(members, entry.Config, what);
  const rawConfig = await readMember(tar, rawConfigMember, maxConfigBytes, what);
  const configDigest = digestOf(rawConfig);
  byDigest.set(configDigest, { m: rawConfigMember, verified: true });
  const config = parseImageConfig(rawConfig, `${what} ${entry.Config}`);
  const p = configPlatform(config);
  if (p && !platformMatches(platform, p)) {
    throw invalidInput('E_PLATFORM_NOT_FOUND', `${what} has no image for platform ${formatPlatform(platform)} (available: ${formatPlatform(p)})`);
  }
  const layers: Descriptor[] = [];
  for (const name of entry.Layers as string[]) {
    const m = resolveMember(members, name, what);
    const head = await readMember(tar, { ...m, size: Math.min(8, m.size) }, 8, what);
    const kind = sniffCompression(head);
    const digest = await digestOfMember(name);
    parseDigest(digest, what);
    layers.push({ mediaType: kind === 'none' ? 'application/vnd.docker.image.rootfs.diff.tar' : kind === 'gzip' ? MediaType.dockerLayer : MediaType.ociLayerZstd, digest, size: m.size });
  }
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.dockerManifest, config: { mediaType: MediaType.dockerConfig, digest: configDigest, size: rawConfig.byteLength }, layers };
  const rawManifest = encodeJson(manifest);
  const image: Image = {
    name: opts.refName ? `${what}:${opts.refName}` : what,
    digest: digestOf(rawManifest),
    mediaType: MediaType.dockerManifest,
    manifest,
    rawManifest,
    config,
    rawConfig,
    layers: layersOf(manifest, config, what),
    blobs: memberBlobSource(tar, byDigest, what),
  };
  if (p) image.platform = p;
  return image;
}

/** Flatten a plain filesystem tarball (`tarballPath`), compressed or not. */
export async function flattenTarball(path: string, opts: { cache: BlobCache; progress?: ProgressSink; include?: (path: string) => boolean }): Promise<FileTree> {
  const tar = await uncompressedTar(path, opts.cache, `tarball ${path}`, opts.progress);
  return flattenLayerTars([tar], opts);
}
