/**
 * What the configured registry offers (image-factory.md §5): the Talos versions (tags of the imager
 * image, filtered as upstream `fetchTalosVersions`), and per version the official extension catalog
 * (`extensions:<v>`: `image-digests` + `descriptions.yaml`) and overlay catalog (`overlays:<v>`:
 * `overlays.yaml`). Each is fetched once (single flight); catalogs are kept for the process
 * lifetime, the version list for `talosVersionRecheckInterval` (a timer marks it stale, so no clock
 * is read).
 */
import { parse as parseYaml } from 'yaml';
import { dependency } from '../core/errors.js';
import { parseReference } from '../oci/reference.js';
import { compareVersions, formatVersion, parseTalosVersion, type TalosVersion } from '../profile/version.js';
import type { FactoryConfig } from './config.js';
import type { RegistryAccess } from './registry-access.js';

/** One official extension of a Talos version (the JSON of `/version/:v/extensions/official` + where to pull it). */
export interface ExtensionInfo {
  /** Repository path, e.g. `siderolabs/gvisor`. */
  name: string;
  /** `<configured registry>/<path>:<tag>`. */
  ref: string;
  digest: string;
  author: string;
  description: string;
}

export interface OverlayInfo {
  name: string;
  /** Repository path, e.g. `siderolabs/sbc-raspberrypi`. */
  image: string;
  /** The reference as the catalog writes it. */
  ref: string;
  digest: string;
}

export interface Catalogs {
  versions(): Promise<TalosVersion[]>;
  extensions(versionTag: string): Promise<ExtensionInfo[]>;
  overlays(versionTag: string): Promise<OverlayInfo[]>;
}

/** `v` + semver, as the factory writes versions. */
export const versionTag = (v: TalosVersion) => `v${formatVersion(v)}`;

/**
 * Upstream's filter: tolerant parse (non-versions dropped), ≥ minimum, not broken, pre-releases only
 * of the highest major.minor and only `alpha|beta|rc.<n>`; ascending.
 */
export function filterTalosVersions(tags: readonly string[], min: TalosVersion, broken: readonly TalosVersion[]): TalosVersion[] {
  const parsed = tags.map((t) => parseTalosVersion(t)).filter((v): v is TalosVersion => v !== null);
  if (parsed.length === 0) return [];
  const max = parsed.reduce((a, b) => (compareVersions(a, b) >= 0 ? a : b));
  const keep = parsed.filter((v) => {
    if (compareVersions(v, min) < 0) return false;
    if (broken.some((b) => compareVersions(b, v) === 0)) return false;
    if (v.prerelease.length > 0) {
      if (v.major !== max.major || v.minor !== max.minor) return false;
      if (v.prerelease.length !== 2) return false;
      if (!['alpha', 'beta', 'rc'].includes(v.prerelease[0]!)) return false;
      if (!/^[0-9]+$/.test(v.prerelease[1]!)) return false;
    }
    return true;
  });
  keep.sort(compareVersions);
  // The same version under two tags (`v1.11.0` and `1.11.0`) is listed once.
  return keep.filter((v, i) => i === 0 || compareVersions(keep[i - 1]!, v) !== 0);
}

/** Parse `image-digests` (+ `descriptions.yaml`) as upstream `extractExtensionList`. */
export function parseExtensionCatalog(imageDigests: string, descriptionsYaml: string | undefined, registry: string, what: string): ExtensionInfo[] {
  let descriptions: Record<string, unknown> = {};
  if (descriptionsYaml !== undefined) {
    let doc: unknown;
    try {
      doc = parseYaml(descriptionsYaml, { maxAliasCount: 100 });
    } catch (err) {
      throw dependency('E_SERVE_CATALOG', `${what}: error reading descriptions.yaml file: ${(err as Error).message.split('\n')[0]}`);
    }
    if (doc !== null && doc !== undefined) {
      if (typeof doc !== 'object' || Array.isArray(doc)) throw dependency('E_SERVE_CATALOG', `${what}: descriptions.yaml is not a mapping`);
      descriptions = doc as Record<string, unknown>;
    }
  }
  const out: ExtensionInfo[] = [];
  for (const raw of imageDigests.split('\n')) {
    const line = raw.trim();
    const at = line.indexOf('@');
    if (at < 0) continue;
    const tagged = line.slice(0, at);
    let ref;
    try {
      ref = parseReference(tagged);
    } catch (err) {
      throw dependency('E_SERVE_CATALOG', `${what}: failed to parse tagged reference ${tagged}: ${(err as Error).message}`);
    }
    const desc = Object.hasOwn(descriptions, line) ? descriptions[line] : undefined;
    const field = (k: string) => (desc && typeof desc === 'object' && typeof (desc as Record<string, unknown>)[k] === 'string' ? String((desc as Record<string, unknown>)[k]) : '');
    out.push({ name: ref.repository, ref: `${registry}/${ref.repository}:${ref.tag ?? 'latest'}`, digest: line.slice(at + 1), author: field('author'), description: field('description') });
  }
  return out;
}

/** Parse `overlays.yaml` as upstream `extractOverlayList`. */
export function parseOverlayCatalog(overlaysYaml: string, what: string): OverlayInfo[] {
  let doc: unknown;
  try {
    doc = parseYaml(overlaysYaml, { maxAliasCount: 100 });
  } catch (err) {
    throw dependency('E_SERVE_CATALOG', `${what}: error reading overlays.yaml file: ${(err as Error).message.split('\n')[0]}`);
  }
  const list = doc && typeof doc === 'object' ? (doc as { overlays?: unknown }).overlays : undefined;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw dependency('E_SERVE_CATALOG', `${what}: overlays.yaml "overlays" is not a list`);
  return list.map((o, i) => {
    const item = (o ?? {}) as Record<string, unknown>;
    const s = (k: string) => (typeof item[k] === 'string' ? (item[k] as string) : '');
    let ref;
    try {
      ref = parseReference(s('image'));
    } catch (err) {
      throw dependency('E_SERVE_CATALOG', `${what}: overlays[${i}]: failed to parse tagged reference ${s('image')}: ${(err as Error).message}`);
    }
    return { name: s('name'), image: ref.repository, ref: `${ref.registry}/${ref.repository}:${ref.tag ?? 'latest'}`, digest: s('digest') };
  });
}

/** The catalogs of the configured registry, fetched on demand and remembered. */
export class RegistryCatalogs implements Catalogs {
  private versionList: Promise<TalosVersion[]> | null = null;
  private readonly extensionLists = new Map<string, Promise<ExtensionInfo[]>>();
  private readonly overlayLists = new Map<string, Promise<OverlayInfo[]>>();
  private readonly min: TalosVersion;
  private readonly broken: TalosVersion[];
  private staleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly access: RegistryAccess,
    private readonly cfg: FactoryConfig,
  ) {
    this.min = parseTalosVersion(cfg.build.minTalosVersion)!;
    this.broken = cfg.build.brokenTalosVersions.map((v) => parseTalosVersion(v)!);
  }

  brokenVersions(): TalosVersion[] {
    return [...this.broken];
  }

  versions(): Promise<TalosVersion[]> {
    if (this.versionList) return this.versionList;
    const p = this.access.listTags(this.cfg.artifacts.components.imager).then((tags) => filterTalosVersions(tags, this.min, this.broken));
    this.versionList = p;
    p.then(
      () => {
        this.staleTimer = setTimeout(() => {
          if (this.versionList === p) this.versionList = null;
        }, this.cfg.artifacts.talosVersionRecheckIntervalMs);
        this.staleTimer.unref();
      },
      () => {
        // A failed listing is not remembered: the next request tries again.
        if (this.versionList === p) this.versionList = null;
      },
    );
    return p;
  }

  extensions(tag: string): Promise<ExtensionInfo[]> {
    return once(this.extensionLists, tag, async () => {
      const ref = this.access.tagged(this.cfg.artifacts.components.extensionManifest, tag);
      const files = await this.access.readFiles(ref, ['image-digests', 'descriptions.yaml']);
      const digests = files.get('image-digests');
      if (!digests) throw dependency('E_SERVE_CATALOG', `${ref}: failed to find image-digests file`);
      return parseExtensionCatalog(digests.toString('utf8'), files.get('descriptions.yaml')?.toString('utf8'), this.access.registry, ref);
    });
  }

  overlays(tag: string): Promise<OverlayInfo[]> {
    return once(this.overlayLists, tag, async () => {
      const ref = this.access.tagged(this.cfg.artifacts.components.overlayManifest, tag);
      const files = await this.access.readFiles(ref, ['overlays.yaml']);
      const yaml = files.get('overlays.yaml');
      return yaml ? parseOverlayCatalog(yaml.toString('utf8'), ref) : [];
    });
  }

  close(): void {
    if (this.staleTimer) clearTimeout(this.staleTimer);
  }
}

/** Single flight per key; a failure is forgotten so a later request retries. */
function once<T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  const existing = map.get(key);
  if (existing) return existing;
  const p = make();
  map.set(key, p);
  p.catch(() => {
    if (map.get(key) === p) map.delete(key);
  });
  return p;
}
