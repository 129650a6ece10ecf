/**
 * `imagekit pull REF`: prefetch an image into the cache (talos-imager.md §2.2) for one or more
 * platforms, optionally also writing it to an OCI layout directory. The registry flags defined
 * here (`--registry-mirror`, `--insecure-registry`, `--registry-config`, `--cache-dir`, `--offline`)
 * are exported for other commands that pull.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { ProgressSink } from '../../core/progress.js';
import { BlobCache, defaultCacheDir } from '../../oci/blob-cache.js';
import { defaultKeychain } from '../../oci/credentials.js';
import { writeImageToLayout } from '../../oci/layout.js';
import { formatPlatform, parsePlatform, type Platform } from '../../oci/platform.js';
import { formatReference, parseReference } from '../../oci/reference.js';
import { pullImage } from '../../oci/remote.js';
import { RegistryClient } from '../../oci/registry-client.js';
import { emptyRegistryConfig, loadRegistryConfig, registryConfigFromFlags, type RegistryConfig } from '../../oci/registry-config.js';
import { collect, hostArch } from '../options.js';

export interface RegistryFlags {
  cacheDir?: string;
  offline?: boolean;
  registryMirror?: string[];
  insecureRegistry?: string[];
  registryConfig?: string;
}

/** Add the registry/cache flags to a command. */
export function addRegistryOptions(cmd: Command): Command {
  return cmd
    .option('--cache-dir <dir>', 'content-addressed image cache (default $XDG_CACHE_HOME/imagekit)')
    .option('--offline', 'use only the cache; fail naming anything missing')
    .option('--registry-mirror <registry=mirror>', 'serve a registry from a mirror, e.g. ghcr.io=127.0.0.1:5000 (repeatable)', collect)
    .option('--insecure-registry <host>', 'use plain HTTP for this registry (repeatable; loopback always is)', collect)
    .option('--registry-config <file>', 'registries.yaml with mirrors/insecure (default $IMAGEKIT_REGISTRY_CONFIG or ~/.config/imagekit/registries.yaml)');
}

async function registryConfigFor(flags: RegistryFlags, env: NodeJS.ProcessEnv): Promise<RegistryConfig> {
  let file = flags.registryConfig ?? env.IMAGEKIT_REGISTRY_CONFIG;
  if (!file) {
    const candidate = join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'imagekit', 'registries.yaml');
    if (existsSync(candidate)) file = candidate;
  }
  const base = file ? await loadRegistryConfig(file) : emptyRegistryConfig();
  return registryConfigFromFlags(flags.registryMirror ?? [], flags.insecureRegistry ?? [], base);
}

/** The cache and client the flags describe (keychain from the environment). */
export async function registryFromFlags(flags: RegistryFlags, progress: ProgressSink, env: NodeJS.ProcessEnv = process.env): Promise<{ cache: BlobCache; client: RegistryClient }> {
  const cache = new BlobCache(flags.cacheDir ?? defaultCacheDir(env));
  const client = new RegistryClient({ keychain: defaultKeychain({ env }), registryConfig: await registryConfigFor(flags, env), progress });
  return { cache, client };
}

/** Warnings to stderr; byte counts stay quiet (a TTY renderer can come later). */
export const stderrProgress: ProgressSink = (e) => {
  if (e.type === 'warning') process.stderr.write(`imagekit: warning: ${e.message}\n`);
};

interface PullFlags extends RegistryFlags {
  platform?: string[];
  ociLayout?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('pull')
    .description('prefetch an image into the cache (and optionally an OCI layout directory)')
    .argument('<ref>', 'image reference, e.g. ghcr.io/siderolabs/imager:v1.11.0')
    .option('--platform <os/arch[/variant]>', `platform to pull (repeatable; default linux/${hostArch()})`, collect)
    .option('--oci-layout <dir>', 'also write the image into this OCI layout directory')
    .option('--json', 'print the result as JSON');
  addRegistryOptions(cmd).action(async (refText: string, flags: PullFlags) => {
    const ref = parseReference(refText);
    const platforms: Platform[] = (flags.platform?.length ? flags.platform : [`linux/${hostArch()}`]).map(parsePlatform);
    const { cache, client } = await registryFromFlags(flags, stderrProgress);
    const results = [];
    for (const platform of platforms) {
      const image = await pullImage(ref, { platform, cache, client, offline: Boolean(flags.offline), progress: stderrProgress });
      if (flags.ociLayout) await writeImageToLayout(flags.ociLayout, image, ref.tag ? { refName: ref.tag } : {});
      const size = image.manifest.layers.reduce((s, l) => s + l.size, image.manifest.config.size);
      results.push({ reference: formatReference(ref), platform: formatPlatform(image.platform ?? platform), digest: image.digest, ...(image.indexDigest ? { index: image.indexDigest } : {}), layers: image.layers.length, size });
    }
    if (flags.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    else for (const r of results) process.stdout.write(`${r.reference} ${r.platform} ${r.digest} (${r.layers} layers, ${r.size} bytes)\n`);
  });
}
