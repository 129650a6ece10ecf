/**
 * `imagekit serve`: run a local Image-Factory-compatible service (image-factory.md §2–§8) in front
 * of one registry (ghcr.io, or a local/air-gapped mirror holding `siderolabs/*`), so scripts written
 * against factory.talos.dev only change their base URL. Configuration: a YAML/JSON file using the
 * Image Factory's key names (`--config`), then flags. SIGINT/SIGTERM stop it gracefully.
 */
import type { Command } from 'commander';
import { invalidInput } from '../../core/errors.js';
import {
  defaultFactoryConfig,
  loadConfigFile,
  parseGoDuration,
  parseListenAddr,
  startFactoryServer,
  validateFactoryConfig,
  type FactoryConfig,
  type FactoryLogger,
} from '../../factory/index.js';
import { checkRegistryHost, normaliseBaseUrl } from '../../factory/config.js';

interface ServeFlags {
  config?: string;
  listen?: string;
  externalUrl?: string;
  externalPxeUrl?: string;
  registry?: string;
  registryNamespace?: string;
  insecureRegistry?: boolean;
  cacheDir?: string;
  maxConcurrency?: string;
  queueLimit?: string;
  buildTimeout?: string;
  minTalosVersion?: string;
  logFormat: string;
}

function positiveInt(text: string, flag: string, min: number): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < min) throw invalidInput('E_CLI_SERVE', `invalid ${flag} ${JSON.stringify(text)}: expected an integer ≥ ${min}`);
  return Number(text);
}

/** Flags over the config file. */
export function applyServeFlags(cfg: FactoryConfig, f: ServeFlags): FactoryConfig {
  const c = structuredClone(cfg);
  if (f.listen !== undefined) {
    parseListenAddr(f.listen, '--listen');
    c.http.listenAddr = f.listen;
  }
  if (f.externalUrl !== undefined) c.http.externalURL = normaliseBaseUrl(f.externalUrl, '--external-url');
  if (f.externalPxeUrl !== undefined) c.http.externalPXEURL = normaliseBaseUrl(f.externalPxeUrl, '--external-pxe-url');
  if (f.registry !== undefined) c.artifacts.registry = checkRegistryHost(f.registry, '--registry');
  if (f.registryNamespace !== undefined) c.artifacts.namespace = f.registryNamespace.replace(/^\/+|\/+$/g, '');
  if (f.insecureRegistry) c.artifacts.insecure = true;
  if (f.cacheDir !== undefined) c.cache.dir = f.cacheDir;
  if (f.maxConcurrency !== undefined) c.build.maxConcurrency = positiveInt(f.maxConcurrency, '--max-concurrency', 1);
  if (f.queueLimit !== undefined) c.build.queueLimit = positiveInt(f.queueLimit, '--queue-limit', 0);
  if (f.buildTimeout !== undefined) c.build.timeoutMs = parseGoDuration(f.buildTimeout, '--build-timeout');
  if (f.minTalosVersion !== undefined) c.build.minTalosVersion = f.minTalosVersion.replace(/^v/, '');
  return validateFactoryConfig(c);
}

function stderrLogger(format: string): FactoryLogger {
  return (level, message, fields) => {
    if (format === 'json') {
      process.stderr.write(JSON.stringify({ level, msg: message, ...fields }) + '\n');
      return;
    }
    const extra = fields ? Object.entries(fields).map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('') : '';
    process.stderr.write(`imagekit serve: ${level === 'info' ? '' : `${level}: `}${message}${extra}\n`);
  };
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('run a local Image-Factory-compatible service (POST /schematics, /image/…, /pxe/…, /versions, …) in front of one registry')
    .option('--config <file>', 'configuration file (YAML or JSON) with Image Factory keys: http.httpListenAddr, http.externalURL, artifacts.core.registry, build.maxConcurrency, cache.dir, …')
    .option('--listen <addr>', 'listen address host:port (:8080 = every interface, port 0 = any free port; default 127.0.0.1:8080)')
    .option('--external-url <url>', 'public base URL used in links, PXE scripts and the schematic extension (default: the listen address)')
    .option('--external-pxe-url <url>', 'base URL of asset links in PXE scripts (default: --external-url)')
    .option('--registry <host[:port]>', 'the one registry holding siderolabs/imager, extensions, overlays, installer-base and extension images (default ghcr.io); nothing else is ever contacted')
    .option('--registry-namespace <path>', 'repository prefix on that registry (e.g. a pull-through cache project)')
    .option('--insecure-registry', 'plain HTTP to the registry (loopback registries always are)')
    .option('--cache-dir <dir>', 'built assets, pulled images and schematics (default $XDG_CACHE_HOME/imagekit/serve)')
    .option('--max-concurrency <n>', 'builds running at once (default 2)')
    .option('--queue-limit <n>', 'builds waiting beyond which requests get 503 (default 64)')
    .option('--build-timeout <duration>', 'cancel a build running longer (Go duration, default 20m)')
    .option('--min-talos-version <version>', 'lowest Talos version listed (default 1.2.0)')
    .option('--log-format <format>', 'text or json lines on stderr', 'text')
    .addHelpText(
      'after',
      [
        '',
        'Routes: POST /schematics, GET /schematics/:id, GET|HEAD /image/:id/:version/:asset (+ .sha256/.sha512),',
        'GET /pxe/:id/:version/:platform-arch, GET /versions, GET /version/:v/extensions/official,',
        'GET /version/:v/overlays/official, /healthz, /readyz. Built today: cmdline, kernel, initramfs, UKI,',
        'raw disk images (.raw, .raw.xz, .raw.gz, .raw.zst, .raw.tar.gz; sd-boot) and installer tarballs;',
        'ISO, qcow2/vhd/ova, overlays, SecureBoot and the /v2 registry front answer with errors.',
        '',
        'Example (air-gapped, a local registry holding siderolabs/*):',
        '  imagekit serve --registry 127.0.0.1:5000 --listen :8080 --external-url http://factory.lan:8080/',
      ].join('\n'),
    )
    .action(async (flags: ServeFlags) => {
      if (flags.logFormat !== 'text' && flags.logFormat !== 'json') throw invalidInput('E_CLI_SERVE', `invalid --log-format ${JSON.stringify(flags.logFormat)}: expected text or json`);
      const log = stderrLogger(flags.logFormat);
      let cfg = defaultFactoryConfig();
      if (flags.config) {
        const loaded = await loadConfigFile(flags.config, cfg);
        cfg = loaded.config;
        if (loaded.ignored.length > 0) log('warn', 'configuration keys ignored (features imagekit serve does not have)', { keys: loaded.ignored });
      }
      cfg = applyServeFlags(cfg, flags);
      const server = await startFactoryServer({ config: cfg, log });
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log('info', 'shutting down', { signal });
          process.off('SIGINT', onInt);
          process.off('SIGTERM', onTerm);
          server.close().then(resolve, resolve);
        };
        const onInt = () => stop('SIGINT');
        const onTerm = () => stop('SIGTERM');
        process.on('SIGINT', onInt);
        process.on('SIGTERM', onTerm);
      });
    });
}
