/**
 * Extension manifests (`manifest.yaml`, talos-imager.md §4.1; upstream
 * `pkg/machinery/extensions/metadata.go`, `load.go`). Decoded with go-yaml's rules into Go structs
 * whose fields are all strings: unknown keys are ignored, a missing or null field is "", a scalar
 * keeps its text (`version: 1.10` stays `1.10`), a mapping or list where a string belongs is an error.
 */
import { invalidInput } from '../../core/errors.js';
import { emitYaml, yamlMap, yamlStr, type YamlNode } from '../../profile/yaml/emit.js';
import { readYaml, YamlMapping, YamlScalar, type YamlValue } from '../../profile/yaml/read.js';

export const MANIFEST_VERSION = 'v1alpha1';
/** Largest manifest accepted. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

export interface ExtensionMetadata {
  name: string;
  version: string;
  author: string;
  description: string;
  compatibility: { talos: { version: string } };
  /** Omitted from YAML when empty (`omitempty`). */
  extraInfo?: string;
}

export interface ExtensionManifest {
  version: string;
  metadata: ExtensionMetadata;
}

function asString(v: YamlValue | undefined, where: string, source: string): string {
  if (v === undefined) return '';
  if (v instanceof YamlScalar) return v.tag === 'null' ? '' : v.text;
  throw invalidInput('E_EXTENSION_MANIFEST', `${source}: ${where} must be a string, not a ${v instanceof YamlMapping ? 'mapping' : 'list'}`);
}

function asRecord(v: YamlValue | undefined, where: string, source: string): Record<string, YamlValue> {
  if (v === undefined || (v instanceof YamlScalar && v.tag === 'null')) return {};
  if (v instanceof YamlMapping) return v.toRecord();
  throw invalidInput('E_EXTENSION_MANIFEST', `${source}: ${where} must be a mapping`);
}

/** Parse and check a manifest; `source` names the extension in errors. */
export function parseExtensionManifest(text: string | Uint8Array, source: string): ExtensionManifest {
  const bytes = typeof text === 'string' ? Buffer.byteLength(text) : text.byteLength;
  if (bytes > MAX_MANIFEST_BYTES) throw invalidInput('E_EXTENSION_MANIFEST', `${source}: manifest.yaml is larger than ${MAX_MANIFEST_BYTES} bytes`);
  const s = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
  const tree = readYaml(s, { source: `${source}: manifest.yaml` });
  const top = asRecord(tree ?? undefined, 'the manifest', source);
  const version = asString(top.version, 'version', source);
  if (version !== MANIFEST_VERSION) {
    throw invalidInput('E_EXTENSION_MANIFEST_VERSION', `${source}: unsupported manifest version: ${JSON.stringify(version)} (want ${MANIFEST_VERSION})`);
  }
  const md = asRecord(top.metadata, 'metadata', source);
  const compat = asRecord(md.compatibility, 'metadata.compatibility', source);
  const talos = asRecord(compat.talos, 'metadata.compatibility.talos', source);
  const metadata: ExtensionMetadata = {
    name: asString(md.name, 'metadata.name', source),
    version: asString(md.version, 'metadata.version', source),
    author: asString(md.author, 'metadata.author', source),
    description: asString(md.description, 'metadata.description', source),
    compatibility: { talos: { version: asString(talos.version, 'metadata.compatibility.talos.version', source) } },
  };
  const extraInfo = asString(md.extraInfo, 'metadata.extraInfo', source);
  if (extraInfo !== '') metadata.extraInfo = extraInfo;
  return { version, metadata };
}

/** The metadata as go-yaml marshals the Go struct (field order, `extraInfo` omitted when empty). */
export function metadataNode(m: ExtensionMetadata): YamlNode {
  const pairs: Array<readonly [string, YamlNode]> = [
    ['name', yamlStr(m.name)],
    ['version', yamlStr(m.version)],
    ['author', yamlStr(m.author)],
    ['description', yamlStr(m.description)],
    ['compatibility', yamlMap([['talos', yamlMap([['version', yamlStr(m.compatibility.talos.version)]])]])],
  ];
  if (m.extraInfo) pairs.push(['extraInfo', yamlStr(m.extraInfo)]);
  return yamlMap(pairs);
}

/** A manifest.yaml text as go-yaml `Marshal` writes it (v4: indent 4, no line folding). */
export function encodeExtensionManifest(m: ExtensionManifest): string {
  return emitYaml(yamlMap([['version', yamlStr(m.version)], ['metadata', metadataNode(m.metadata)]]), { indent: 4, width: -1 });
}
