/**
 * Media types of the OCI image spec and the Docker v2 formats they grew from (talos-imager.md §2.2;
 * go-containerregistry `pkg/v1/types`).
 */
export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociRestrictedLayer: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociRestrictedLayerGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociRestrictedLayerZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** Every manifest kind we can read, in order of preference: the `Accept` list of a manifest GET. */
export const manifestAccept: readonly string[] = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
];

export function isIndexMediaType(mt: string): boolean {
  return mt === MediaType.ociIndex || mt === MediaType.dockerManifestList;
}

export function isImageManifestMediaType(mt: string): boolean {
  return mt === MediaType.ociManifest || mt === MediaType.dockerManifest;
}

export function isSchema1MediaType(mt: string): boolean {
  return mt === MediaType.dockerSchema1 || mt === MediaType.dockerSchema1Signed;
}

/** Layer media types whose blob is a (possibly compressed) tar of a filesystem change set. */
export function isLayerMediaType(mt: string): boolean {
  return (
    mt.startsWith('application/vnd.oci.image.layer.') ||
    mt === MediaType.dockerLayer ||
    mt === MediaType.dockerForeignLayer ||
    // Some builders label layers with the uncompressed docker type.
    mt === 'application/vnd.docker.image.rootfs.diff.tar'
  );
}

/** The compression a layer media type announces (the blob's magic bytes are checked too). */
export function layerCompressionOf(mt: string): 'gzip' | 'zstd' | 'none' | 'unknown' {
  if (mt.endsWith('+gzip') || mt.endsWith('.tar.gzip')) return 'gzip';
  if (mt.endsWith('+zstd')) return 'zstd';
  if (mt.endsWith('.tar')) return 'none';
  return 'unknown';
}

/** The media type of a `Content-Type` header without parameters (`; charset=…`). */
export function bareMediaType(contentType: string | null | undefined): string {
  if (!contentType) return '';
  return contentType.split(';')[0]!.trim().toLowerCase();
}
