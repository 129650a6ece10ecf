/**
 * Talos platforms as the imager knows them for the command line (talos-imager.md §5.2, upstream
 * `internal/app/machined/pkg/runtime/v1alpha1/platform/*`): the `talos.platform=` name and the
 * platform's own kernel arguments for an arch and target version.
 */
import { invalidInput } from '../../core/errors.js';
import type { Quirks } from '../../profile/quirks.js';

export interface PlatformArgs {
  /** The `talos.platform=` value. */
  readonly name: string;
  /** Kernel arguments, one `key=value` (or `key`) per entry, values of a key in order. */
  kernelArgs(arch: string, q: Quirks): string[];
}

const fixed = (name: string, args: string[]): PlatformArgs => ({ name, kernelArgs: () => [...args] });

const SERIAL_AND_TTY1 = ['console=tty1', 'console=ttyS0', 'net.ifnames=0'];
const ALL_CONSOLES = ['console=ttyS0', 'console=tty0', 'console=tty1', 'net.ifnames=0'];

const metal: PlatformArgs = {
  name: 'metal',
  kernelArgs: (arch, q) => {
    if (arch === 'amd64') return q.supportsMetalPlatformConsoleTTYS0 ? ['console=ttyS0', 'console=tty0'] : ['console=tty0'];
    if (arch === 'arm64') return ['console=ttyAMA0', 'console=tty0'];
    return [];
  },
};

const equinixMetal: PlatformArgs = {
  name: 'equinixMetal',
  kernelArgs: (arch) => (arch === 'amd64' ? ['console=ttyS1,115200n8'] : arch === 'arm64' ? ['console=ttyAMA0,115200'] : []),
};

const PLATFORMS: Record<string, PlatformArgs> = {
  akamai: fixed('akamai', ALL_CONSOLES),
  alibabacloud: fixed('alibabacloud', SERIAL_AND_TTY1),
  aws: {
    name: 'aws',
    kernelArgs: (_arch, q) => [...SERIAL_AND_TTY1, ...(q.nvmeCoreIoTimeoutAWSOnly ? ['nvme_core.io_timeout=4294967295'] : [])],
  },
  azure: fixed('azure', [
    'console=ttyS0,115200n8',
    'earlyprintk=ttyS0,115200',
    'rootdelay=300',
    'net.ifnames=0',
    'talos.dashboard.disabled=1',
    'sysctl.kernel.kexec_load_disabled=1',
  ]),
  cloudstack: fixed('cloudstack', SERIAL_AND_TTY1),
  container: fixed('container', []),
  'digital-ocean': fixed('digital-ocean', ALL_CONSOLES),
  gcp: fixed('gcp', ['console=ttyS0', 'net.ifnames=0', 'talos.dashboard.disabled=1', 'sysctl.kernel.kexec_load_disabled=1']),
  hcloud: fixed('hcloud', SERIAL_AND_TTY1),
  metal,
  opennebula: fixed('opennebula', SERIAL_AND_TTY1),
  openstack: fixed('openstack', SERIAL_AND_TTY1),
  oracle: fixed('oracle', [...SERIAL_AND_TTY1, 'talos.dashboard.disabled=1']),
  nocloud: fixed('nocloud', SERIAL_AND_TTY1),
  // "packet" is the old name, kept by upstream for compatibility.
  equinixMetal,
  packet: equinixMetal,
  exoscale: fixed('exoscale', SERIAL_AND_TTY1),
  scaleway: fixed('scaleway', [...SERIAL_AND_TTY1, 'talos.dashboard.disabled=1']),
  upcloud: fixed('upcloud', ['net.ifnames=0']),
  vmware: {
    name: 'vmware',
    kernelArgs: (arch) => {
      if (arch === 'amd64') return ['talos.config=guestinfo', 'console=tty0', 'console=ttyS0', 'earlyprintk=ttyS0,115200', 'net.ifnames=0'];
      if (arch === 'arm64') return ['talos.config=guestinfo', 'console=tty0', 'console=ttyAMA0', 'net.ifnames=0'];
      return [];
    },
  },
  vultr: fixed('vultr', ['net.ifnames=0']),
};

/** Platform names the imager accepts (input spellings, so both `equinixMetal` and `packet`). */
export const PLATFORM_NAMES: readonly string[] = Object.keys(PLATFORMS).sort();

/** The platform for a profile's `platform` value; throws E_CMDLINE_PLATFORM (exit 2) when unknown. */
export function lookupPlatform(name: string): PlatformArgs {
  const p = Object.hasOwn(PLATFORMS, name) ? PLATFORMS[name] : undefined;
  if (!p) throw invalidInput('E_CMDLINE_PLATFORM', `unknown platform: ${JSON.stringify(name)} (known: ${PLATFORM_NAMES.join(', ')})`);
  return p;
}
