/**
 * Schematic + Talos version + asset path → the imager profile the Image Factory builds
 * (image-factory.md §2.5 steps 3–5, §2.7; upstream `EnhanceFromSchematic` in
 * `internal/profile/profile.go`).
 *
 * Everything that needs no catalog is done here: kernel args, META, bootloader, sector size,
 * embedded machine config, SecureBoot options, version checks, the overlay profile merge (when the
 * caller supplies the overlay's `profiles/<name>.yaml`). What needs the version's extension and
 * overlay catalogs (image references, the schematic extension tarball) is returned as a list for the
 * caller to resolve, in the order the images must be appended to `input.systemExtensions`.
 */
import { quirksFor } from '../profile/quirks.js';
import { cloneProfile, mergeProfile } from '../profile/merge.js';
import { resolveProfile, type ResolveProfileOptions } from '../profile/resolve.js';
import {
  emptyContainerAsset,
  emptyImageOptions,
  emptyISOOptions,
  emptyProfile,
  emptySecureBootAssets,
  parseEnum,
  SDBOOT_ENROLL_KEYS,
  type Profile,
  type SecureBootAssets,
} from '../profile/schema.js';
import { GoMap, type GoValue } from '../profile/go-value.js';
import { parseStrictVersion } from '../profile/version.js';
import { parseAssetPath } from './asset-path.js';
import { schematicInvalid, upstreamMessage } from './errors.js';
import { YamlTimestamp, type OverlayOptionValue, type Schematic, type SchematicOverlayOptions } from './model.js';

/** The Talos name the factory puts in every profile (community edition). */
export const FACTORY_TALOS_NAME = 'Talos';

export interface AssetProfileOptions extends Pick<ResolveProfileOptions, 'fileExists'> {
  /**
   * SecureBoot signing material from the factory's SecureBoot service, copied into the profile for
   * `-secureboot` assets. `null`: SecureBoot is not configured (such assets fail with upstream's
   * `secure boot is disabled`). Absent: the imager's default signer paths (`/secureboot/…`) are used.
   */
  secureBootAssets?: SecureBootAssets | null;
  /**
   * The overlay's own profile (`profiles/<overlay name>.yaml` in the overlay image), merged as
   * upstream's `MergeOverlayProfile` does when the schematic names an overlay.
   */
  overlayProfile?: Profile;
  /** Fill the imager's defaults and validate, as the imager does before building (default true). */
  fillDefaults?: boolean;
}

/** An official extension the caller looks up by repository path in the version's catalog. */
export interface OfficialExtensionRequest {
  /** As written in the schematic, e.g. `siderolabs/gvisor`. */
  name: string;
  /** The name to try when `name` is not in the catalog (renamed extensions, §2.7 step 5), or null. */
  alias: string | null;
}

export interface AssetProfile {
  /** The imager profile; `input.systemExtensions` still lacks the catalog images listed below. */
  profile: Profile;
  /** The Talos version tag used (`v` + semver). */
  versionTag: string;
  /** Official extensions to resolve and append to `input.systemExtensions`, in this order. */
  officialExtensions: OfficialExtensionRequest[];
  /** Whether the schematic extension (image-factory.md §4.3) is appended after them. */
  schematicExtension: boolean;
  /**
   * The overlay to resolve by name in the overlay catalog (its image goes to `overlay.image` for the
   * host arch and to `input.overlayInstaller` for the target arch), or null. Its `options` are
   * already in `profile.overlay.options`.
   */
  overlay: { name: string; image: string } | null;
}

const RENAMED_EXTENSIONS: Readonly<Record<string, string>> = {
  'siderolabs/v4l-uvc': 'siderolabs/v4l-uvc-drivers',
  'siderolabs/usb-modem': 'siderolabs/usb-modem-drivers',
  'siderolabs/gasket': 'siderolabs/gasket-driver',
  'siderolabs/talos-vmtoolsd': 'siderolabs/vmtoolsd-guest-agent',
  'siderolabs/xe-guest-utilities': 'siderolabs/xen-guest-agent',
  'siderolabs/nvidia-container-toolkit': 'siderolabs/nvidia-container-toolkit-lts',
  'siderolabs/nvidia-open-gpu-kernel-modules': 'siderolabs/nvidia-open-gpu-kernel-modules-lts',
  'siderolabs/nonfree-kmod-nvidia': 'siderolabs/nonfree-kmod-nvidia-lts',
  'siderolabs/nvidia-fabricmanager': 'siderolabs/nvidia-fabric-manager-lts',
  'siderolabs/i915-ucode': 'siderolabs/i915',
  'siderolabs/amdgpu-firmware': 'siderolabs/amdgpu',
};

/** The catalog name to try for an extension the catalog lacks (upstream `ExtensionNameAlias`). */
export function extensionNameAlias(name: string): string | null {
  return Object.hasOwn(RENAMED_EXTENSIONS, name) ? RENAMED_EXTENSIONS[name]! : null;
}

/**
 * The factory's `version` path parameter: an optional leading `v`, then strict semver. Returns the
 * version tag (`v1.11.0`). Upstream answers a malformed version with HTTP 500; here it is invalid input.
 */
export function factoryVersionTag(version: string): string {
  const tag = version.startsWith('v') ? version : `v${version}`;
  if (parseStrictVersion(tag.slice(1)) === null) {
    throw schematicInvalid(`error parsing version: invalid Talos version ${JSON.stringify(version)} (expected major.minor.patch)`, 'E_ASSET_VERSION');
  }
  return tag;
}

function enhanceError(message: string, code = 'E_ASSET_SCHEMATIC'): Error {
  return schematicInvalid(`error enhancing profile from schematic: ${message}`, code);
}

/**
 * The profile for `GET /image/<schematic>/<version>/<path>`: the asset path parsed (§2.6), the
 * schematic applied (§2.7), then by default the imager's defaults filled and the result validated.
 * Errors carry the factory's HTTP 400 text (`error parsing profile from path: …`,
 * `error enhancing profile from schematic: …`).
 */
export function profileForAsset(path: string, schematic: Schematic, version: string, opts: AssetProfileOptions = {}): AssetProfile {
  const versionTag = factoryVersionTag(version);
  let prof: Profile;
  try {
    prof = parseAssetPath(path);
  } catch (err) {
    const msg = upstreamMessage(err);
    if (msg === undefined) throw err;
    throw schematicInvalid(`error parsing profile from path: ${msg}`, 'E_ASSET_PATH');
  }

  const q = quirksFor(versionTag);
  const kind = prof.output.kind;
  const c = schematic.customization ?? {};
  const bootKindsOnly = kind === 'cmdline' || kind === 'kernel';

  const emc = c.embeddedMachineConfiguration ?? '';
  if (!bootKindsOnly && emc !== '') {
    if (!q.supportsEmbeddedConfig) throw enhanceError(`embedding configuration is not supported for Talos version ${versionTag}`);
    prof.customization.embeddedMachineConfiguration = emc;
  }

  if (prof.secureboot === true) {
    if (opts.secureBootAssets === null) throw enhanceError('secure boot is disabled', 'E_ASSET_SECUREBOOT_DISABLED');
    const assets = opts.secureBootAssets ? structuredClone(opts.secureBootAssets) : emptySecureBootAssets();
    if (c.secureboot?.includeWellKnownCertificates) assets.includeWellKnownCerts = true;
    // Without assets from a SecureBoot service, only a set flag is worth carrying; the imager fills the signers.
    if (opts.secureBootAssets || assets.includeWellKnownCerts) prof.input.secureboot = assets;
    const enroll = c.secureboot?.enrollKeys ?? '';
    if (enroll !== '') {
      const keys = parseEnum(SDBOOT_ENROLL_KEYS, enroll);
      if (keys === null) {
        throw enhanceError(`invalid secureboot enrollKeys value ${JSON.stringify(enroll)}: ${enroll} does not belong to SDBootEnrollKeys values`);
      }
      // secure-boot-enroll lives in the ESP's loader.conf: ISO and disk images only.
      if (kind === 'iso') (prof.output.isoOptions ??= emptyISOOptions()).sdBootEnrollKeys = keys;
      else if (kind === 'image') (prof.output.imageOptions ??= emptyImageOptions()).sdBootEnrollKeys = keys;
    }
  }

  const overlayName = schematic.overlay?.name ?? '';
  if (overlayName !== '' && !q.supportsOverlay) throw enhanceError(`overlay is not supported for Talos version ${versionTag}`);

  const officialExtensions: OfficialExtensionRequest[] = [];
  let overlay: AssetProfile['overlay'] = null;
  if (!bootKindsOnly) {
    for (const name of c.systemExtensions?.officialExtensions ?? []) officialExtensions.push({ name, alias: extensionNameAlias(name) });
    if (overlayName !== '') {
      overlay = { name: overlayName, image: schematic.overlay?.image ?? '' };
      if (opts.overlayProfile) prof = mergeOverlayProfile(prof, opts.overlayProfile);
      prof.overlay = {
        name: overlayName,
        image: emptyContainerAsset(),
        options: overlayOptionsToGo(schematic.overlay?.options),
      };
    }
  }

  const args = c.extraKernelArgs ?? [];
  const meta = (c.meta ?? []).map((m) => ({ key: m.key, value: m.value }));
  const argsAndMeta = () => {
    prof.customization.extraKernelArgs.push(...args);
    prof.customization.metaContents.push(...meta);
  };
  switch (kind) {
    case 'initramfs':
    case 'kernel':
      break;
    case 'installer':
    case 'uki':
      // The UKI carries the command line; older installers only take it when SecureBoot is on.
      if (prof.secureboot === true || q.supportsUnifiedInstaller) prof.customization.extraKernelArgs.push(...args);
      break;
    case 'iso':
      argsAndMeta();
      if (c.bootloader) (prof.output.isoOptions ??= emptyISOOptions()).bootloader = c.bootloader;
      break;
    case 'image': {
      argsAndMeta();
      const io = (prof.output.imageOptions ??= emptyImageOptions());
      if (c.bootloader) io.bootloader = c.bootloader;
      const sector = c.diskImage?.sectorSize;
      if (sector !== undefined && BigInt(sector) !== 0n) {
        if (BigInt(sector) > BigInt(Number.MAX_SAFE_INTEGER)) throw enhanceError(`sector size ${sector} is too large`);
        io.diskSectorSize = Number(sector);
      }
      break;
    }
    default:
      argsAndMeta();
  }

  prof.version = versionTag;
  prof.name = FACTORY_TALOS_NAME;
  if (opts.fillDefaults !== false) {
    prof = resolveProfile(prof, opts.fileExists ? { fileExists: opts.fileExists } : {});
  }
  return { profile: prof, versionTag, officialExtensions, schematicExtension: !bootKindsOnly, overlay };
}

/**
 * Merge an overlay's own profile into the factory profile as upstream's `MergeOverlayProfile`
 * does: the fields the factory sets itself (inputs, arch, platform, overlay, version, SecureBoot,
 * output kind and format, disk format/options/size) are cleared from the overlay profile first.
 */
export function mergeOverlayProfile(prof: Profile, overlayProfile: Profile): Profile {
  const o = cloneProfile(overlayProfile);
  o.input = emptyProfile().input;
  o.arch = '';
  o.platform = '';
  o.overlay = null;
  o.version = '';
  o.secureboot = null;
  o.output.kind = 'unknown';
  o.output.outFormat = 'unknown';
  if (o.output.imageOptions) {
    o.output.imageOptions.diskFormat = 'unknown';
    o.output.imageOptions.diskFormatOptions = '';
    o.output.imageOptions.diskSize = 0;
  }
  return mergeProfile(prof, o);
}

/** Schematic overlay options → the profile's Go value map (timestamps as their RFC 3339 text). */
export function overlayOptionsToGo(options: SchematicOverlayOptions | undefined): GoMap {
  const m = new GoMap();
  if (!options) return m;
  for (const k of Object.keys(options)) m.set(k, toGo(options[k]!));
  return m;
}

function toGo(v: OverlayOptionValue): GoValue {
  if (v instanceof YamlTimestamp) return v.text;
  if (Array.isArray(v)) return v.map(toGo);
  if (v instanceof Map) return new GoMap([...v.entries()].map(([k, x]) => [toGo(k as OverlayOptionValue), toGo(x)] as const));
  if (v !== null && typeof v === 'object') return overlayOptionsToGo(v);
  return v;
}
