/**
 * OCI distribution for imagekit (talos-imager.md §2): references, manifests, a registry client
 * with auth/mirrors/retries, a content-addressed cache, layouts and archives, layer flattening into
 * a FileTree, and an image writer + push.
 *
 * Typical use (a pipeline stage):
 *   const cache = new BlobCache(cacheDir);                       // or BlobCache.fromEnv()
 *   const client = new RegistryClient({ keychain: defaultKeychain(), registryConfig });
 *   const image = await pullImage('ghcr.io/siderolabs/imager:v1.11.0', { platform: linuxPlatform('amd64'), cache, client });
 *   const tree = await flattenImage(image, { cache, include: (p) => p.startsWith('usr/install/amd64/') });
 * or in one call: `extractImage({ imageRef }, { platform, cache, client })`.
 */
export * from './media-types.js';
export * from './digest.js';
export * from './reference.js';
export * from './platform.js';
export * from './manifest.js';
export * from './registry-config.js';
export * from './credentials.js';
export { parseWwwAuthenticate, type AuthChallenge } from './www-authenticate.js';
export { redactUrl, registryErrorStatus } from './registry-error.js';
export { RegistryTransport, type TransportOptions } from './transport.js';
export * from './registry-client.js';
export * from './blob-cache.js';
export * from './image.js';
export { pullImage, layersOf, type PullOptions } from './remote.js';
export * from './layout.js';
export * from './archive.js';
export * from './source.js';
export { layerTar, type LayerTar } from './layer-tar.js';
export * from './flatten.js';
export { sniffCompression, decompressor, type Compression } from './decompress.js';
export { decodeHeader, encodeHeader, parsePax, type TarHeader, type TarType } from './tar-header.js';
export { scanTarFile, type TarMember } from './tar-scan.js';
export * from './tar-writer.js';
export * from './image-builder.js';
export * from './push.js';
