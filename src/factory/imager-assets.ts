/**
 * Boot assets of a Talos version, taken from the configured registry's imager image
 * (`<registry>/<namespace>/siderolabs/imager:<v>`, `usr/install/<arch>/…`, talos-imager.md §2.1) and
 * kept on local disk, as upstream keeps its source artifacts (image-factory.md §6). Builds then read
 * these files; the pipeline never looks for `/usr/install` on the host or for another registry.
 *
 * Layout: `<dir>/<manifest digest hex>/<arch>/usr/install/<arch>/{vmlinuz,…}`, written into a
 * temporary directory and renamed into place whole; one extraction per (version, arch) at a time.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ioError } from '../core/errors.js';
import type { FileEntry } from '../core/file-tree.js';
import { flattenImage } from '../oci/flatten.js';
import { linuxPlatform } from '../oci/platform.js';
import { openImage } from '../oci/source.js';
import type { RegistryAccess } from './registry-access.js';

export const BOOT_ASSET_FILES = ['vmlinuz', 'initramfs.xz', 'systemd-stub.efi', 'systemd-boot.efi'] as const;

export class ImagerAssets {
  private readonly inFlight = new Map<string, Promise<string>>();
  private sequence = 0;

  constructor(
    private readonly access: RegistryAccess,
    private readonly imagerComponent: string,
    readonly dir: string,
  ) {}

  /** The imager reference of a version tag. */
  imagerRef(versionTag: string): string {
    return this.access.tagged(this.imagerComponent, versionTag);
  }

  /** A directory holding `usr/install/<arch>/…` of the version's imager image. */
  root(versionTag: string, arch: string): Promise<string> {
    const key = `${versionTag}/${arch}`;
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.extract(versionTag, arch);
      this.inFlight.set(key, p);
      // Success is remembered for the process lifetime; a failure is retried by the next build.
      p.catch(() => this.inFlight.delete(key));
    }
    return p;
  }

  private async extract(versionTag: string, arch: string): Promise<string> {
    const ref = this.imagerRef(versionTag);
    const image = await openImage({ imageRef: ref }, { platform: linuxPlatform('amd64'), cache: this.access.cache, client: this.access.client });
    const hex = image.digest.replace(/^sha256:/, '');
    const final = join(this.dir, hex, arch);
    if (await stat(join(final, 'done')).then(() => true, () => false)) return final;
    const prefix = `usr/install/${arch}/`;
    const tree = await flattenImage(image, { cache: this.access.cache, include: (p) => p.startsWith(prefix) });
    const byPath = new Map(tree.map((e) => [e.path, e] as const));
    const temp = join(this.dir, hex, `.${arch}.partial-${process.pid}-${this.sequence++}`);
    await rm(temp, { recursive: true, force: true });
    try {
      await mkdir(join(temp, prefix), { recursive: true });
      for (const name of BOOT_ASSET_FILES) {
        const entry = resolveLink(byPath, `${prefix}${name}`);
        if (!entry?.open) continue; // absent in this version: the build that needs it says so
        await pipeline(entry.open(), createWriteStream(join(temp, prefix, name), { mode: 0o644 }));
      }
      await writeFile(join(temp, 'done'), `${ref}@${image.digest}\n`);
      await rename(temp, final).catch(async (err: NodeJS.ErrnoException) => {
        // Another process finished first: its copy is as good as ours.
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
        await rm(temp, { recursive: true, force: true });
      });
    } catch (err) {
      await rm(temp, { recursive: true, force: true });
      throw ioError('E_SERVE_IMAGER', `cannot unpack the boot assets of ${ref} into ${this.dir}: ${(err as Error).message}`, err);
    }
    return final;
  }
}

/** Follow symlinks and hard links inside the tree (bounded), to a regular file. */
function resolveLink(byPath: Map<string, FileEntry>, path: string): FileEntry | undefined {
  let e = byPath.get(path);
  let at = path;
  for (let depth = 0; e && (e.type === 'symlink' || e.type === 'hardlink') && depth < 8; depth++) {
    const t = e.linkTarget ?? '';
    const target = e.type === 'hardlink' || t.startsWith('/') ? t : `${at.slice(0, at.lastIndexOf('/') + 1)}${t}`;
    const parts: string[] = [];
    for (const s of target.split('/')) {
      if (s === '' || s === '.') continue;
      if (s === '..') parts.pop();
      else parts.push(s);
    }
    at = parts.join('/');
    e = byPath.get(at);
  }
  return e && e.type === 'file' ? e : undefined;
}
