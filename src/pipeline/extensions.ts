/**
 * System extension inputs of a build (talos-imager.md §0 step 4, §4.1): every
 * `input.systemExtensions` entry pulled for the profile's architecture and flattened, in profile
 * order, then the embedded machine configuration as a virtual extension after them (§4.7).
 */
import type { FileTree } from '../core/file-tree.js';
import { embeddedConfigExtension } from '../boot/extensions/virtual.js';
import { linuxPlatform } from '../oci/platform.js';
import type { Profile } from '../profile/schema.js';
import { containerAssetSource, describeInput, readInputTree, type ReadInputOptions } from './sources.js';

export type ExtensionInputOptions = Omit<ReadInputOptions, 'include' | 'platform'>;

export async function readExtensionTrees(p: Profile, opts: ExtensionInputOptions): Promise<FileTree[]> {
  const trees: FileTree[] = [];
  const platform = linuxPlatform(p.arch);
  for (const [i, asset] of p.input.systemExtensions.entries()) {
    const src = containerAssetSource(asset, `input.systemExtensions[${i}]`);
    opts.progress?.({ type: 'step-start', step: 'pull-extension', detail: describeInput(src) });
    const tree = await readInputTree(src, { ...opts, platform });
    opts.progress?.({ type: 'step-done', step: 'pull-extension', detail: `${describeInput(src)}: ${tree.length} entries` });
    trees.push(tree);
  }
  if (p.customization.embeddedMachineConfiguration !== '') {
    trees.push(embeddedConfigExtension(p.customization.embeddedMachineConfiguration));
  }
  return trees;
}
