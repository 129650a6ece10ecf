/**
 * `imagekit profile show <base> --arch A --version V`: a built-in base profile with the defaults for
 * that target filled in and validated, printed as the imager dumps profiles (talos-imager.md §1.4–§1.7).
 * `imagekit profile list`: the base profile names.
 */
import type { Command } from 'commander';
import { BASE_PROFILE_NAMES, baseProfileForTarget, dumpProfile } from '../../profile/index.js';
import { DEFAULT_TALOS_VERSION } from '../../profile/version.js';
import { checkArch, checkVersion, hostArch } from '../options.js';

export function register(program: Command): void {
  const profile = program
    .command('profile')
    .description('inspect the built-in base profiles')
    .addHelpText('after', `\nBase profiles: ${BASE_PROFILE_NAMES.join(', ')}`);

  profile
    .command('show')
    .description('print a base profile after defaults are filled in for one arch and Talos version (the imager\'s YAML dump)')
    .argument('<base>', 'built-in base profile name (see `imagekit profile list`)')
    .option('--arch <arch>', 'target architecture: amd64 or arm64', hostArch())
    .option('--version <version>', 'target Talos version, e.g. v1.11.0; it selects the version quirks', DEFAULT_TALOS_VERSION)
    .addHelpText('after', '\nSecureBoot bases (secureboot-*) print their signer paths; /secureboot/{PK,KEK,db}.auth appear only if those files exist.')
    .action((base: string, opts: { arch: string; version: string }) => {
      const p = baseProfileForTarget(base, { arch: checkArch(opts.arch), version: checkVersion(opts.version) });
      process.stdout.write(dumpProfile(p));
    });

  profile
    .command('list')
    .description('list the built-in base profile names, one per line')
    .action(() => {
      process.stdout.write(BASE_PROFILE_NAMES.map((n) => n + '\n').join(''));
    });
}
