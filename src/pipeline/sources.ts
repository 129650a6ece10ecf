/**
 * Where a container input comes from (talos-imager.md §2.2 `ContainerAsset`), and how to read it as
 * a flattened FileTree: a registry reference, an OCI layout directory, a docker-save / OCI archive,
 * a plain filesystem tarball, or — an imagekit addition for offline work — an unpacked directory
 * (an extension's `manifest.yaml` + `rootfs/`, or an imager root holding `usr/install/`).
 */
import { stat } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { invalidInput, ImagekitError } from '../core/errors.js';
import type { FileTree } from '../core/file-tree.js';
import type { ProgressSink } from '../core/progress.js';
import { fileTreeFromDirectory } from '../boot/extensions/directory-tree.js';
import { flattenTarball } from '../oci/archive.js';
import { BlobCache } from '../oci/blob-cache.js';
import { flattenImage } from '../oci/flatten.js';
import type { Platform } from '../oci/platform.js';
import type { RegistryClient } from '../oci/registry-client.js';
import { openImage, type ImageSource } from '../oci/source.js';
import type { ContainerAsset } from '../profile/schema.js';

const isDirectory = (path: string) => statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;

/** An image source, or a directory read as it is. */
export type InputSource = ImageSource | { directory: string };

export function describeInput(src: InputSource): string {
  if ('imageRef' in src) return src.imageRef;
  if ('ociPath' in src) return `OCI layout ${src.ociPath}`;
  if ('archivePath' in src) return `archive ${src.archivePath}`;
  if ('tarballPath' in src) return `tarball ${src.tarballPath}`;
  return `directory ${src.directory}`;
}

const PREFIXES: Array<[string, (path: string) => InputSource]> = [
  ['oci:', (ociPath) => ({ ociPath })],
  ['oci-layout:', (ociPath) => ({ ociPath })],
  ['oci-archive:', (archivePath) => ({ archivePath })],
  ['docker-archive:', (archivePath) => ({ archivePath })],
  ['tarball:', (tarballPath) => ({ tarballPath })],
  ['dir:', (directory) => ({ directory })],
];

/**
 * A command-line image argument (`--imager-image`, `--system-extension-image`): an explicit
 * transport prefix (`oci:`, `oci-archive:`, `docker-archive:`, `tarball:`, `dir:`), else an existing
 * directory (an OCI layout when it has `oci-layout`, otherwise a plain tree) or file (an archive),
 * else a registry reference.
 */
export function parseInputSource(text: string, forceInsecure = false): InputSource {
  for (const [prefix, make] of PREFIXES) {
    if (text.startsWith(prefix)) {
      const path = text.slice(prefix.length);
      if (path === '') throw invalidInput('E_INPUT_PATH', `${JSON.stringify(text)}: missing path after ${prefix}`);
      return make(path);
    }
  }
  if (text.startsWith('/') || text.startsWith('./') || text.startsWith('../') || existsSync(text)) {
    if (!existsSync(text)) throw invalidInput('E_INPUT_MISSING', `${text}: no such file or directory`);
    if (existsSync(join(text, 'oci-layout'))) return { ociPath: text };
    if (isDirectory(text)) return { directory: text };
    return { archivePath: text };
  }
  return forceInsecure ? { imageRef: text, forceInsecure } : { imageRef: text };
}

/** The profile's `ContainerAsset` as a source (ociPath, then tarballPath, then imageRef, as upstream). */
export function containerAssetSource(asset: ContainerAsset, what: string): InputSource {
  if (asset.ociPath !== '') return { ociPath: asset.ociPath };
  if (asset.tarballPath !== '') {
    // A directory is read as an unpacked tree (imagekit addition); a file is an archive or a tarball.
    return isDirectory(asset.tarballPath) ? { directory: asset.tarballPath } : { tarballPath: asset.tarballPath };
  }
  if (asset.imageRef !== '') return asset.forceInsecure ? { imageRef: asset.imageRef, forceInsecure: true } : { imageRef: asset.imageRef };
  throw invalidInput('E_INPUT_EMPTY', `${what}: no imageRef, ociPath or tarballPath`);
}

/** The ContainerAsset fields for a command-line image argument. */
export function containerAssetFor(text: string, forceInsecure: boolean): ContainerAsset {
  const src = parseInputSource(text, forceInsecure);
  const asset: ContainerAsset = { imageRef: '', forceInsecure: false, tarballPath: '', ociPath: '' };
  if ('imageRef' in src) return { ...asset, imageRef: src.imageRef, forceInsecure };
  if ('ociPath' in src) return { ...asset, ociPath: src.ociPath };
  if ('archivePath' in src) return { ...asset, tarballPath: src.archivePath };
  if ('tarballPath' in src) return { ...asset, tarballPath: src.tarballPath };
  return { ...asset, tarballPath: src.directory };
}

export interface ReadInputOptions {
  platform: Platform;
  cache: BlobCache;
  client?: RegistryClient;
  offline?: boolean;
  progress?: ProgressSink;
  include?: (path: string) => boolean;
}

/** The flattened filesystem of an input. */
export async function readInputTree(src: InputSource, opts: ReadInputOptions): Promise<FileTree> {
  const fl = { cache: opts.cache, ...(opts.progress ? { progress: opts.progress } : {}), ...(opts.include ? { include: opts.include } : {}) };
  if ('directory' in src) {
    const st = await stat(src.directory).catch(() => null);
    if (!st?.isDirectory()) throw invalidInput('E_INPUT_MISSING', `${describeInput(src)} does not exist`);
    const tree = await fileTreeFromDirectory(src.directory);
    return opts.include ? withParents(tree, opts.include) : tree;
  }
  if ('tarballPath' in src || 'archivePath' in src) {
    const path = 'tarballPath' in src ? src.tarballPath : src.archivePath;
    // A file may be an image archive (docker-save, OCI archive) or a plain filesystem tarball.
    try {
      const image = await openImage({ archivePath: path }, { platform: opts.platform, cache: opts.cache, ...(opts.progress ? { progress: opts.progress } : {}) });
      return flattenImage(image, fl);
    } catch (err) {
      if (!(err instanceof ImagekitError) || err.code !== 'E_ARCHIVE_INVALID') throw err;
      return flattenTarball(path, fl);
    }
  }
  const image = await openImage(src, {
    platform: opts.platform,
    cache: opts.cache,
    ...(opts.client ? { client: opts.client } : {}),
    ...(opts.offline ? { offline: true } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
  });
  return flattenImage(image, fl);
}

/** Keep the entries `include` accepts and their parent directories. */
function withParents(tree: FileTree, include: (path: string) => boolean): FileTree {
  const keep = new Set<string>();
  for (const e of tree) {
    if (!include(e.path)) continue;
    keep.add(e.path);
    for (let p = e.path; p.includes('/'); ) {
      p = p.slice(0, p.lastIndexOf('/'));
      keep.add(p);
    }
  }
  return tree.filter((e) => keep.has(e.path));
}
