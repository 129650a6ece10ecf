/** Debian's systemd-boot-efi binaries (the package CI installs); null locally when absent. */
import { existsSync, readFileSync } from 'node:fs';

export const DEBIAN_STUB = '/usr/lib/systemd/boot/efi/linuxx64.efi.stub';
export const DEBIAN_SDBOOT = '/usr/lib/systemd/boot/efi/systemd-bootx64.efi';

function load(path: string): Uint8Array | null {
  if (existsSync(path)) return new Uint8Array(readFileSync(path));
  if (process.env.CI) throw new Error(`${path} missing under CI (.ci/run installs systemd-boot-efi)`);
  return null;
}

export const debianStub = () => load(DEBIAN_STUB);
export const debianSdBoot = () => load(DEBIAN_SDBOOT);
