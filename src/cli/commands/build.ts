/**
 * `imagekit build <base-profile | profile.yaml | ->`: the Talos imager's command line
 * (talos-imager.md §1.2, upstream `cmd/installer/cmd/imager/root.go`) plus `--version`,
 * `--out-format` and `--bootloader`, which the imager only takes from a profile.
 *
 * With a base profile name the flags build a user profile that is merged onto the base (§1.3); a
 * profile read from a file or stdin is used as it is (unknown keys ignored) and profile flags are
 * refused with it. The resolved profile is printed to stderr as the imager does (§0 step 5), then
 * the output is built by `pipeline/build.ts`.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ImagekitError, invalidInput, ioError } from '../../core/errors.js';
import type { ProgressEvent, ProgressSink } from '../../core/progress.js';
import { parseReference } from '../../oci/reference.js';
import { buildOutput, checkBuildable, SUPPORTED_OUTPUT_KINDS, type BuildOptions } from '../../pipeline/build.js';
import { containerAssetFor, parseInputSource } from '../../pipeline/sources.js';
import { writeDirectoryTarGz } from '../../pipeline/output-archive.js';
import { reproFromEnv } from '../../core/repro.js';
import { GoMap, goValueFromYaml } from '../../profile/go-value.js';
import { decodeProfile, MAX_PROFILE_BYTES } from '../../profile/decode.js';
import { dumpProfile } from '../../profile/dump.js';
import { BASE_PROFILE_NAMES } from '../../profile/base-profiles.js';
import { resolveProfile } from '../../profile/resolve.js';
import {
  BOOTLOADER_KINDS,
  emptyImageOptions,
  emptyISOOptions,
  emptyProfile,
  emptySecureBootAssets,
  OUT_FORMATS,
  OUTPUT_KINDS,
  parseEnum,
  SDBOOT_ENROLL_KEYS,
  type Profile,
} from '../../profile/schema.js';
import { lookupBaseProfile } from '../../profile/resolve.js';
import { readYaml } from '../../profile/yaml/read.js';
import { DEFAULT_TALOS_VERSION } from '../../profile/version.js';
import { checkArch, checkVersion, collect, hostArch, parseMetaOption } from '../options.js';
import { addRegistryOptions, registryFromFlags, type RegistryFlags } from './pull.js';

interface BuildFlags extends RegistryFlags {
  arch: string;
  platform?: string;
  version?: string;
  output: string;
  outputKind?: string;
  outFormat?: string;
  bootloader?: string;
  extraKernelArg?: string[];
  meta?: string[];
  systemExtensionImage?: string[];
  baseInstallerImage?: string;
  imageCache?: string;
  insecure?: boolean;
  overlayName?: string;
  overlayImage?: string;
  overlayOption?: string[];
  embeddedConfigPath?: string;
  securebootIncludeWellKnownCerts?: boolean;
  securebootSignerAddress?: string;
  pcrSignerAddress?: string;
  securebootEnrollKeys?: string;
  tarToStdout?: boolean;
  imagerImage?: string;
  progress?: string;
  quiet?: boolean;
}

/** Flags that shape the profile (refused when the profile comes from a file or stdin). */
const PROFILE_FLAGS: Array<keyof BuildFlags> = [
  'arch', 'platform', 'version', 'outputKind', 'outFormat', 'bootloader', 'extraKernelArg', 'meta', 'systemExtensionImage',
  'baseInstallerImage', 'imageCache', 'insecure', 'overlayName', 'overlayImage', 'overlayOption', 'embeddedConfigPath',
  'securebootIncludeWellKnownCerts', 'securebootSignerAddress', 'pcrSignerAddress', 'securebootEnrollKeys',
];

const flagName = (key: string) => '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

function enumFlag<T extends readonly string[]>(flag: string, values: T, raw: string): T[number] {
  const v = parseEnum(values, raw);
  if (v === null) throw invalidInput('E_CLI_ENUM', `invalid ${flag} ${JSON.stringify(raw)}: expected one of ${values.filter((x) => x !== 'unknown' && x !== 'none').join(', ')}`);
  return v;
}

async function readInputFile(path: string, what: string): Promise<string> {
  try {
    const data = await readFile(path);
    if (data.length > MAX_PROFILE_BYTES) throw invalidInput('E_CLI_FILE_TOO_LARGE', `${what} ${path} is larger than ${MAX_PROFILE_BYTES} bytes`);
    return data.toString('utf8');
  } catch (err) {
    if ((err as { exitCode?: number }).exitCode !== undefined) throw err;
    throw ioError('E_CLI_READ', `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_PROFILE_BYTES) throw invalidInput('E_PROFILE_TOO_LARGE', `stdin: profile larger than ${MAX_PROFILE_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** go-containerregistry `ParseReference(s, StrictValidation)`: registry and tag or digest spelled out. */
function isStrictReference(s: string): boolean {
  try {
    const ref = parseReference(s, { defaultTag: null });
    if (ref.tag === undefined && ref.digest === undefined) return false;
    const first = s.split('/')[0]!;
    return s.includes('/') && (/[.:]/.test(first) || first === 'localhost');
  } catch {
    return false;
  }
}

/** `--overlay-option k=v`, `k=@file` (the file's text) or `@file.yaml` (a YAML map merged in). */
async function overlayOptions(raw: readonly string[]): Promise<GoMap> {
  const options = new GoMap();
  for (const option of raw) {
    if (option.startsWith('@')) {
      const path = option.slice(1);
      const tree = readYaml(await readInputFile(path, 'overlay options file'), { source: path });
      if (tree === null) continue;
      const m = goValueFromYaml(tree, true);
      if (!(m instanceof GoMap)) throw invalidInput('E_CLI_OVERLAY_OPTION', `${path}: overlay options must be a YAML mapping`);
      for (const [k, v] of m.entries) options.set(k, v);
      continue;
    }
    const eq = option.indexOf('=');
    const key = eq < 0 ? option : option.slice(0, eq);
    let value = eq < 0 ? '' : option.slice(eq + 1);
    if (value.startsWith('@')) value = await readInputFile(value.slice(1), 'overlay option file');
    options.set(key, value);
  }
  return options;
}

/** The user profile the imager builds from its flags (root.go), plus imagekit's extra flags. */
async function profileFromFlags(base: string, f: BuildFlags): Promise<Profile> {
  const p = emptyProfile();
  p.baseProfileName = base;
  p.arch = checkArch(f.arch);
  p.platform = f.platform ?? '';
  if (f.version !== undefined) p.version = checkVersion(f.version);
  p.customization.extraKernelArgs = [...(f.extraKernelArg ?? [])];
  p.customization.metaContents = (f.meta ?? []).map(parseMetaOption);
  const insecure = f.insecure === true;

  if (f.overlayName || f.overlayImage) {
    p.overlay = {
      name: f.overlayName ?? '',
      image: { imageRef: f.overlayImage ?? '', forceInsecure: false, tarballPath: '', ociPath: '' },
      options: await overlayOptions(f.overlayOption ?? []),
    };
    p.input.overlayInstaller.imageRef = f.overlayImage ?? '';
  } else if (f.overlayOption?.length) {
    throw invalidInput('E_CLI_OVERLAY_OPTION', '--overlay-option needs --overlay-image or --overlay-name');
  }

  // A reference, or (imagekit addition) a local OCI layout, archive or unpacked extension directory.
  p.input.systemExtensions = (f.systemExtensionImage ?? []).map((ref) => containerAssetFor(ref, insecure));
  if (f.outputKind !== undefined) p.output.kind = enumFlag('--output-kind', OUTPUT_KINDS, f.outputKind);
  if (f.outFormat !== undefined) p.output.outFormat = enumFlag('--out-format', OUT_FORMATS, f.outFormat);
  if (f.baseInstallerImage) p.input.baseInstaller = containerAssetFor(f.baseInstallerImage, insecure);
  if (f.imageCache) {
    p.input.imageCache = isStrictReference(f.imageCache)
      ? { imageRef: f.imageCache, forceInsecure: insecure, tarballPath: '', ociPath: '' }
      : { imageRef: '', forceInsecure: false, tarballPath: '', ociPath: f.imageCache };
  }
  if (f.securebootIncludeWellKnownCerts) (p.input.secureboot ??= emptySecureBootAssets()).includeWellKnownCerts = true;
  if (f.securebootSignerAddress) (p.input.secureboot ??= emptySecureBootAssets()).secureBootSigner.signerAddress = f.securebootSignerAddress;
  if (f.pcrSignerAddress) (p.input.secureboot ??= emptySecureBootAssets()).pcrSigner.signerAddress = f.pcrSignerAddress;
  if (f.securebootEnrollKeys) {
    const mode = enumFlag('--secureboot-enroll-keys', SDBOOT_ENROLL_KEYS, f.securebootEnrollKeys);
    (p.output.imageOptions ??= emptyImageOptions()).sdBootEnrollKeys = mode;
    (p.output.isoOptions ??= emptyISOOptions()).sdBootEnrollKeys = mode;
  }
  if (f.bootloader !== undefined) {
    const bootloader = enumFlag('--bootloader', BOOTLOADER_KINDS, f.bootloader);
    const kind = p.output.kind !== 'unknown' ? p.output.kind : lookupBaseProfile(base).output.kind;
    if (kind === 'image') (p.output.imageOptions ??= emptyImageOptions()).bootloader = bootloader;
    else if (kind === 'iso') (p.output.isoOptions ??= emptyISOOptions()).bootloader = bootloader;
    else throw invalidInput('E_CLI_BOOTLOADER', `--bootloader applies to image and iso outputs, not ${kind}`);
  }
  if (f.embeddedConfigPath) p.customization.embeddedMachineConfiguration = await readInputFile(f.embeddedConfigPath, 'embedded config');
  return p;
}

const PROGRESS_MODES = ['auto', 'tty', 'plain', 'json', 'none'] as const;
type ProgressMode = (typeof PROGRESS_MODES)[number];

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
function human(n: number): string {
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${u === 0 ? n : n.toFixed(1)} ${units[u]}`;
}

/**
 * How progress is shown on stderr: `tty` a status line rewritten in place (step, bytes, rate) plus
 * one line per finished step; `plain` one line per finished step; `json` one JSON object per line
 * (`{"t":seconds,"type":…}`) for CI; `none` only warnings. Rendering reads the clock; builds never do.
 */
class ProgressRenderer {
  private readonly started = performance.now();
  private stepStart = new Map<string, number>();
  private lastLine = 0;
  private statusShown = false;
  private rate = { at: 0, done: 0, bps: 0 };
  constructor(readonly mode: Exclude<ProgressMode, 'auto'>, private readonly out: NodeJS.WriteStream = process.stderr) {}

  private elapsed(since = this.started): string {
    return `${((performance.now() - since) / 1000).toFixed(1)}s`;
  }

  private clearStatus(): void {
    if (this.statusShown) this.out.write('\r\x1b[K');
    this.statusShown = false;
  }

  line(text: string): void {
    this.clearStatus();
    this.out.write(text + '\n');
  }

  json(value: Record<string, unknown>): void {
    this.out.write(JSON.stringify({ t: Number(((performance.now() - this.started) / 1000).toFixed(3)), ...value }) + '\n');
  }

  readonly sink: ProgressSink = (e: ProgressEvent) => {
    if (this.mode === 'json') return this.json(e as unknown as Record<string, unknown>);
    if (e.type === 'warning') return this.line(`imagekit: warning: ${e.message}`);
    if (this.mode === 'none') return;
    switch (e.type) {
      case 'info':
        return this.line(e.message);
      case 'step-start':
        this.stepStart.set(e.step, performance.now());
        this.rate = { at: performance.now(), done: 0, bps: 0 };
        if (this.mode === 'tty') this.status(`${e.step}${e.detail ? ` ${e.detail}` : ''} …`);
        return;
      case 'step-done': {
        const t0 = this.stepStart.get(e.step);
        return this.line(`✓ ${e.step}${e.detail ? `: ${e.detail}` : ''}${t0 !== undefined ? ` (${this.elapsed(t0)})` : ''}`);
      }
      case 'bytes': {
        if (this.mode !== 'tty') return;
        const now = performance.now();
        if (now - this.lastLine < 100 && e.done !== e.total) return;
        this.lastLine = now;
        const dt = (now - this.rate.at) / 1000;
        if (dt >= 0.5) {
          this.rate = { at: now, done: e.done, bps: (e.done - this.rate.done) / dt };
        }
        const pct = e.total ? ` ${((100 * e.done) / e.total).toFixed(0)}%` : '';
        const total = e.total ? ` / ${human(e.total)}` : '';
        return this.status(`${e.step} ${human(e.done)}${total}${pct}${this.rate.bps ? ` ${human(this.rate.bps)}/s` : ''} (${this.elapsed()})`);
      }
    }
  };

  private status(text: string): void {
    const width = Math.max(20, (this.out.columns ?? 100) - 1);
    this.out.write('\r\x1b[K' + (text.length > width ? text.slice(0, width - 1) + '…' : text));
    this.statusShown = true;
  }

  end(): void {
    this.clearStatus();
  }
}

function progressMode(f: BuildFlags): Exclude<ProgressMode, 'auto'> {
  if (f.quiet) return 'none';
  const raw = f.progress ?? 'auto';
  if (!(PROGRESS_MODES as readonly string[]).includes(raw)) {
    throw invalidInput('E_CLI_PROGRESS', `invalid --progress ${JSON.stringify(raw)}: expected one of ${PROGRESS_MODES.join(', ')}`);
  }
  if (raw !== 'auto') return raw as Exclude<ProgressMode, 'auto'>;
  return process.stderr.isTTY ? 'tty' : 'plain';
}

/** Exit status of an interrupted build (128 + SIGINT), as shells report it. */
const INTERRUPTED_EXIT = 130;

async function runBuild(arg: string, f: BuildFlags, cmd: Command): Promise<void> {
  const mode = progressMode(f);
  const fromText = arg === '-' || /\.ya?ml$/i.test(arg) || arg.includes('/');
  let user: Profile;
  if (fromText) {
    const given = PROFILE_FLAGS.filter((k) => cmd.getOptionValueSource(k) === 'cli');
    if (given.length > 0) {
      throw invalidInput('E_CLI_PROFILE_FLAGS', `${given.map(flagName).join(', ')} only apply to a base profile name; set them in the profile instead`);
    }
    const text = arg === '-' ? await readStdin() : await readInputFile(arg, 'profile');
    user = decodeProfile(text, arg === '-' ? 'stdin' : arg);
  } else {
    user = await profileFromFlags(arg, f);
  }
  const profile = resolveProfile(user);
  const renderer = new ProgressRenderer(mode);
  // The resolved profile, as the imager prints it (§0 step 5).
  if (mode === 'json') renderer.json({ type: 'profile', yaml: dumpProfile(profile) });
  else if (mode !== 'none') process.stderr.write(dumpProfile(profile));
  checkBuildable(profile);

  const toStdout = f.output === '-';
  if (toStdout && f.tarToStdout) throw invalidInput('E_CLI_TAR_TO_STDOUT', '--tar-to-stdout archives the --output directory; it cannot be combined with --output -');
  if ((toStdout || f.tarToStdout) && process.stdout.isTTY) throw invalidInput('E_CLI_STDOUT_TTY', `${toStdout ? '--output -' : '--tar-to-stdout'} writes binary data; redirect stdout to a file or a pipe`);
  const { cache, client } = await registryFromFlags(f, renderer.sink);
  const opts: BuildOptions = {
    progress: renderer.sink,
    cache,
    client,
    ...(f.offline ? { offline: true } : {}),
    ...(f.imagerImage ? { imagerImage: parseInputSource(f.imagerImage, f.insecure === true) } : {}),
    ...(toStdout ? { output: { type: 'stream', stream: process.stdout, name: 'stdout' } } : { outputDir: f.output }),
  };

  // Ctrl-C / SIGTERM: stop at the next chunk, remove the temporary output; a second signal exits at once.
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) process.exit(INTERRUPTED_EXIT);
    controller.abort(new ImagekitError('E_INTERRUPTED', 'unknown', `interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  opts.signal = controller.signal;
  try {
    const result = await buildOutput(profile, opts);
    // As the imager: the whole output directory, gzip-compressed tar, to stdout.
    if (f.tarToStdout) await writeDirectoryTarGz(f.output, process.stdout, reproFromEnv().sourceDateEpoch);
    renderer.end();
    if (mode === 'json') renderer.json({ type: 'result', name: result.name, ...(result.path ? { path: result.path } : {}), bytes: result.bytes, ...(result.sha256 ? { sha256: result.sha256 } : {}) });
    else if (mode !== 'none' && result.path) process.stderr.write(`output asset path: ${result.path}\n`);
  } catch (err) {
    renderer.end();
    if (controller.signal.aborted) {
      const e = err instanceof ImagekitError && err.code === 'E_INTERRUPTED' ? err : new ImagekitError('E_INTERRUPTED', 'unknown', `interrupted by ${signals ? 'a signal' : 'abort'}`, { cause: err });
      (e as { exitCode: number }).exitCode = INTERRUPTED_EXIT;
      throw e;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('build')
    .description('build a Talos boot asset from a base profile, a profile file or a profile on stdin (the Talos imager\'s CLI)')
    .argument('<profile>', 'a base profile name (see `imagekit profile list`), a profile .yaml file, or - to read the profile from stdin')
    .option('--arch <arch>', 'target architecture: amd64 or arm64', hostArch())
    .option('--platform <platform>', 'Talos platform (the value of talos.platform=), e.g. metal, aws, gcp, nocloud; default: the base profile\'s')
    .option('--version <version>', `Talos version to build for, e.g. v1.11.0; selects the version quirks and image tags (default: ${DEFAULT_TALOS_VERSION})`)
    .option('--output <dir|->', 'output directory, created when missing (the imager\'s default is /out), or - for stdout', 'out')
    .option('--output-kind <kind>', `override the output kind: ${OUTPUT_KINDS.filter((k) => k !== 'unknown').join(', ')} (built today: ${SUPPORTED_OUTPUT_KINDS.join(', ')})`)
    .option('--imager-image <ref|path>', 'where boot assets (usr/install/<arch>/…) not found locally come from: an image reference, an OCI layout, an image archive or a directory (default ghcr.io/siderolabs/imager:<version>)')
    .option('--progress <mode>', 'progress on stderr: auto (tty when stderr is a terminal, else plain), tty, plain, json (one JSON event per line) or none', 'auto')
    .option('--quiet', 'print only warnings and errors (no profile, no progress)')
    .option('--out-format <format>', `override the post-processing: ${OUT_FORMATS.filter((k) => k !== 'unknown').join(', ')}`)
    .option('--bootloader <bootloader>', 'bootloader of a disk image or ISO: dual-boot, sd-boot or grub (SecureBoot always uses sd-boot)')
    .option('--extra-kernel-arg <arg>', 'extra kernel argument, repeatable; "console" and "talos.platform" replace the default, -name removes name, -name=value removes one value', collect)
    .option('--meta <key=value>', 'META partition value, repeatable; key 0–255 in decimal or 0x hex (e.g. 0x0a=<network config>)', collect)
    .option('--system-extension-image <ref|path>', 'system extension image to install, repeatable: a reference, an OCI layout, an archive or an unpacked extension directory', collect)
    .option('--base-installer-image <ref|path>', 'base installer image: a reference or an OCI layout (default: ghcr.io/siderolabs/installer-base:<version>, or installer:<version> below 1.10)')
    .option('--image-cache <ref|path>', 'image cache: a fully specified image reference (registry/repo:tag), anything else is an OCI layout directory')
    .option('--insecure', 'allow plain-HTTP/insecure registries for extensions, base installer and image cache')
    .option('--overlay-name <name>', 'overlay installer name (default: default)')
    .option('--overlay-image <ref>', 'overlay image (also used as input.overlayInstaller)')
    .option('--overlay-option <k=v|k=@file|@file.yaml>', 'extra option passed to the overlay installer, repeatable', collect)
    .option('--embedded-config-path <path>', 'machine configuration file to embed into the image')
    .option('--secureboot-include-well-known-certs', 'include Microsoft UEFI certificates when a SecureBoot key database is generated')
    .option('--secureboot-signer-address <address>', 'gRPC unix:// address of a SecureBoot signing service')
    .option('--pcr-signer-address <address>', 'gRPC unix:// address of a PCR signing service')
    .option('--secureboot-enroll-keys <mode>', `how systemd-boot enrolls SecureBoot keys on first boot: ${SDBOOT_ENROLL_KEYS.join(', ')} (default if-safe: only in a VM)`)
    .option('--tar-to-stdout', 'after the build, also write the output directory as a .tar.gz to stdout')
    .addHelpText(
      'after',
      [
        '',
        `Base profiles: ${BASE_PROFILE_NAMES.join(', ')}.`,
        'With a profile file or stdin the profile is used as written (unknown keys are ignored) and the profile flags are refused.',
        'The resolved profile is printed to stderr. Exit codes: 0 ok, 1 unknown, 2 invalid input, 3 unsupported, 4 environment,',
        '5 dependency, 6 I/O, 7 assembly.',
        '',
        'Examples:',
        '  imagekit build metal --arch amd64 --version v1.11.0 --output-kind cmdline --output out/     (no network)',
        '  imagekit build metal --arch amd64 --version v1.11.0 --bootloader sd-boot --out-format .xz \\',
        '    --system-extension-image ghcr.io/siderolabs/gvisor:20250505.0 --output out/',
      ].join('\n'),
    );
  addRegistryOptions(cmd).action(async (arg: string, flags: BuildFlags, c: Command) => {
    await runBuild(arg, flags, c);
  });
}
