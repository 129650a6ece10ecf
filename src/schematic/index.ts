/** Schematics: model, decoding as the Image Factory does, canonical YAML, IDs (image-factory.md §1). */
export * from './model.js';
export { decodeSchematic, type DecodeOptions } from './decode.js';
export { canonicalYaml, schematicId, naturalLess, type CanonicalOptions } from './canonical.js';
export { upstreamMessage } from './errors.js';
export { parseAssetPath } from './asset-path.js';
export {
  profileForAsset,
  mergeOverlayProfile,
  extensionNameAlias,
  factoryVersionTag,
  overlayOptionsToGo,
  FACTORY_TALOS_NAME,
  type AssetProfile,
  type AssetProfileOptions,
  type OfficialExtensionRequest,
} from './asset-profile.js';
