/** Profiles: schema, base profiles, quirks, defaults, merge, validation, output names, YAML dump. */
export * from './version.js';
export * from './quirks.js';
export * from './schema.js';
export * from './go-value.js';
export * from './base-profiles.js';
export * from './merge.js';
export * from './defaults.js';
export * from './validate.js';
export * from './output-path.js';
export * from './dump.js';
export * from './decode.js';
export * from './resolve.js';
export { YamlMapping, YamlScalar, readYaml, type YamlValue } from './yaml/read.js';
export { emitYaml, stringStyle, type YamlNode } from './yaml/emit.js';
