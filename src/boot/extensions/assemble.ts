/**
 * The imager's extension step (talos-imager.md §4.2–§4.6; upstream `pkg/imager/extensions/*.go`,
 * `internal/pkg/extensions/compress.go`): from flattened extension trees to the two member lists of
 * the archives appended to the initramfs.
 *
 * 1. Each extension gets the directory name of its input index (`0`, `1`, …, `10`); they are
 *    processed in *string* order of those names (`0, 1, 10, 2, …`), as upstream lists them.
 * 2. Layout and manifest are loaded and checked, then every Talos-version constraint.
 * 3. An extension with kernel modules (`/usr/lib/modules`) needs depmod, which is not implemented:
 *    that fails with exit code 3 naming the extension, before any work.
 * 4. Per extension: CPU microcode (`<fw>/intel-ucode/*`, `<fw>/amd-ucode/microcode_amd*.bin`) is
 *    concatenated into `kernel/x86/microcode/{GenuineIntel,AuthenticAMD}.bin` for the uncompressed
 *    early archive; the rest of `<fw>` moves to `usr/lib/firmware` of the compressed archive; what
 *    remains becomes `<dir>.sqsh` (mksquashfs `-all-root`, SELinux labels only, 128 KiB blocks,
 *    zstd-18 from Talos 1.8, xz with a block-size dictionary below).
 * 5. `extensions.yaml` lists the layers in that order.
 *
 * File modes follow what the imager leaves on disk before mksquashfs/cpio read it: extracted
 * directories get their mode OR 0700 and directories the layer does not list are 0700
 * (`pkg/archiver/untar.go`); moved firmware and generated files are created under the usual umask
 * 022. Unlike upstream, every timestamp is SOURCE_DATE_EPOCH (talos-imager.md §13), hard links stay
 * hard links (upstream turns them into empty files), and symlinks inside the firmware tree are
 * resolved inside the extension rather than on the build host.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createBlockCompressor } from '../../compress/index.js';
import { invalidInput, unsupported } from '../../core/errors.js';
import type { FileEntry, FileTree } from '../../core/file-tree.js';
import type { ProgressSink } from '../../core/progress.js';
import type { ReproContext } from '../../core/repro.js';
import { SparseFileSink } from '../../core/sink.js';
import {
  writeSquashfs, type SquashfsBlockCompressor, type SquashfsCompression,
} from '../../formats/squashfs/index.js';
import { quirksFor } from '../../profile/quirks.js';
import { encodeExtensionsConfig, type ExtensionLayer } from './config.js';
import { checkTalosCompatibility } from './constraint.js';
import { loadExtension, type LoadedExtension } from './load.js';

/** The umask the imager runs with (files it creates itself). */
const UMASK = 0o022;
const SQUASHFS_BLOCK_SIZE = 131072;
const SELINUX_XATTR = 'security.selinux';

type ClosableCompressor = SquashfsBlockCompressor & { close?: () => Promise<void> };
export type BlockCompressorFactory = (compression: SquashfsCompression, blockSize: number) => ClosableCompressor | Promise<ClosableCompressor>;

export interface ExtensionsOptions {
  /** Target Talos version (quirks: compression, firmware/modules paths; compatibility). */
  talosVersion: string;
  repro: ReproContext;
  /** Directory for the squashfs images until they are streamed into the cpio. Default: the OS temp dir. */
  scratchDir?: string;
  /** Block compressor for the squashfs images; default: the worker-pool compressor of src/compress. */
  blockCompressor?: BlockCompressorFactory;
  progress?: ProgressSink;
}

export interface ExtensionsPayload {
  /** Members of the uncompressed early-microcode cpio (empty when no extension ships microcode). */
  early: FileTree;
  /** Members of the compressed cpio: `<dir>.sqsh`, `extensions.yaml`, firmware. */
  compressed: FileTree;
  layers: ExtensionLayer[];
  /** The `extensions.yaml` text. */
  config: string;
  /** Compression of the appended cpio: zstd from Talos 1.8, xz below. */
  compression: 'zstd' | 'xz';
  /** Remove the scratch files. */
  dispose(): Promise<void>;
}

export function squashfsCompressionFor(talosVersion: string): SquashfsCompression {
  return quirksFor(talosVersion).useZstdCompression
    ? { algorithm: 'zstd', level: 18 }
    : { algorithm: 'xz', dictSize: SQUASHFS_BLOCK_SIZE };
}

export const defaultBlockCompressor: BlockCompressorFactory = (c, blockSize) => {
  switch (c.algorithm) {
    case 'zstd':
      return createBlockCompressor({ codec: 'zstd', level: c.level ?? 15 });
    case 'gzip':
      return createBlockCompressor({ codec: 'gzip', level: c.level ?? 9 });
    case 'xz':
      return createBlockCompressor({ codec: 'xz', level: 6, xzDictSize: c.dictSize ?? blockSize });
  }
};

const norm = (p: string) => p.split('/').filter((s) => s !== '' && s !== '.').join('/');
const parentOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const baseOf = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Concatenate the content of several entries (the early microcode blobs). */
function concatenated(path: string, sources: FileEntry[], mtime: number): FileEntry {
  const size = sources.reduce((n, s) => n + s.size, 0);
  return {
    path, type: 'file', mode: 0o644 & ~UMASK, uid: 0, gid: 0, mtime, size,
    open: () => Readable.from((async function* () {
      for (const s of sources) yield* s.open!() as AsyncIterable<Buffer>;
    })()),
  };
}

/** Resolve a symlink target against the directory holding the link ('..' stops at the root). */
function resolveTarget(linkDir: string, target: string): string {
  const parts: string[] = target.startsWith('/') ? [] : linkDir.split('/').filter(Boolean);
  for (const s of target.split('/')) {
    if (s === '..') parts.pop();
    else if (s !== '' && s !== '.') parts.push(s);
  }
  return parts.join('/');
}

/** One extension's rootfs as a path-indexed view from which subtrees can be removed. */
class Rootfs {
  readonly byPath = new Map<string, FileEntry>();
  private readonly children = new Map<string, Set<string>>();
  private readonly removed = new Set<string>();

  constructor(entries: FileEntry[], private readonly label: string) {
    for (const e of entries) {
      const p = norm(e.path);
      if (this.byPath.has(p)) throw invalidInput('E_EXTENSION_DUPLICATE', `${label}: ${JSON.stringify('/' + p)} is listed twice`);
      this.byPath.set(p, { ...e, path: p });
      // Parents the layer does not list still exist once extracted.
      for (let q = p; q !== ''; q = parentOf(q)) {
        const parent = parentOf(q);
        let set = this.children.get(parent);
        if (!set) this.children.set(parent, (set = new Set()));
        if (set.has(q)) break;
        set.add(q);
      }
    }
  }

  /** Does the path exist (listed, or a parent of something listed)? */
  has(p: string): boolean {
    return this.byPath.has(p) || this.children.has(p);
  }

  isDir(p: string): boolean {
    const e = this.byPath.get(p);
    return e ? e.type === 'dir' : this.children.has(p);
  }

  /** Children still present, by name. */
  list(p: string): string[] {
    return [...(this.children.get(p) ?? [])].filter((c) => !this.removed.has(c)).sort((a, b) => byteOrder(baseOf(a), baseOf(b)));
  }

  /**
   * Follow symlinks (in the path and at its end) and hard links to a real path, as `os.Stat` would;
   * links resolve inside the extension's rootfs, never on the build host.
   */
  resolve(p: string, depth = 0): string {
    const r = this.tryResolve(p, depth);
    if (r === null) throw invalidInput('E_EXTENSION_SYMLINK', `${this.label}: ${JSON.stringify('/' + p)} points to a missing file`);
    return r;
  }

  /** Like `resolve`, but null when the path (or a link target on the way) does not exist. */
  tryResolve(p: string, depth = 0): string | null {
    if (depth > 40) throw invalidInput('E_EXTENSION_SYMLINK', `${this.label}: too many levels of symbolic links at ${JSON.stringify('/' + p)}`);
    let real = '';
    const parts = p.split('/').filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      real = real ? `${real}/${parts[i]}` : parts[i]!;
      const e = this.byPath.get(real);
      let next: string | null = real;
      if (e?.type === 'symlink') next = this.tryResolve(resolveTarget(parentOf(real), e.linkTarget ?? ''), depth + 1);
      else if (e?.type === 'hardlink' && i === parts.length - 1) next = this.tryResolve(norm(e.linkTarget ?? ''), depth + 1);
      if (next === null) return null;
      real = next;
    }
    return this.has(real) ? real : null;
  }

  /** Remove a path and everything below it. */
  remove(p: string): void {
    this.removed.add(p);
    for (const c of this.children.get(p) ?? []) this.remove(c);
  }

  isRemoved(p: string): boolean {
    for (let q = p; ; q = parentOf(q)) {
      if (this.removed.has(q)) return true;
      if (q === '') return false;
    }
  }

  /** Entries still present; a hard link whose target moved away becomes a copy of it. */
  remaining(): FileEntry[] {
    const out: FileEntry[] = [];
    // Directories the layer implies but does not list exist on disk (created 0700 by the imager).
    for (const p of this.children.keys()) {
      if (!this.byPath.has(p) && p !== '' && !this.isRemoved(p)) {
        out.push({ path: p, type: 'dir', mode: 0o700, uid: 0, gid: 0, mtime: 0, size: 0 });
      }
    }
    for (const e of this.byPath.values()) {
      if (this.isRemoved(e.path)) continue;
      if (e.type === 'hardlink' && this.isRemoved(norm(e.linkTarget ?? ''))) {
        const target = this.byPath.get(this.resolve(e.path));
        if (!target || target.type !== 'file') throw invalidInput('E_EXTENSION_HARDLINK', `${this.label}: hard link ${JSON.stringify('/' + e.path)} has no file target`);
        out.push({ ...target, path: e.path });
      } else {
        out.push(e);
      }
    }
    return out;
  }
}

/** Go `filepath.Match` for the two upstream globs: `*` spans no `/`, everything else literal. */
function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp('^' + pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + '$');
  return re.test(name);
}

/** Pre-order listing, each directory's entries sorted by name (how upstream walks its scratch dir). */
function preorder(entries: FileEntry[]): FileEntry[] {
  const kids = new Map<string, FileEntry[]>();
  for (const e of entries) {
    const p = parentOf(e.path);
    const l = kids.get(p) ?? [];
    l.push(e);
    kids.set(p, l);
  }
  const out: FileEntry[] = [];
  const walk = (dir: string) => {
    for (const e of (kids.get(dir) ?? []).sort((a, b) => byteOrder(baseOf(a.path), baseOf(b.path)))) {
      out.push(e);
      if (e.type === 'dir') walk(e.path);
    }
  };
  walk('');
  return out;
}

export async function buildExtensionsPayload(extensions: readonly FileTree[], opts: ExtensionsOptions): Promise<ExtensionsPayload | null> {
  if (extensions.length === 0) return null;
  const quirks = quirksFor(opts.talosVersion);
  const fw = norm(quirks.firmwarePath);
  const modules = norm(quirks.kernelModulesPath);
  const sde = opts.repro.sourceDateEpoch;
  const compression = squashfsCompressionFor(opts.talosVersion);
  const progress = opts.progress;

  // 1–2. Load in the string order of the directory names, then validate every constraint.
  const order = extensions.map((_, i) => String(i)).sort();
  const loaded: LoadedExtension[] = [];
  for (const dir of order) loaded.push(await loadExtension(extensions[Number(dir)]!, dir));
  for (const ext of loaded) checkTalosCompatibility(ext.manifest.metadata.compatibility.talos.version, opts.talosVersion, ext.manifest.metadata.name);

  // 3. Kernel modules need depmod (a later issue): refuse clearly, never skip.
  const views = loaded.map((ext) => new Rootfs(ext.rootfs, `extension ${JSON.stringify(ext.manifest.metadata.name)} (${ext.directory})`));
  views.forEach((v, i) => {
    if (v.tryResolve(modules) !== null) {
      const name = loaded[i]!.manifest.metadata.name;
      throw unsupported('E_EXTENSION_KERNEL_MODULES',
        `extension ${JSON.stringify(name)} (${loaded[i]!.directory}) provides kernel modules (/${modules}): building modules.dep needs depmod, which imagekit does not implement yet`);
    }
  });

  const scratch = await mkdtemp(join(opts.scratchDir ?? tmpdir(), 'imagekit-ext-'));
  const dispose = () => rm(scratch, { recursive: true, force: true });
  try {
    const intel: FileEntry[] = [];
    const amd: FileEntry[] = [];
    /** Files and directories of the compressed archive (paths relative to its root). */
    const initramfs = new Map<string, FileEntry>();
    const layers: ExtensionLayer[] = [];
    const images: FileEntry[] = [];
    const factory = opts.blockCompressor ?? defaultBlockCompressor;
    const compressor = await factory(compression, SQUASHFS_BLOCK_SIZE);

    try {
      for (let i = 0; i < loaded.length; i++) {
        const ext = loaded[i]!;
        const view = views[i]!;
        const name = ext.manifest.metadata.name;
        progress?.({ type: 'step-start', step: 'extension', detail: `${ext.directory}: ${name}` });

        // 4a. Early microcode.
        for (const [dirName, pattern, sink] of [['intel-ucode', '*', intel], ['amd-ucode', 'microcode_amd*.bin', amd]] as const) {
          const real = view.tryResolve(`${fw}/${dirName}`);
          if (real === null || !view.isDir(real)) continue;
          for (const child of view.list(real)) {
            if (!globMatch(pattern, baseOf(child))) continue;
            const target = view.resolve(child);
            const e = view.byPath.get(target);
            if (!e || e.type !== 'file') throw invalidInput('E_EXTENSION_UCODE', `extension ${JSON.stringify(name)}: microcode ${JSON.stringify('/' + child)} is not a regular file`);
            sink.push(e);
            view.remove(child);
          }
        }

        // 4b. Firmware moves to the initramfs (copied with its permission bits, under the umask).
        const fwReal = view.tryResolve(fw);
        if (fwReal !== null && !view.isDir(fwReal)) {
          // upstream fails too (it cannot create the file without its parent directories)
          throw invalidInput('E_EXTENSION_FIRMWARE', `extension ${JSON.stringify(name)}: /${fw} is not a directory`);
        }
        if (fwReal !== null) {
          const move = (src: string, dst: string) => {
            const real = view.resolve(src);
            if (view.isDir(real)) {
              const e = view.byPath.get(real);
              const perm = (e ? e.mode & 0o777 : 0o700) & ~UMASK;
              // MkdirAll: every missing parent gets the same permissions; an existing one is kept.
              const parts = dst.split('/');
              for (let k = 1; k <= parts.length; k++) {
                const p = parts.slice(0, k).join('/');
                const have = initramfs.get(p);
                if (!have) initramfs.set(p, { path: p, type: 'dir', mode: perm, uid: 0, gid: 0, mtime: sde, size: 0 });
                else if (have.type !== 'dir') throw invalidInput('E_EXTENSION_FIRMWARE', `extension ${JSON.stringify(name)}: /${p} is both a file and a directory`);
              }
              for (const child of view.list(real)) move(child, `${dst}/${baseOf(child)}`);
            } else {
              const e = view.byPath.get(real);
              if (!e || e.type !== 'file') throw invalidInput('E_EXTENSION_FIRMWARE', `extension ${JSON.stringify(name)}: /${src} is not a regular file or directory`);
              const have = initramfs.get(dst);
              if (have?.type === 'dir') throw invalidInput('E_EXTENSION_FIRMWARE', `extension ${JSON.stringify(name)}: /${dst} is both a file and a directory`);
              // O_TRUNC on an existing file keeps its mode and takes the new content.
              initramfs.set(dst, { ...e, path: dst, mode: have ? have.mode : (e.mode & 0o777) & ~UMASK, uid: 0, gid: 0, mtime: sde, xattrs: undefined });
            }
            view.remove(src);
          };
          move(fw, fw);
        }

        // 4c. The rest becomes <dir>.sqsh.
        const rest = view.remaining();
        const listed = new Set(rest.map((e) => e.path));
        const tree: FileEntry[] = [];
        const addImplied = (p: string) => {
          if (listed.has(p)) return;
          listed.add(p);
          tree.push({ path: p, type: 'dir', mode: 0o700, uid: 0, gid: 0, mtime: sde, size: 0 });
        };
        addImplied('');
        for (const e of rest) {
          for (let q = parentOf(e.path); e.path !== '' && q !== ''; q = parentOf(q)) addImplied(q);
          const label = e.xattrs?.[SELINUX_XATTR];
          tree.push({
            ...e,
            mode: e.type === 'dir' ? (e.mode & 0o777) | 0o700 : e.mode & 0o7777,
            xattrs: label ? { [SELINUX_XATTR]: label } : undefined,
          });
        }
        const image = join(scratch, `${ext.directory}.sqsh`);
        const sink = await SparseFileSink.create(image);
        try {
          await writeSquashfs(tree, sink, {
            compression, compressor, mkfsTime: sde, timestamps: 'set', allRoot: true, progress,
          });
        } finally {
          await sink.close();
        }
        const size = (await stat(image)).size;
        images.push({
          path: `${ext.directory}.sqsh`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: sde, size,
          open: () => createReadStream(image, { highWaterMark: 1 << 20 }),
        });
        layers.push({ image: `${ext.directory}.sqsh`, metadata: ext.manifest.metadata });
        progress?.({ type: 'step-done', step: 'extension', detail: `${ext.directory}.sqsh ${size} bytes` });
      }
    } finally {
      await compressor.close?.();
    }

    // 5. extensions.yaml and the two member lists.
    const config = encodeExtensionsConfig(layers);
    const configBytes = Buffer.from(config);
    const compressed = preorder([
      ...images,
      { path: 'extensions.yaml', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: sde, size: configBytes.byteLength, open: () => Readable.from([configBytes]) },
      ...initramfs.values(),
    ]);
    const early: FileEntry[] = [];
    if (intel.length || amd.length) {
      for (const d of ['kernel', 'kernel/x86', 'kernel/x86/microcode']) early.push({ path: d, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: sde, size: 0 });
      if (amd.length) early.push(concatenated('kernel/x86/microcode/AuthenticAMD.bin', amd, sde));
      if (intel.length) early.push(concatenated('kernel/x86/microcode/GenuineIntel.bin', intel, sde));
    }
    return { early, compressed, layers, config, compression: quirks.extensionCompression, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}
