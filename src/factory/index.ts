/** `imagekit serve`: a local Image-Factory-compatible service (image-factory.md §2–§8). */
export { startFactoryServer, silentLogger, SERVER_HEADER, type FactoryServer, type FactoryLogger, type LogLevel, type StartOptions } from './server.js';
export {
  defaultFactoryConfig,
  loadConfigFile,
  parseConfigText,
  applyConfigDocument,
  validateFactoryConfig,
  parseGoDuration,
  parseListenAddr,
  DEFAULT_COMPONENTS,
  type FactoryConfig,
  type ArtifactComponents,
} from './config.js';
export { filterTalosVersions, parseExtensionCatalog, parseOverlayCatalog, type ExtensionInfo, type OverlayInfo } from './catalog.js';
export { assetContentType, contentDisposition } from './content-type.js';
export { standardIpxe, secureBootIpxe, joinUrlPath } from './ipxe.js';
export { routeRegistryPath, checkInstallerImageName } from './api.js';
export { SchematicStore, SCHEMATIC_ID_RE, type StoredSchematic } from './schematic-store.js';
export { AssetCache, LiveAsset, type AssetMeta, type CachedAsset } from './asset-cache.js';
export { BuildQueue } from './build-queue.js';
export { guardedFetch } from './registry-access.js';
export { goJson } from './go-json.js';
export { HttpError } from './http-error.js';
