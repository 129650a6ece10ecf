/**
 * The kernel command line of a build (talos-imager.md §5.2, upstream `Imager.buildCmdline`), in this
 * order:
 *  1. `talos.platform=<name>`;
 *  2. the platform's own arguments, each key set (replacing a key already there);
 *  3. `talos.halt_if_installed=1` for ISOs of targets ≥ 1.8;
 *  4. the overlay's arguments, each key set;
 *  5. the Talos defaults for the target version, appended (so the user can still override them);
 *  6. with SecureBoot, `lockdown=confidentiality` for targets < 1.14;
 *  7. META values as `talos.environment=INSTALLER_META_BASE64=…`, except for disk images (they go to
 *     the META partition there);
 *  8. the profile's `extraKernelArgs`: `console` and `talos.platform` replace in place, `-name` and
 *     `-name=value` delete, anything else is appended.
 */
import type { Profile } from '../../profile/schema.js';
import { quirksFor } from '../../profile/quirks.js';
import { Cmdline } from './cmdline.js';
import { defaultArgs, secureBootArgs } from './default-args.js';
import { encodeMetaValues } from './meta-env.js';
import { lookupPlatform } from './platforms.js';

export interface BuildCmdlineOptions {
  /**
   * Kernel arguments of the overlay (`kernelArgs` of the overlay installer's `get-options` answer).
   * The imager learns them by running the overlay's installer binary; the caller supplies them.
   */
  overlayKernelArgs?: readonly string[];
}

export function buildCmdline(p: Profile, opts: BuildCmdlineOptions = {}): string {
  const platform = lookupPlatform(p.platform);
  const q = quirksFor(p.version);
  const c = new Cmdline();
  c.append('talos.platform', platform.name);
  c.setAll(platform.kernelArgs(p.arch, q));
  if (q.supportsHaltIfInstalled && p.output.kind === 'iso') c.append('talos.halt_if_installed', '1');
  if (opts.overlayKernelArgs) c.setAll(opts.overlayKernelArgs);
  c.appendAll(defaultArgs(q));
  if (p.secureboot === true) c.appendAll(secureBootArgs(q));
  const meta = p.customization.metaContents;
  if (meta.length > 0 && p.output.kind !== 'image') {
    c.append('talos.environment', 'INSTALLER_META_BASE64=' + encodeMetaValues(meta, q.supportsCompressedEncodedMETA));
  }
  c.appendAll(p.customization.extraKernelArgs, { overwrite: ['console', 'talos.platform'], deleteNegated: true });
  return c.toString();
}
