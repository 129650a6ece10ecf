/**
 * Image Factory asset path → imager profile (image-factory.md §2.6; upstream
 * `internal/profile/profile.go` `ParseFromPath`). Patterns are tried in upstream's order; the first
 * that matches decides the output kind, and everything else is a disk image named
 * `<platform>-<arch>[-secureboot].<disk>[<compression>]`.
 */
import { builtinBaseProfile } from '../profile/base-profiles.js';
import { emptyImageOptions, emptyProfile, type DiskFormat, type OutFormat, type Profile } from '../profile/schema.js';
import { schematicInvalid } from './errors.js';

/** Upstream `profile.DefaultRAWDiskSize` (8 GiB): a disk image's size unless its platform says otherwise. */
const DEFAULT_RAW_DISK_SIZE = 8192 * 1024 * 1024;

function invalidPath(message: string): Error {
  return schematicInvalid(message, 'E_ASSET_PATH');
}

/** Go `%q` of a path (paths are URL path segments; JSON quoting is the same for printable text). */
const q = (s: string) => JSON.stringify(s);

/** `<arch>`: amd64 or arm64, plus the iPXE names `x86_64` and `i386` for amd64. */
function parseArch(s: string, p: Profile): void {
  if (s === 'amd64' || s === 'arm64') p.arch = s;
  else if (s === 'x86_64' || s === 'i386') p.arch = 'amd64';
  else throw invalidPath(`invalid architecture: ${q(s)}`);
}

/** `<platform>-<arch>[-secureboot]`; the platform has no dash except `digital-ocean`. */
function parsePlatformArch(s: string, p: Profile): void {
  let rest = s;
  if (rest.endsWith('-secureboot')) {
    rest = rest.slice(0, -'-secureboot'.length);
    p.secureboot = true;
  }
  const dash = rest.indexOf('-');
  if (dash < 0) throw invalidPath(`invalid platform-arch: ${q(rest)}`);
  let platform = rest.slice(0, dash);
  let arch = rest.slice(dash + 1);
  if (platform === 'digital' && arch.startsWith('ocean-')) {
    platform = 'digital-ocean';
    arch = arch.slice('ocean-'.length);
  }
  p.platform = platform;
  parseArch(arch, p);
}

const COMPRESSIONS: [string, OutFormat][] = [
  ['.tar.gz', '.tar.gz'],
  ['.gz', '.gz'],
  ['.xz', '.xz'],
  ['.zst', '.zst'],
];
const DISK_FORMATS: [string, DiskFormat][] = [
  ['.raw', 'raw'],
  ['.qcow2', 'qcow2'],
  ['.vhd', 'vhd'],
  ['.ova', 'ova'],
];

/**
 * The imager profile an asset path asks for, before the schematic is applied: output kind and
 * format, platform, arch, SecureBoot, and for disk images the disk format and the platform's disk
 * size / format options. Throws `E_ASSET_PATH` (invalid input) with upstream's message.
 */
export function parseAssetPath(path: string): Profile {
  const p = emptyProfile();
  const out = p.output;

  if (path.startsWith('kernel-')) {
    out.kind = 'kernel';
    out.outFormat = 'raw';
    p.platform = 'metal';
    parseArch(path.slice('kernel-'.length), p);
    return p;
  }
  if (path.startsWith('cmdline-')) {
    out.kind = 'cmdline';
    out.outFormat = 'raw';
    parsePlatformArch(path.slice('cmdline-'.length), p);
    return p;
  }
  if (path.startsWith('initramfs-') && path.slice('initramfs-'.length).endsWith('.xz')) {
    out.kind = 'initramfs';
    out.outFormat = 'raw';
    p.platform = 'metal';
    parseArch(path.slice('initramfs-'.length, -'.xz'.length), p);
    return p;
  }
  if (path.endsWith('.iso')) {
    out.kind = 'iso';
    out.outFormat = 'raw';
    parsePlatformArch(path.slice(0, -'.iso'.length), p);
    return p;
  }
  if (path.endsWith('-uki.efi')) {
    out.kind = 'uki';
    out.outFormat = 'raw';
    parsePlatformArch(path.slice(0, -'-uki.efi'.length), p);
    return p;
  }
  if (path.startsWith('installer-') && path.slice('installer-'.length).endsWith('.tar')) {
    out.kind = 'installer';
    out.outFormat = 'raw';
    p.platform = 'metal';
    let rest = path.slice('installer-'.length, -'.tar'.length);
    if (rest.endsWith('-secureboot')) {
      rest = rest.slice(0, -'-secureboot'.length);
      p.secureboot = true;
    }
    parseArch(rest, p);
    return p;
  }
  const installerAt = path.indexOf('-installer-');
  if (installerAt >= 0) {
    const rest = path.slice(installerAt + '-installer-'.length);
    if (rest.endsWith('.tar')) {
      out.kind = 'installer';
      out.outFormat = 'raw';
      parsePlatformArch(`${path.slice(0, installerAt)}-${rest.slice(0, -'.tar'.length)}`, p);
      return p;
    }
  }

  // A disk image: cut the compression suffix, then the disk format, then <platform>-<arch>.
  out.kind = 'image';
  const io = emptyImageOptions();
  io.diskSize = DEFAULT_RAW_DISK_SIZE;
  out.imageOptions = io;
  out.outFormat = 'raw';
  let rest = path;
  for (const [suffix, format] of COMPRESSIONS) {
    if (rest.endsWith(suffix)) {
      rest = rest.slice(0, -suffix.length);
      out.outFormat = format;
      break;
    }
  }
  for (const [suffix, format] of DISK_FORMATS) {
    if (rest.endsWith(suffix)) {
      rest = rest.slice(0, -suffix.length);
      io.diskFormat = format;
      if (format === 'qcow2') io.diskFormatOptions = 'cluster_size=8k';
      break;
    }
  }
  if (io.diskFormat === 'unknown') throw invalidPath(`invalid profile path: ${q(rest)}`);
  parsePlatformArch(rest, p);

  // The platform's built-in profile (if any) supplies the disk size and format options.
  const platformDefault = builtinBaseProfile(p.platform);
  if (platformDefault) {
    const d = platformDefault.output.imageOptions;
    // Upstream dereferences a nil pointer here (HTTP 500) for `iso`/`installer`: say what is wrong.
    if (d === null) throw invalidPath(`invalid profile path: ${q(path)}: ${q(p.platform)} is not a disk image platform`);
    if (d.diskSize !== 0) io.diskSize = d.diskSize;
    if (d.diskFormatOptions !== '') io.diskFormatOptions = d.diskFormatOptions;
  }
  return p;
}
