/**
 * Profile validation (talos-imager.md §1.6, upstream `Profile.Validate`). The imager wraps every
 * failure as "profile is invalid: …" with the invalid-input tag, so all of them exit with code 2.
 */
import { invalidInput } from '../core/errors.js';
import { quirksFor } from './quirks.js';
import type { Profile } from './schema.js';

function invalid(code: string, message: string): never {
  throw invalidInput(code, `profile is invalid: ${message}`);
}

/** Throws an `E_PROFILE_*` invalid-input error when the profile cannot be built. */
export function validateProfile(p: Profile): void {
  if (p.arch !== 'amd64' && p.arch !== 'arm64') invalid('E_PROFILE_ARCH', `invalid arch ${JSON.stringify(p.arch)}`);
  if (p.platform === '') invalid('E_PROFILE_PLATFORM', 'platform is required');
  const q = quirksFor(p.version);
  const secureboot = p.secureboot === true;
  if (secureboot && !q.supportsUKI) {
    invalid('E_PROFILE_SECUREBOOT_VERSION', `secureboot is not supported for Talos version ${JSON.stringify(p.version)}`);
  }
  const kind = p.output.kind;
  const { extraKernelArgs, metaContents } = p.customization;
  switch (kind) {
    case 'unknown':
      return invalid('E_PROFILE_OUTPUT_KIND', 'unknown output kind');
    case 'iso':
      if (q.isoSupportsSettingBootloader && p.output.isoOptions !== null && p.output.isoOptions.bootloader === 'none') {
        invalid('E_PROFILE_BOOTLOADER', "bootloader cannot be 'none' for ISO output");
      }
      return;
    case 'image': {
      const io = p.output.imageOptions;
      if (io === null) return invalid('E_PROFILE_IMAGE_OPTIONS', 'image options are required for image output');
      if (io.diskSize === 0) invalid('E_PROFILE_DISK_SIZE', 'disk size is required for image output');
      if (io.bootloader === 'none') invalid('E_PROFILE_BOOTLOADER', "bootloader cannot be 'none' for disk image output");
      return;
    }
    case 'installer':
      if (metaContents.length > 0) invalid('E_PROFILE_META', `customization of meta partition is not supported for ${kind} output`);
      return;
    case 'kernel':
    case 'initramfs':
      if (secureboot) invalid('E_PROFILE_SECUREBOOT', `secureboot is not supported for ${kind} output`);
      if (extraKernelArgs.length > 0) invalid('E_PROFILE_KERNEL_ARGS', `customization of kernel args is not supported for ${kind} output`);
      if (metaContents.length > 0) invalid('E_PROFILE_META', `customization of meta partition is not supported for ${kind} output`);
      return;
    case 'uki':
    case 'cmdline':
      return;
  }
}
