/**
 * The boot assets of a build (talos-imager.md §2.1): kernel, initramfs, systemd-stub and
 * systemd-boot. Each profile path (`input.kernel.path`, …; `/usr/install/<arch>/…` by default) is
 * used from the local file system when it exists there — the imager's own situation inside its
 * container — and otherwise taken from the imager image: `ghcr.io/siderolabs/imager:<version>` by
 * default (through any `--registry-mirror`), or an image given with `--imager-image` (a reference,
 * an OCI layout, an archive or an unpacked directory). Only the files a build needs are opened, so
 * a `cmdline` build never touches a registry.
 */
import { stat } from 'node:fs/promises';
import { invalidInput, ioError } from '../core/errors.js';
import type { FileEntry, FileTree } from '../core/file-tree.js';
import { fileSource } from '../boot/uki/file-source.js';
import type { StreamSource } from '../formats/pe/byte-source.js';
import type { Profile } from '../profile/schema.js';
import { describeInput, readInputTree, type InputSource, type ReadInputOptions } from './sources.js';

export type BootAssetName = 'kernel' | 'initramfs' | 'sdStub' | 'sdBoot';

/** A boot asset: a re-openable, sized byte source plus where it came from. */
export interface BootAsset extends StreamSource {
  /** `/usr/install/amd64/vmlinuz` or `usr/install/amd64/vmlinuz in ghcr.io/…`. */
  readonly label: string;
}

export type BootAssets = Partial<Record<BootAssetName, BootAsset>>;

/** The imager image of a Talos version (tags always carry the `v`). */
export function defaultImagerImage(version: string): string {
  return `ghcr.io/siderolabs/imager:${version.startsWith('v') ? version : `v${version}`}`;
}

export interface BootAssetOptions extends Omit<ReadInputOptions, 'include'> {
  /** Where assets missing on the local file system come from; default `defaultImagerImage(version)`. */
  imagerImage?: InputSource;
}

const profilePath = (p: Profile, name: BootAssetName): string => p.input[name].path;

async function localFile(path: string): Promise<BootAsset | null> {
  const st = await stat(path).catch(() => null);
  if (!st) return null;
  if (!st.isFile()) throw ioError('E_BOOT_ASSET', `boot asset ${path} is not a regular file`);
  const src = await fileSource(path);
  return { ...src, open: src.open, label: path };
}

function treeFile(tree: FileTree, path: string, image: string): BootAsset | null {
  const rel = path.replace(/^\/+/, '');
  const byPath = new Map(tree.map((e) => [e.path, e] as const));
  let e: FileEntry | undefined = byPath.get(rel);
  for (let depth = 0; e && (e.type === 'symlink' || e.type === 'hardlink') && depth < 8; depth++) {
    const t = e.linkTarget ?? '';
    const target = e.type === 'hardlink' || t.startsWith('/') ? t.replace(/^\/+/, '') : `${rel.slice(0, rel.lastIndexOf('/') + 1)}${t}`;
    e = byPath.get(target.split('/').filter((s) => s && s !== '.').join('/'));
  }
  if (!e) return null;
  if (e.type !== 'file' || !e.open) throw invalidInput('E_BOOT_ASSET', `${rel} in ${image} is not a regular file`);
  const entry = e;
  return { size: entry.size, open: () => entry.open!() as AsyncIterable<Uint8Array>, label: `${rel} in ${image}` };
}

/** Open the named assets: local files first, the imager image (pulled once) for the rest. */
export async function openBootAssets(p: Profile, names: readonly BootAssetName[], opts: BootAssetOptions): Promise<BootAssets> {
  const out: BootAssets = {};
  const missing: BootAssetName[] = [];
  for (const name of names) {
    const path = profilePath(p, name);
    if (path === '') throw invalidInput('E_BOOT_ASSET', `input.${name}.path is empty`);
    const local = await localFile(path);
    if (local) out[name] = local;
    else missing.push(name);
  }
  if (missing.length === 0) return out;

  const source = opts.imagerImage ?? { imageRef: defaultImagerImage(p.version) };
  const image = describeInput(source);
  const wanted = new Set(missing.map((n) => profilePath(p, n).replace(/^\/+/, '')));
  const dirs = new Set([...wanted].map((w) => w.slice(0, w.lastIndexOf('/') + 1)));
  opts.progress?.({ type: 'step-start', step: 'boot-assets', detail: image });
  const tree = await readInputTree(source, {
    ...opts,
    // Keep the asset directories (links inside them resolve), e.g. `usr/install/amd64/`.
    include: (path) => wanted.has(path) || [...dirs].some((d) => path.startsWith(d)),
  });
  for (const name of missing) {
    const asset = treeFile(tree, profilePath(p, name), image);
    if (!asset) {
      throw invalidInput('E_BOOT_ASSET_MISSING', `boot asset ${profilePath(p, name)} (input.${name}) is neither a local file nor in ${image}`);
    }
    out[name] = asset;
  }
  opts.progress?.({ type: 'step-done', step: 'boot-assets', detail: missing.map((n) => `${n}: ${out[n]!.size} bytes`).join(', ') });
  return out;
}
