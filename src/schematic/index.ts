/** Schematics: model, decoding as the Image Factory does, canonical YAML, IDs (image-factory.md §1). */
export * from './model.js';
export { decodeSchematic, type DecodeOptions } from './decode.js';
export { canonicalYaml, schematicId, naturalLess, type CanonicalOptions } from './canonical.js';
export { upstreamMessage } from './errors.js';
