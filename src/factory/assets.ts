/**
 * Boot assets of the service (image-factory.md §2.5 steps 4–6, §2.7, §6): an asset request becomes
 * a build plan — the imager profile with every input pinned to the configured registry, and a cache
 * key — and a plan becomes bytes: from the cache, from the build already running for the same key
 * (single flight), or from a new build queued behind `build.maxConcurrency`.
 *
 * The cache key is the SHA-256 of the final profile (YAML dump, with the machine-specific paths
 * replaced by stable placeholders), the imager reference and SOURCE_DATE_EPOCH: two requests that
 * would build the same bytes share one entry (e.g. `kernel-amd64` for every schematic).
 */
import { createHash } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ImagekitError } from '../core/errors.js';
import type { ProgressEvent } from '../core/progress.js';
import type { ReproContext } from '../core/repro.js';
import { schematicExtension } from '../boot/extensions/virtual.js';
import { fileEntryToTar, tarBytes } from '../oci/tar-writer.js';
import { writeFileAtomic } from '../pipeline/atomic-file.js';
import { buildOutput, checkBuildable } from '../pipeline/build.js';
import { cloneProfile } from '../profile/merge.js';
import { dumpProfile } from '../profile/dump.js';
import { finalOutputPath } from '../profile/output-path.js';
import { quirksFor } from '../profile/quirks.js';
import { resolveProfile } from '../profile/resolve.js';
import type { OutputKind, Profile } from '../profile/schema.js';
import { compareVersions, formatVersion, parseStrictVersion } from '../profile/version.js';
import { profileForAsset } from '../schematic/index.js';
import type { AssetCache, CachedAsset, LiveAsset } from './asset-cache.js';
import type { BuildQueue } from './build-queue.js';
import type { Catalogs, ExtensionInfo } from './catalog.js';
import type { FactoryConfig } from './config.js';
import { badRequest, HttpError, notFound, unavailable } from './http-error.js';
import type { ImagerAssets } from './imager-assets.js';
import type { RegistryAccess } from './registry-access.js';
import type { StoredSchematic } from './schematic-store.js';

/** The failure of builds cancelled by shutdown (answered 503, not 500). */
export const SHUTTING_DOWN = new ImagekitError('E_SERVE_SHUTDOWN', 'unknown', 'imagekit serve is shutting down');

/** Changing how assets are built invalidates old entries (upstream appends "errata" strings the same way). */
const CACHE_KEY_ERRATA = 'imagekit-serve-asset-v1';
const SCHEMATIC_EXTENSION_PLACEHOLDER = 'schematic-extension:';

export interface AssetPlan {
  key: string;
  /** The pipeline's output file name (`metal-amd64.raw.xz`). */
  name: string;
  kind: OutputKind;
  versionTag: string;
  arch: string;
  /** The profile to build; boot asset paths are the imager's defaults, to be rooted at the extracted files. */
  profile: Profile;
  /** The schematic extension tarball (image-factory.md §4.3), when the output carries extensions. */
  schematicExtension: { digest: string; tar: Buffer } | null;
}

export type Obtained = { type: 'cached'; entry: CachedAsset } | { type: 'live'; live: LiveAsset };

export interface AssetLog {
  (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
}

export interface AssetStats {
  /** Builds started (one per cache key per miss). */
  builds: number;
  buildsFailed: number;
  /** Requests answered from a complete cache entry. */
  cacheHits: number;
  /** Requests that joined a build already running. */
  joined: number;
}

/**
 * The Talos version tag of a `:version` path segment: an optional leading `v`, then strict semver
 * (upstream: `semver.Parse`; a malformed version is an untagged error, HTTP 500, §2.1).
 */
export function parseVersionSegment(segment: string): { tag: string; version: string } {
  const tag = segment.startsWith('v') ? segment : `v${segment}`;
  const v = parseStrictVersion(tag.slice(1));
  if (!v) throw new HttpError(500, 'internal server error', `error parsing version: invalid version ${JSON.stringify(segment)}`);
  return { tag, version: formatVersion(v) };
}

export class AssetService {
  private readonly building = new Map<string, Promise<Obtained>>();
  private readonly shutdown = new AbortController();
  readonly stats: AssetStats = { builds: 0, buildsFailed: 0, cacheHits: 0, joined: 0 };
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly cfg: FactoryConfig,
    private readonly externalUrl: string,
    private readonly access: RegistryAccess,
    private readonly catalogs: Catalogs,
    private readonly imager: ImagerAssets,
    private readonly cache: AssetCache,
    private readonly queue: BuildQueue,
    private readonly repro: ReproContext,
    private readonly log: AssetLog,
  ) {}

  /** 404 `version X is not available` unless the registry lists the version (§5.1). */
  async requireVersion(versionTag: string): Promise<void> {
    const want = parseStrictVersion(versionTag.slice(1))!;
    const versions = await this.catalogs.versions();
    if (!versions.some((v) => compareVersions(v, want) === 0)) throw notFound(`version ${formatVersion(want)} is not available`);
  }

  /**
   * Asset path + schematic + version → build plan. Errors are upstream's: 400 for the path and the
   * schematic enhancement, 404 for a version the registry does not have, and 400 for what the
   * pipeline cannot build yet (checked here, before anything is fetched).
   */
  async plan(stored: StoredSchematic, versionTag: string, path: string): Promise<AssetPlan> {
    // Path grammar and the schematic checks that need no catalog (throws with upstream's 400 texts).
    const ap = profileForAsset(path, stored.schematic, versionTag, { secureBootAssets: null, fillDefaults: false });
    await this.requireVersion(versionTag);
    const prof = ap.profile;
    const kind = prof.output.kind;

    if (ap.officialExtensions.length > 0) {
      const catalog = await this.catalogs.extensions(versionTag);
      for (const req of ap.officialExtensions) {
        const found = findExtension(catalog, req.name) ?? (req.alias ? findExtension(catalog, req.alias) : undefined);
        if (!found) throw badRequest(`error enhancing profile from schematic: official extension ${JSON.stringify(req.name)} is not available for Talos version ${versionTag}`);
        prof.input.systemExtensions.push({ imageRef: this.access.pinned(found.name, found.digest), forceInsecure: false, tarballPath: '', ociPath: '' });
      }
    }
    let schematicExt: AssetPlan['schematicExtension'] = null;
    if (ap.schematicExtension) {
      const tree = schematicExtension({ schematicId: stored.id, externalUrl: this.externalUrl, talosVersion: versionTag, canonicalSchematic: stored.canonical });
      const tar = await tarBytes(tree.map(fileEntryToTar));
      const digest = createHash('sha256').update(tar).digest('hex');
      schematicExt = { digest, tar };
      prof.input.systemExtensions.push({ imageRef: '', forceInsecure: false, tarballPath: `${SCHEMATIC_EXTENSION_PLACEHOLDER}${digest}`, ociPath: '' });
    }
    if (ap.overlay) {
      const overlays = await this.catalogs.overlays(versionTag);
      // Upstream prints the zero value of its overlay struct here; the name is what helps.
      if (!overlays.some((o) => o.name === ap.overlay!.name)) {
        throw badRequest(`error enhancing profile from schematic: official overlay ${JSON.stringify(ap.overlay.name)} is not available for Talos version ${versionTag}`);
      }
    }
    if (kind === 'installer') {
      const component = quirksFor(versionTag).supportsUnifiedInstaller ? this.cfg.artifacts.components.installerBase : this.cfg.artifacts.components.installer;
      prof.input.baseInstaller = { imageRef: this.access.tagged(component, versionTag), forceInsecure: false, tarballPath: '', ociPath: '' };
    }
    if (kind === 'image' && this.cfg.build.diskBootloader === 'sd-boot' && prof.output.imageOptions && prof.output.imageOptions.bootloader === 'none') {
      // imagekit cannot build GRUB yet: the imager's dual-boot/grub default would always fail.
      prof.output.imageOptions.bootloader = 'sd-boot';
    }

    let resolved: Profile;
    try {
      resolved = resolveProfile(prof, { fileExists: () => false });
      checkBuildable(resolved);
    } catch (err) {
      if (err instanceof ImagekitError && (err.exitCode === 2 || err.exitCode === 3)) throw badRequest(`error building asset ${JSON.stringify(path)}: ${err.message}`);
      throw err;
    }
    const imagerRef = this.imager.imagerRef(versionTag);
    const key = createHash('sha256')
      .update(`${CACHE_KEY_ERRATA}\nimager=${imagerRef}\nsource-date-epoch=${this.repro.sourceDateEpoch}\nseed=${this.repro.seed}\n`)
      .update(dumpProfile(resolved))
      .digest('hex');
    return { key, name: finalOutputPath(resolved), kind, versionTag, arch: resolved.arch, profile: resolved, schematicExtension: schematicExt };
  }

  /** The asset of a plan: cached, being built (joined), or built now (single flight per key). */
  async obtain(plan: AssetPlan): Promise<Obtained> {
    const running = this.building.get(plan.key);
    if (running) {
      this.stats.joined++;
      return running;
    }
    const entry = await this.cache.lookup(plan.key);
    if (entry) {
      this.stats.cacheHits++;
      return { type: 'cached', entry };
    }
    const raced = this.building.get(plan.key);
    if (raced) {
      this.stats.joined++;
      return raced;
    }
    if (this.shutdown.signal.aborted) throw unavailable('shutting down');
    if (this.queue.full) throw unavailable(`build queue full (${this.queue.active} running, ${this.queue.queued} waiting)`);
    const started = this.start(plan);
    this.building.set(plan.key, started);
    started.catch(() => this.building.delete(plan.key));
    return started;
  }

  /** Queue the build; resolves once its output is being written (or was found complete meanwhile). */
  private start(plan: AssetPlan): Promise<Obtained> {
    return new Promise<Obtained>((resolve, reject) => {
      const job = this.queue.run(async () => {
        // A build that finished while this one queued (or another process) may have filled the entry.
        const entry = await this.cache.lookup(plan.key);
        if (entry) {
          resolve({ type: 'cached', entry });
          return;
        }
        const live = await this.cache.begin(plan.key);
        resolve({ type: 'live', live });
        await this.build(plan, live);
      }, this.shutdown.signal);
      job.catch(reject).finally(() => {
        this.building.delete(plan.key);
        this.running.delete(job);
      });
      this.running.add(job);
    });
  }

  private async build(plan: AssetPlan, live: LiveAsset): Promise<void> {
    this.stats.builds++;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new ImagekitError('E_SERVE_BUILD_TIMEOUT', 'unknown', `build timed out after ${this.cfg.build.timeoutMs / 1000} s (build.timeout)`)), this.cfg.build.timeoutMs);
    timer.unref();
    const signal = AbortSignal.any([this.shutdown.signal, timeout.signal]);
    const fields = { key: plan.key.slice(0, 12), asset: plan.name, version: plan.versionTag };
    this.log('info', 'build started', fields);
    try {
      const p = cloneProfile(plan.profile);
      const root = await this.imager.root(plan.versionTag, plan.arch);
      for (const asset of ['kernel', 'initramfs', 'sdStub', 'sdBoot'] as const) {
        if (p.input[asset].path.startsWith('/usr/install/')) p.input[asset].path = join(root, p.input[asset].path);
      }
      if (plan.schematicExtension) {
        const tarPath = await this.schematicExtensionTar(plan.schematicExtension);
        for (const ext of p.input.systemExtensions) {
          if (ext.tarballPath === `${SCHEMATIC_EXTENSION_PLACEHOLDER}${plan.schematicExtension.digest}`) ext.tarballPath = tarPath;
        }
      }
      const scratchDir = join(this.cfg.cache.dir, 'tmp');
      await mkdir(scratchDir, { recursive: true });
      await buildOutput(p, {
        output: { type: 'stream', stream: live.writable, name: plan.name },
        progress: (e: ProgressEvent) => {
          if (e.type === 'warning') this.log('warn', e.message, fields);
        },
        repro: this.repro,
        signal,
        cache: this.access.cache,
        client: this.access.client,
        imagerImage: { directory: root },
        scratchDir,
      });
      const entry = await live.commit(plan.name);
      this.log('info', 'build done', { ...fields, bytes: entry.meta.size, sha256: entry.meta.sha256 });
    } catch (err) {
      this.stats.buildsFailed++;
      // A cancelled build fails with the reason (shutdown, timeout), whatever the step that noticed it.
      const e = signal.aborted ? (signal.reason as Error) : (err as Error);
      await live.abort(e);
      this.log('error', 'build failed', { ...fields, error: e.message });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The schematic extension as a tarball on disk (content-addressed, written once). */
  private async schematicExtensionTar(ext: { digest: string; tar: Buffer }): Promise<string> {
    const dir = join(this.cfg.cache.dir, 'artifacts', 'schematic-extensions');
    const path = join(dir, `${ext.digest}.tar`);
    if (await stat(path).then((s) => s.isFile() && s.size === ext.tar.length, () => false)) return path;
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(path, ext.tar);
    return path;
  }

  /** Cancel running and queued builds and wait for them to clean up (no partial entry remains). */
  async close(): Promise<void> {
    this.shutdown.abort(SHUTTING_DOWN);
    await Promise.allSettled([...this.running]);
  }
}

function findExtension(catalog: ExtensionInfo[], name: string): ExtensionInfo | undefined {
  return catalog.find((e) => e.name === name);
}
