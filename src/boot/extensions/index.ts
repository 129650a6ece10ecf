/** System extensions (talos-imager.md §4): loading, validation, squashfs images, extensions.yaml, virtual extensions. */
export { buildExtensionsPayload, squashfsCompressionFor, defaultBlockCompressor, type ExtensionsOptions, type ExtensionsPayload, type BlockCompressorFactory } from './assemble.js';
export { encodeExtensionsConfig, type ExtensionLayer } from './config.js';
export { checkTalosCompatibility, parseVersionRange, trimVPrefixes } from './constraint.js';
export { fileTreeFromDirectory, type DirectoryTreeOptions } from './directory-tree.js';
export { loadExtension, type LoadedExtension } from './load.js';
export { parseExtensionManifest, encodeExtensionManifest, type ExtensionManifest, type ExtensionMetadata, MANIFEST_VERSION } from './manifest.js';
export { embeddedConfigExtension, schematicExtension, type SchematicExtensionOptions } from './virtual.js';
