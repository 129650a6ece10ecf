/**
 * One build: a resolved profile → one output (talos-imager.md §0, the imager's `Execute`):
 *
 *   boot assets (local files, else the imager image) ─┐
 *   system extensions (pulled, flattened) ──► initramfs (extensions appended, §4.6)
 *   kernel command line (§5) ──► UKI (§6) ──► output by kind (§9, §11) ──► post-processing (§12.1)
 *
 * Outputs: `cmdline`, `kernel`, `initramfs`, `uki`, `image` (sd-boot raw disk) and `installer`
 * (docker-save tarball), with upstream's file names, post-processed by `outFormat` while they are
 * written. What imagekit cannot build fails with exit code 3 before anything is fetched or written:
 * ISO, qcow2/vhd/ova, GRUB and dual-boot disks, overlays, image caches, remote SecureBoot signers.
 * SecureBoot builds sign the UKI (with PCR 11 signatures) and systemd-boot with key files, and put
 * the key-enrollment files on a disk image's ESP.
 *
 * Every temporary file lives in one scratch directory removed at the end; the output appears whole
 * or not at all (temporary name + rename); an AbortSignal (Ctrl-C) stops the build at the next chunk.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncoder, createZstdEncoder } from '../compress/index.js';
import { invalidInput, ioError, unsupported } from '../core/errors.js';
import { silentProgress, type ProgressSink } from '../core/progress.js';
import { reproFromEnv, type ReproContext } from '../core/repro.js';
import { buildCmdline } from '../boot/cmdline/build.js';
import { checkBootloader, writeDiskImage } from '../boot/disk/index.js';
import { buildInitramfs } from '../boot/initramfs/append.js';
import { fileSource } from '../boot/uki/file-source.js';
import { buildUki } from '../boot/uki/build-uki.js';
import { talosUkiProfiles } from '../boot/uki/profiles.js';
import { signPe } from '../formats/pe/authenticode-sign.js';
import { sourceBytes, type ByteSource } from '../formats/pe/byte-source.js';
import { peAssemblyChunks, peAssemblySource, type PeAssembly } from '../formats/pe/pe-assembly.js';
import { BlobCache } from '../oci/blob-cache.js';
import { linuxPlatform, type Platform } from '../oci/platform.js';
import { formatReference, parseReference } from '../oci/reference.js';
import type { RegistryClient } from '../oci/registry-client.js';
import { openImage } from '../oci/source.js';
import { finalOutputPath, outputPath } from '../profile/output-path.js';
import { quirksFor } from '../profile/quirks.js';
import type { OutputKind, Profile } from '../profile/schema.js';
import { openBootAssets, type BootAssetName, type BootAssets } from './boot-assets.js';
import { readExtensionTrees } from './extensions.js';
import { buildInstaller } from './installer.js';
import { interrupted, writeOutput, type OutputPayload, type OutputTarget, type WrittenOutput } from './output.js';
import { checkSecureBoot, enrollmentFor, loadSecureBootSigners, type SecureBootSigners } from './secureboot.js';
import { containerAssetSource, describeInput, type InputSource } from './sources.js';

/** Output kinds this version builds. */
export const SUPPORTED_OUTPUT_KINDS: readonly OutputKind[] = ['cmdline', 'kernel', 'initramfs', 'uki', 'image', 'installer'];

export interface BuildOptions {
  /** Directory for the output file (`<outputDir>/<final output name>`); created when missing. */
  outputDir?: string;
  /** Or an explicit target: a file path, or a stream (stdout, an HTTP response). Wins over `outputDir`. */
  output?: OutputTarget;
  progress?: ProgressSink;
  /** SOURCE_DATE_EPOCH and seeds; default from the environment. */
  repro?: ReproContext;
  /** Stops the build (Ctrl-C); the output is not created. */
  signal?: AbortSignal;
  /** Image cache; default `BlobCache.fromEnv()`. */
  cache?: BlobCache;
  /** Registry client (keychain, mirrors, insecure registries). */
  client?: RegistryClient;
  /** Use only the cache for registry images. */
  offline?: boolean;
  /** Source of boot assets not found locally; default `ghcr.io/siderolabs/imager:<version>`. */
  imagerImage?: InputSource;
  /** Parent of the build's scratch directory; default the OS temp dir. */
  scratchDir?: string;
}

export interface BuildResult {
  /** The file written (absent when the output went to a stream). */
  path?: string;
  /** The output's file name (`metal-amd64.raw.xz`). */
  name: string;
  /** Bytes written. */
  bytes: number;
  /** SHA-256 of the bytes written (absent for a sparse raw disk file). */
  sha256?: string;
  /** The kernel command line of this build. */
  cmdline: string;
}

/**
 * Does this build use a UKI (talos-imager.md §0 step 8)? Upstream also assembles one for an
 * installer below 1.10, then ships the kernel and initramfs instead (§11); imagekit skips that
 * unused work.
 */
export function needsUki(p: Profile): boolean {
  const q = quirksFor(p.version);
  switch (p.output.kind) {
    case 'uki':
      return true;
    case 'iso':
    case 'image':
      return q.supportsUKI || q.useSDBootForUEFI;
    case 'installer':
      return q.useSDBootForUEFI || p.secureboot === true;
    default:
      return false;
  }
}

/** Refuse what cannot be built, before any input is fetched or output touched. */
export function checkBuildable(p: Profile): void {
  const kind = p.output.kind;
  if (kind === 'unknown') throw invalidInput('E_PROFILE_OUTPUT_KIND', `unknown output kind: ${kind}`);
  if (kind === 'uki' && !quirksFor(p.version).supportsUKI) {
    throw unsupported('E_UKI_VERSION', `UKI output is not supported for Talos version ${JSON.stringify(p.version)} (needs ≥ 1.5)`);
  }
  if (!SUPPORTED_OUTPUT_KINDS.includes(kind)) {
    throw unsupported('E_OUTPUT_KIND_UNSUPPORTED', `output kind ${kind} is not supported yet (supported: ${SUPPORTED_OUTPUT_KINDS.join(', ')})`);
  }
  if (p.overlay !== null) {
    // The imager runs the overlay's installer binary (`get-options`) to learn its kernel arguments.
    throw unsupported('E_OVERLAY_UNSUPPORTED', `overlays are not supported yet (overlay ${JSON.stringify(p.overlay.name || p.overlay.image.imageRef)})`);
  }
  if (p.output.outFormat === 'unknown') throw invalidInput('E_PROFILE_OUT_FORMAT', 'unknown output format: unknown');
  if (kind !== 'cmdline') checkSecureBoot(p);
  if (kind === 'image') {
    const io = p.output.imageOptions;
    if (!io) throw invalidInput('E_PROFILE_IMAGE_OPTIONS', 'output.imageOptions is missing');
    if (io.diskFormat !== 'raw') {
      throw unsupported('E_DISK_FORMAT_UNSUPPORTED', `disk format ${io.diskFormat} is not supported yet (raw only); set output.imageOptions.diskFormat: raw`);
    }
    checkBootloader(io.bootloader);
    const cache = p.input.imageCache;
    if (cache.imageRef !== '' || cache.ociPath !== '' || cache.tarballPath !== '') {
      throw unsupported('E_IMAGE_CACHE_UNSUPPORTED', 'image cache partitions (input.imageCache, an ext4 IMAGECACHE partition) are not supported yet');
    }
  }
}

/** Boot assets each output kind reads. */
function assetsFor(p: Profile): BootAssetName[] {
  switch (p.output.kind) {
    case 'kernel':
      return ['kernel'];
    case 'initramfs':
      return ['initramfs'];
    case 'uki':
      return ['kernel', 'initramfs', 'sdStub'];
    case 'image':
      return ['kernel', 'initramfs', 'sdStub', 'sdBoot'];
    case 'installer':
      return needsUki(p) ? ['kernel', 'initramfs', 'sdStub', 'sdBoot'] : ['kernel', 'initramfs'];
    default:
      return [];
  }
}

function bytesPayload(src: ByteSource): OutputPayload {
  if (src instanceof Uint8Array) return { type: 'bytes', size: src.byteLength, open: async function* () { yield src; } };
  return { type: 'bytes', size: src.size, open: () => src.open() };
}

function checkSignal(signal?: AbortSignal): void {
  if (signal?.aborted) throw interrupted(signal);
}

/** Build the output of a resolved profile. */
export async function buildOutput(p: Profile, opts: BuildOptions): Promise<BuildResult> {
  const progress = opts.progress ?? silentProgress;
  const repro = opts.repro ?? reproFromEnv();
  const signal = opts.signal;
  checkBuildable(p);
  const name = finalOutputPath(p);
  const target: OutputTarget = opts.output ?? { type: 'file', path: join(opts.outputDir ?? '.', name) };
  const kind = p.output.kind;
  const q = quirksFor(p.version);

  const cmdline = buildCmdline(p);
  progress({ type: 'info', message: `kernel command line: ${cmdline}` });

  // SecureBoot signers first (§7): a missing key fails before anything is fetched or created. The
  // UKI and systemd-boot are signed with the same key.
  let signers: SecureBootSigners | undefined;
  if (p.secureboot === true && needsUki(p)) signers = await loadSecureBootSigners(p.input.secureboot!);

  if (target.type === 'file' && opts.output === undefined) {
    try {
      await mkdir(opts.outputDir ?? '.', { recursive: true });
    } catch (err) {
      throw ioError('E_OUTPUT_DIR', `cannot create output directory ${opts.outputDir}: ${(err as Error).message}`, err);
    }
  }

  if (kind === 'cmdline') {
    const bytes = Buffer.from(cmdline, 'utf8');
    const written = await write(bytesPayload(bytes), target, p, repro, progress, signal);
    return result(target, name, written, cmdline);
  }

  const cache = opts.cache ?? BlobCache.fromEnv();
  if (opts.scratchDir) await mkdir(opts.scratchDir, { recursive: true });
  const scratch = await mkdtemp(join(opts.scratchDir ?? tmpdir(), 'imagekit-build-'));
  const cleanups: Array<() => Promise<void>> = [() => rm(scratch, { recursive: true, force: true })];
  const pullOpts = {
    cache,
    ...(opts.client ? { client: opts.client } : {}),
    ...(opts.offline ? { offline: true } : {}),
    progress,
  };
  try {
    // Boot assets.
    const hostPlatform: Platform = linuxPlatform(process.arch === 'arm64' ? 'arm64' : 'amd64');
    const assets: BootAssets = await openBootAssets(p, assetsFor(p), {
      ...pullOpts,
      platform: hostPlatform,
      ...(opts.imagerImage ? { imagerImage: opts.imagerImage } : {}),
    });
    checkSignal(signal);

    // Initramfs with extensions (not for outputs that do not carry it, §0 step 6).
    let initramfs: ByteSource | undefined = assets.initramfs;
    const hasExtensions = p.input.systemExtensions.length > 0 || p.customization.embeddedMachineConfiguration !== '';
    if (initramfs && hasExtensions) {
      const trees = await readExtensionTrees(p, pullOpts);
      checkSignal(signal);
      progress({ type: 'step-start', step: 'initramfs', detail: `${trees.length} extension(s)` });
      const base = assets.initramfs!;
      const path = join(scratch, 'initramfs.xz');
      const stream = buildInitramfs(trees, {
        talosVersion: p.version,
        repro,
        scratchDir: scratch,
        progress,
        base: () => base.open(),
        encoder: (codec) => (codec === 'zstd' ? createZstdEncoder({ level: 18 }) : createEncoder({ format: 'xz', preset: 0, extreme: true, check: 'crc32' })),
      });
      await pipeline(Readable.from(stream, { objectMode: false }), async function* (src: AsyncIterable<Buffer>) {
        for await (const c of src) {
          checkSignal(signal);
          yield c;
        }
      }, createWriteStream(path));
      initramfs = await fileSource(path);
      progress({ type: 'step-done', step: 'initramfs', detail: `${initramfs.size} bytes` });
    } else if (hasExtensions && kind !== 'kernel') {
      progress({ type: 'info', message: 'skipped initramfs rebuild (output does not carry an initramfs)' });
    }

    // UKI.
    let uki: PeAssembly | undefined;
    if (needsUki(p)) {
      progress({ type: 'step-start', step: 'uki', detail: signers ? 'signed' : undefined });
      const built = await buildUki({
        stub: await sourceBytes(assets.sdStub!, assets.sdStub!.label),
        kernel: assets.kernel!,
        initrd: initramfs!,
        cmdline,
        version: p.version,
        ...(q.supportsUKIProfiles ? { profiles: talosUkiProfiles(kind, cmdline) } : {}),
        sourceDateEpoch: repro.sourceDateEpoch,
        ...(signers ? { secureBoot: { signer: signers.signer, pcrSigner: signers.pcrSigner, signingTime: repro.sourceDateEpoch } } : {}),
      });
      uki = built.image;
      progress({ type: 'step-done', step: 'uki', detail: `${built.sections.map((s) => s.name).join(' ')}${signers ? ' (signed)' : ''}` });
    }
    let sdBoot: ByteSource | undefined = assets.sdBoot;
    if (signers && sdBoot) {
      sdBoot = await signPe(await sourceBytes(sdBoot, assets.sdBoot!.label), signers.signer, { signingTime: repro.sourceDateEpoch, label: 'systemd-boot' });
    }
    checkSignal(signal);

    let payload: OutputPayload;
    switch (kind) {
      case 'kernel':
        payload = bytesPayload(assets.kernel!);
        break;
      case 'initramfs':
        payload = bytesPayload(initramfs!);
        break;
      case 'uki': {
        const src = peAssemblySource(uki!);
        payload = { type: 'bytes', size: src.size, open: () => peAssemblyChunks(uki!) };
        break;
      }
      case 'image': {
        const io = p.output.imageOptions!;
        const bootloader = io.bootloader;
        checkBootloader(bootloader);
        const ukiSource = peAssemblySource(uki!);
        const enrollment = signers ? await enrollmentFor(p, signers, repro.sourceDateEpoch) : undefined;
        payload = {
          type: 'disk',
          size: io.diskSize,
          write: async (sink) => {
            await writeDiskImage(sink, {
              bootloader,
              diskSize: io.diskSize,
              sectorSize: io.diskSectorSize || 512,
              partitionSizes: q.partitionSizes,
              dataPartitions: !q.skipDataPartitions,
              arch: p.arch as 'amd64' | 'arm64',
              version: p.version,
              uki: ukiSource,
              systemdBoot: sdBoot!,
              ...(enrollment ? { secureBootEnrollment: enrollment } : {}),
              metaValues: p.customization.metaContents.map((m) => ({ key: m.key, value: m.value })),
              repro,
              progress,
            });
          },
        };
        break;
      }
      case 'installer': {
        const baseAsset = p.input.baseInstaller;
        const baseSrc = containerAssetSource(baseAsset, 'input.baseInstaller');
        if ('tarballPath' in baseSrc || 'directory' in baseSrc) {
          throw invalidInput('E_INSTALLER_BASE', `input.baseInstaller: a plain tarball or directory is not an image (${describeInput(baseSrc)})`);
        }
        progress({ type: 'step-start', step: 'pull-installer-base', detail: describeInput(baseSrc) });
        const base = await openImage(baseSrc, { ...pullOpts, platform: linuxPlatform(p.arch) });
        progress({ type: 'step-done', step: 'pull-installer-base', detail: base.digest });
        const dir = `usr/install/${p.arch}`;
        // ≥ 1.10 or SecureBoot: systemd-boot + the UKI (named vmlinuz.efi.signed for signed < 1.10 targets, §11).
        const ukiName = p.secureboot === true && !q.useSDBootForUEFI ? 'vmlinuz.efi.signed' : 'vmlinuz.efi';
        const artifacts = uki
          ? [{ path: `${dir}/systemd-boot.efi`, content: sdBoot! }, { path: `${dir}/${ukiName}`, content: peAssemblySource(uki) }]
          : [{ path: `${dir}/vmlinuz`, content: assets.kernel! }, { path: `${dir}/initramfs.xz`, content: initramfs! }];
        let repoTag: string | undefined;
        if (baseAsset.imageRef !== '') {
          const ref = parseReference(baseAsset.imageRef);
          if (ref.tag !== undefined && ref.digest === undefined) repoTag = formatReference(ref);
        }
        const inst = await buildInstaller({ base, ...(repoTag ? { repoTag } : {}), arch: p.arch, artifacts, sourceDateEpoch: repro.sourceDateEpoch, scratchDir: scratch, progress });
        cleanups.push(inst.dispose);
        payload = inst.payload;
        break;
      }
      default:
        throw unsupported('E_OUTPUT_KIND_UNSUPPORTED', `output kind ${kind} is not supported yet`);
    }

    const written = await write(payload, target, p, repro, progress, signal);
    return result(target, name, written, cmdline);
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  }
}

async function write(payload: OutputPayload, target: OutputTarget, p: Profile, repro: ReproContext, progress: ProgressSink, signal?: AbortSignal): Promise<WrittenOutput> {
  const where = target.type === 'file' ? target.path : target.name;
  progress({ type: 'step-start', step: 'output', detail: `${outputPath(p)} → ${where}${p.output.outFormat === 'raw' ? '' : ` (${p.output.outFormat})`}`, total: payload.size });
  const written = await writeOutput(payload, target, { outFormat: p.output.outFormat, sourceDateEpoch: repro.sourceDateEpoch, progress, ...(signal ? { signal } : {}) });
  progress({ type: 'step-done', step: 'output', detail: `${where} ${written.bytes} bytes${written.sha256 ? ` sha256:${written.sha256}` : ''}` });
  return written;
}

function result(target: OutputTarget, name: string, written: WrittenOutput, cmdline: string): BuildResult {
  return {
    ...(target.type === 'file' ? { path: target.path } : {}),
    name,
    bytes: written.bytes,
    ...(written.sha256 ? { sha256: written.sha256 } : {}),
    cmdline,
  };
}
