/**
 * `imagekit images`: what the cache holds — every pulled reference, its digest, and for each
 * platform whether all of its blobs are present (usable offline).
 */
import type { Command } from 'commander';
import { BlobCache, defaultCacheDir, type CachedReference } from '../../oci/blob-cache.js';
import { maxManifestBytes, parseManifest, type ImageManifest } from '../../oci/manifest.js';
import { formatPlatform } from '../../oci/platform.js';

export interface CachedImageRow {
  reference: string;
  digest: string;
  platforms: Array<{ platform: string; digest: string; complete: boolean; size: number }>;
}

async function manifestOf(cache: BlobCache, digest: string): Promise<ReturnType<typeof parseManifest> | null> {
  if (!(await cache.has(digest))) return null;
  try {
    return parseManifest(await cache.readBlob(digest, maxManifestBytes), undefined, `cached manifest ${digest}`);
  } catch {
    return null;
  }
}

async function imageState(cache: BlobCache, m: ImageManifest): Promise<{ complete: boolean; size: number }> {
  let complete = true;
  let size = 0;
  for (const d of [m.config, ...m.layers]) {
    if (await cache.has(d.digest, d.size)) size += d.size;
    else complete = false;
  }
  return { complete, size };
}

/** Rows for every reference recorded in the cache. */
export async function listCachedImages(cache: BlobCache): Promise<CachedImageRow[]> {
  const rows: CachedImageRow[] = [];
  const refs: CachedReference[] = await cache.listReferences();
  for (const r of refs) {
    const row: CachedImageRow = { reference: r.reference, digest: r.digest, platforms: [] };
    const root = await manifestOf(cache, r.digest);
    if (root?.kind === 'index') {
      for (const d of root.index.manifests) {
        const child = await manifestOf(cache, d.digest);
        if (child?.kind !== 'manifest') continue; // platform never pulled
        row.platforms.push({ platform: d.platform ? formatPlatform(d.platform) : '?', digest: d.digest, ...(await imageState(cache, child.manifest)) });
      }
    } else if (root?.kind === 'manifest') {
      let platform = '?';
      try {
        const cfg = JSON.parse(Buffer.from(await cache.readBlob(root.manifest.config.digest, 1 << 20)).toString('utf8')) as { os?: string; architecture?: string; variant?: string };
        if (cfg.os && cfg.architecture) platform = formatPlatform({ os: cfg.os, architecture: cfg.architecture, ...(cfg.variant ? { variant: cfg.variant } : {}) });
      } catch {
        // config not cached
      }
      row.platforms.push({ platform, digest: r.digest, ...(await imageState(cache, root.manifest)) });
    }
    rows.push(row);
  }
  return rows;
}

function human(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function register(program: Command): void {
  program
    .command('images')
    .description('list the images in the cache')
    .option('--cache-dir <dir>', 'content-addressed image cache (default $XDG_CACHE_HOME/imagekit)')
    .option('--json', 'print the list as JSON')
    .action(async (flags: { cacheDir?: string; json?: boolean }) => {
      const cache = new BlobCache(flags.cacheDir ?? defaultCacheDir());
      const rows = await listCachedImages(cache);
      if (flags.json) {
        process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        return;
      }
      const lines = [['REFERENCE', 'PLATFORM', 'DIGEST', 'SIZE', 'STATE']];
      for (const r of rows) {
        if (r.platforms.length === 0) lines.push([r.reference, '-', r.digest.slice(0, 19), '-', 'manifest only']);
        for (const p of r.platforms) lines.push([r.reference, p.platform, p.digest.slice(0, 19), human(p.size), p.complete ? 'complete' : 'partial']);
      }
      const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
      for (const l of lines) process.stdout.write(l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(widths[i]!))).join('  ') + '\n');
    });
}
