/**
 * One entry point for every kind of image input the imager accepts (talos-imager.md §2.2
 * `ContainerAsset`): a registry reference (`imageRef`, with `forceInsecure`), an OCI layout
 * directory (`ociPath`), a docker-save / OCI archive file, or a plain filesystem tarball
 * (`tarballPath`, which has no image, only a tree).
 *
 *   const tree = await extractImage({ imageRef: 'ghcr.io/siderolabs/gvisor:20240305.0' },
 *                                   { platform: linuxPlatform('arm64'), cache: BlobCache.fromEnv() });
 */
import { invalidInput } from '../core/errors.js';
import type { FileTree } from '../core/file-tree.js';
import type { ProgressSink } from '../core/progress.js';
import { openArchiveImage, flattenTarball } from './archive.js';
import { BlobCache } from './blob-cache.js';
import { flattenImage } from './flatten.js';
import type { Image } from './image.js';
import { openLayoutImage } from './layout.js';
import type { Platform } from './platform.js';
import { parseReference } from './reference.js';
import { pullImage } from './remote.js';
import { RegistryClient } from './registry-client.js';
import { emptyRegistryConfig } from './registry-config.js';

export type ImageSource =
  | { imageRef: string; forceInsecure?: boolean }
  | { ociPath: string; refName?: string }
  | { archivePath: string; refName?: string }
  | { tarballPath: string };

export interface OpenImageOptions {
  platform: Platform;
  /** Default: `BlobCache.fromEnv()` ($XDG_CACHE_HOME/imagekit). */
  cache?: BlobCache;
  client?: RegistryClient;
  offline?: boolean;
  progress?: ProgressSink;
}

export interface ExtractOptions extends OpenImageOptions {
  /** Keep only these paths (and their parents), e.g. `usr/install/amd64/` of the imager image. */
  include?: (path: string) => boolean;
}

function describeSource(src: ImageSource): string {
  return 'imageRef' in src ? src.imageRef : 'ociPath' in src ? src.ociPath : 'archivePath' in src ? src.archivePath : src.tarballPath;
}

/** Open an image (manifest, config, layers) from a reference, a layout or an archive. */
export async function openImage(src: ImageSource, opts: OpenImageOptions): Promise<Image> {
  const cache = opts.cache ?? BlobCache.fromEnv();
  if ('imageRef' in src) {
    let client = opts.client;
    if (src.forceInsecure) {
      const ref = parseReference(src.imageRef);
      const base = client?.options ?? {};
      const rc = base.registryConfig ?? emptyRegistryConfig();
      client = new RegistryClient({ ...base, registryConfig: { mirrors: rc.mirrors, insecure: new Set([...rc.insecure, ref.registry]) } });
    }
    return pullImage(src.imageRef, { platform: opts.platform, cache, ...(client ? { client } : {}), ...(opts.offline ? { offline: true } : {}), ...(opts.progress ? { progress: opts.progress } : {}) });
  }
  const sel = { ...('refName' in src && src.refName ? { refName: src.refName } : {}), ...(opts.progress ? { progress: opts.progress } : {}) };
  if ('ociPath' in src) return openLayoutImage(src.ociPath, opts.platform, sel);
  if ('archivePath' in src) return openArchiveImage(src.archivePath, opts.platform, { cache, ...sel });
  throw invalidInput('E_INPUT_NOT_IMAGE', `${describeSource(src)} is a plain filesystem tarball, not an image (use extractImage)`);
}

/** The flattened filesystem of an image source as a FileTree (what the imager's Extract produces). */
export async function extractImage(src: ImageSource, opts: ExtractOptions): Promise<FileTree> {
  const cache = opts.cache ?? BlobCache.fromEnv();
  const fl = { cache, ...(opts.progress ? { progress: opts.progress } : {}), ...(opts.include ? { include: opts.include } : {}) };
  if ('tarballPath' in src) return flattenTarball(src.tarballPath, fl);
  const image = await openImage(src, { ...opts, cache });
  return flattenImage(image, fl);
}
