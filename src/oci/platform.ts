/**
 * Platforms (OCI image index `platform`): `os/architecture[/variant]`. Selection follows
 * go-containerregistry's matcher as used by `crane.Pull` (talos-imager.md §2.2): os and architecture
 * must be equal, a requested variant must be equal, an unrequested variant matches anything.
 */
import { invalidInput } from '../core/errors.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
  features?: string[];
}

const archAliases: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm' };
const partRe = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Parse `linux/arm64`, `linux/arm/v7`, or just `arm64` (meaning linux). */
export function parsePlatform(text: string): Platform {
  const parts = text.trim().toLowerCase().split('/');
  if (parts.length === 1) parts.unshift('linux');
  if (parts.length > 3 || parts.some((p) => !partRe.test(p))) {
    throw invalidInput('E_PLATFORM_INVALID', `invalid platform ${JSON.stringify(text)}: expected os/architecture[/variant], e.g. linux/arm64`);
  }
  const p: Platform = { os: parts[0]!, architecture: archAliases[parts[1]!] ?? parts[1]! };
  if (parts[2]) p.variant = parts[2];
  return p;
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((x) => x).join('/');
}

/** Normalise the variant that is implied when absent (arm64 → v8), as containerd does. */
function normalVariant(p: Platform): string | undefined {
  if (p.architecture === 'arm64' && (p.variant === undefined || p.variant === '' || p.variant === 'v8')) return undefined;
  return p.variant || undefined;
}

/** Does an available platform satisfy the wanted one? */
export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!have) return false;
  if (want.os !== have.os) return false;
  if ((archAliases[want.architecture] ?? want.architecture) !== (archAliases[have.architecture] ?? have.architecture)) return false;
  const wv = normalVariant(want);
  if (wv !== undefined && wv !== normalVariant(have)) return false;
  if (want['os.version'] && want['os.version'] !== have['os.version']) return false;
  return true;
}

/** The platform of the machine the caller names: `linux/<arch>` (Talos arch names: amd64, arm64). */
export function linuxPlatform(arch: string): Platform {
  return parsePlatform(`linux/${arch}`);
}
