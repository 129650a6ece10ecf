/**
 * `extensions.yaml` (talos-imager.md §4.5; upstream `pkg/machinery/extensions/config.go`): the layer
 * list written with go.yaml.in/yaml/v4 `NewEncoder` — its v3 defaults: indent 4, sequences indented
 * under their key, line width 80.
 */
import { emitYaml, yamlMap, yamlSeq, yamlStr } from '../../profile/yaml/emit.js';
import { metadataNode, type ExtensionMetadata } from './manifest.js';

export interface ExtensionLayer {
  image: string;
  metadata: ExtensionMetadata;
}

export function encodeExtensionsConfig(layers: readonly ExtensionLayer[]): string {
  const items = layers.map((l) => yamlMap([['image', yamlStr(l.image)], ['metadata', metadataNode(l.metadata)]]));
  return emitYaml(yamlMap([['layers', yamlSeq(items)]]), { indent: 4 });
}
