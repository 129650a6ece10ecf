/**
 * The imager's built-in base profiles (talos-imager.md §1.4, upstream `pkg/imager/profile/default.go`).
 * Every one sets `secureboot` explicitly; disk sizes are the "designed for a 1000 MiB BOOT" bases
 * that FillDefaults adjusts (§1.5).
 */
import { ProfileSchema, type DiskFormat, type OutFormat, type OutputKind, type Profile } from './schema.js';

const MiB = 1024 * 1024;
/** The smallest disk the imager makes; used for metal images. */
export const MIN_RAW_DISK_SIZE = 1246 * MiB;
/** The default for most cloud images. */
export const DEFAULT_RAW_DISK_SIZE = 8192 * MiB;

interface BaseSpec {
  platform: string;
  secureboot: boolean;
  kind: OutputKind;
  outFormat: OutFormat;
  image?: { diskSize: number; diskFormat: DiskFormat; diskFormatOptions?: string; diskSectorSize?: number };
  /** `secureboot-iso` names the enrollment mode explicitly (its zero value, `if-safe`). */
  isoOptions?: true;
}

const image = (diskSize: number, diskFormat: DiskFormat, extra: { diskFormatOptions?: string; diskSectorSize?: number } = {}) => ({
  diskSize,
  diskFormat,
  ...extra,
});

/** Same table as upstream; secureboot variants are listed next to their plain twin. */
const SPECS: Record<string, BaseSpec> = {
  iso: { platform: 'metal', secureboot: false, kind: 'iso', outFormat: 'raw' },
  'secureboot-iso': { platform: 'metal', secureboot: true, kind: 'iso', outFormat: 'raw', isoOptions: true },
  metal: { platform: 'metal', secureboot: false, kind: 'image', outFormat: '.zst', image: image(MIN_RAW_DISK_SIZE, 'raw') },
  'metal-4k': { platform: 'metal', secureboot: false, kind: 'image', outFormat: '.zst', image: image(MIN_RAW_DISK_SIZE, 'raw', { diskSectorSize: 4096 }) },
  'metal-uki': { platform: 'metal', secureboot: false, kind: 'uki', outFormat: 'raw' },
  'secureboot-metal-uki': { platform: 'metal', secureboot: true, kind: 'uki', outFormat: 'raw' },
  'secureboot-metal': { platform: 'metal', secureboot: true, kind: 'image', outFormat: '.zst', image: image(MIN_RAW_DISK_SIZE, 'raw') },
  installer: { platform: 'metal', secureboot: false, kind: 'installer', outFormat: 'raw' },
  'secureboot-installer': { platform: 'metal', secureboot: true, kind: 'installer', outFormat: 'raw' },
  akamai: { platform: 'akamai', secureboot: false, kind: 'image', outFormat: '.gz', image: image(MIN_RAW_DISK_SIZE, 'raw') },
  alibabacloud: { platform: 'alibabacloud', secureboot: false, kind: 'image', outFormat: 'raw', image: image(MIN_RAW_DISK_SIZE, 'qcow2', { diskFormatOptions: 'cluster_size=8k' }) },
  aws: { platform: 'aws', secureboot: false, kind: 'image', outFormat: '.zst', image: image(DEFAULT_RAW_DISK_SIZE, 'raw') },
  azure: { platform: 'azure', secureboot: false, kind: 'image', outFormat: '.zst', image: image(DEFAULT_RAW_DISK_SIZE, 'vhd', { diskFormatOptions: 'subformat=fixed,force_size' }) },
  'secureboot-azure': { platform: 'azure', secureboot: true, kind: 'image', outFormat: '.zst', image: image(DEFAULT_RAW_DISK_SIZE, 'vhd', { diskFormatOptions: 'subformat=fixed,force_size' }) },
  cloudstack: { platform: 'cloudstack', secureboot: false, kind: 'image', outFormat: '.zst', image: image(DEFAULT_RAW_DISK_SIZE, 'raw') },
  'secureboot-cloudstack': { platform: 'cloudstack', secureboot: true, kind: 'image', outFormat: '.zst', image: image(DEFAULT_RAW_DISK_SIZE, 'raw') },
  'digital-ocean': { platform: 'digital-ocean', secureboot: false, kind: 'image', outFormat: '.gz', image: image(DEFAULT_RAW_DISK_SIZE, 'raw') },
  exoscale: { platform: 'exoscale', secureboot: false, kind: 'image', outFormat: '.zst', image: image(10 * 1024 * MiB, 'qcow2', { diskFormatOptions: 'cluster_size=8k' }) },
  gcp: { platform: 'gcp', secureboot: false, kind: 'image', outFormat: '.tar.gz', image: image(DEFAULT_RAW_DISK_SIZE, 'raw') },
  hcloud: { platform: 'hcloud', secureboot: false, kind: 'image', outFormat: '.zst', image: image(MIN_RAW_DISK_SIZE, 'raw') },
  nocloud: { platform: 'nocloud', secureboot: false, kind: 'image', outFormat: '.zst', image: image(MIN_RAW_DISK_SIZE, 'raw') },
  'secureboot-nocloud': { platform: 'nocloud', secureboot: true, kind: 'image', outFormat: '.zst', image: image(MIN_RAW_DISK_SIZE, 'raw') },
  opennebula: { platform: 'opennebula', secureboot: false, kind: 'image', outFormat: '.zst', image: image(MIN_RAW_DISK_SIZE, 'raw') },
  'secureboot-opennebula': { platform: 'opennebula', secureboot: true, kind: 'image', outFormat: '.zst', image: image(MIN_RAW_DISK_SIZE, 'raw') },
  openstack: { platform: 'openstack', secureboot: false, kind: 'image', outFormat: '.zst', image: image(MIN_RAW_DISK_SIZE, 'raw') },
  'secureboot-openstack': { platform: 'openstack', secureboot: true, kind: 'image', outFormat: '.zst', image: image(MIN_RAW_DISK_SIZE, 'raw') },
  oracle: { platform: 'oracle', secureboot: false, kind: 'image', outFormat: '.zst', image: image(DEFAULT_RAW_DISK_SIZE, 'qcow2', { diskFormatOptions: 'cluster_size=8k' }) },
  scaleway: { platform: 'scaleway', secureboot: false, kind: 'image', outFormat: '.zst', image: image(MIN_RAW_DISK_SIZE, 'raw') },
  upcloud: { platform: 'upcloud', secureboot: false, kind: 'image', outFormat: '.zst', image: image(DEFAULT_RAW_DISK_SIZE, 'raw') },
  vmware: { platform: 'vmware', secureboot: false, kind: 'image', outFormat: 'raw', image: image(DEFAULT_RAW_DISK_SIZE, 'ova') },
  'secureboot-vmware': { platform: 'vmware', secureboot: true, kind: 'image', outFormat: 'raw', image: image(DEFAULT_RAW_DISK_SIZE, 'ova') },
  vultr: { platform: 'vultr', secureboot: false, kind: 'image', outFormat: '.zst', image: image(DEFAULT_RAW_DISK_SIZE, 'raw') },
};

function build(spec: BaseSpec): Profile {
  return ProfileSchema.parse({
    platform: spec.platform,
    secureboot: spec.secureboot,
    output: {
      kind: spec.kind,
      outFormat: spec.outFormat,
      imageOptions: spec.image ?? null,
      isoOptions: spec.isoOptions ? { sdBootEnrollKeys: 'if-safe' } : null,
    },
  });
}

/** Names of the built-in base profiles, sorted. */
export const BASE_PROFILE_NAMES: readonly string[] = Object.keys(SPECS).sort();

/** A fresh copy of a built-in base profile, or null when there is none by that name. */
export function builtinBaseProfile(name: string): Profile | null {
  const spec = Object.hasOwn(SPECS, name) ? SPECS[name] : undefined;
  return spec ? build(spec) : null;
}
