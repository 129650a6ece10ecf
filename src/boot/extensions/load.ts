/**
 * Loading one flattened extension (talos-imager.md §4.1; upstream `pkg/machinery/extensions/load.go`):
 * the tree must hold exactly `manifest.yaml` and `rootfs/` at its top, nothing else.
 */
import { invalidInput } from '../../core/errors.js';
import { readEntry, type FileEntry, type FileTree } from '../../core/file-tree.js';
import { MAX_MANIFEST_BYTES, parseExtensionManifest, type ExtensionManifest } from './manifest.js';

export interface LoadedExtension {
  /** Directory name in the imager's scratch tree: the input index as a string (`0`, `1`, …). */
  directory: string;
  manifest: ExtensionManifest;
  /**
   * The rootfs with paths relative to it; the rootfs directory itself, when the tree lists it, is
   * the entry with path ''.
   */
  rootfs: FileEntry[];
}

export async function loadExtension(tree: FileTree, directory: string): Promise<LoadedExtension> {
  const label = `extension ${directory}`;
  let manifestEntry: FileEntry | undefined;
  let hasRootfs = false;
  const rootfs: FileEntry[] = [];
  for (const e of tree) {
    const path = e.path.split('/').filter((s) => s !== '' && s !== '.').join('/');
    if (path === '') continue; // the extension directory itself
    const top = path.split('/')[0]!;
    if (top === 'manifest.yaml' && path === top) {
      manifestEntry = e;
    } else if (top === 'rootfs') {
      hasRootfs = true;
      const rel: FileEntry = { ...e, path: path.slice('rootfs'.length + 1) };
      if (e.type === 'hardlink') {
        // Hard-link targets are tree paths too: they must stay inside rootfs/.
        const target = (e.linkTarget ?? '').split('/').filter((s) => s !== '' && s !== '.').join('/');
        if (!target.startsWith('rootfs/')) throw invalidInput('E_EXTENSION_LAYOUT', `error loading ${label}: hard link ${JSON.stringify(path)} points outside rootfs/`);
        rel.linkTarget = target.slice('rootfs/'.length);
      }
      rootfs.push(rel);
    } else {
      throw invalidInput('E_EXTENSION_LAYOUT', `error loading ${label}: unexpected file ${JSON.stringify(top)}`);
    }
  }
  if (!manifestEntry) throw invalidInput('E_EXTENSION_LAYOUT', `error loading ${label}: extension manifest is missing`);
  if (manifestEntry.type !== 'file') throw invalidInput('E_EXTENSION_LAYOUT', `error loading ${label}: manifest.yaml is not a regular file`);
  if (!hasRootfs) throw invalidInput('E_EXTENSION_LAYOUT', `error loading ${label}: extension rootfs is missing`);
  const root = rootfs.find((e) => e.path === '');
  if (root && root.type !== 'dir') throw invalidInput('E_EXTENSION_LAYOUT', `error loading ${label}: rootfs is not a directory`);
  if (manifestEntry.size > MAX_MANIFEST_BYTES) throw invalidInput('E_EXTENSION_MANIFEST', `error loading ${label}: manifest.yaml is too large`);
  const manifest = parseExtensionManifest(await readEntry(manifestEntry), `error loading ${label}`);
  return { directory, manifest, rootfs };
}
