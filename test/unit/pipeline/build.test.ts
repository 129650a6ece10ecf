/**
 * The build pipeline (src/pipeline/build.ts): what is refused before any input is read, where boot
 * assets come from (local files, an OCI layout, a directory), the installer's legacy-base rule, and
 * the CLI's interruption and stdout paths (through bin/imagekit.js).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirEntry, fileFromBytes, type FileTree } from '../../../src/core/file-tree.js';
import { ImagekitError, type ExitCode } from '../../../src/core/errors.js';
import type { ProgressEvent } from '../../../src/core/progress.js';
import { BlobCache } from '../../../src/oci/blob-cache.js';
import { buildImage } from '../../../src/oci/image-builder.js';
import { refNameAnnotation, writeLayoutIndex } from '../../../src/oci/layout.js';
import { parsePlatform } from '../../../src/oci/platform.js';
import { fileTreeFromDirectory } from '../../../src/boot/extensions/directory-tree.js';
import { buildOutput, checkBuildable, type BuildOptions } from '../../../src/pipeline/build.js';
import { containerAssetFor, parseInputSource } from '../../../src/pipeline/sources.js';
import { decodeProfile } from '../../../src/profile/decode.js';
import { resolveProfile } from '../../../src/profile/resolve.js';
import { writeGoldenInputs, type GoldenInputs } from '../../../golden/inputs.js';
import { missingTools, runTool, tempDir } from '../../helpers/tools.js';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/imagekit.js');
let work = '';
let cleanup = () => {};
let inputs: GoldenInputs;
let imagerLayout = '';

const repro = { sourceDateEpoch: 1_700_000_000, seed: 'imagekit' };
const profile = (yaml: string) => resolveProfile(decodeProfile(yaml, 'test'));
const sink = () => new Writable({ write: (_c, _e, cb) => cb() });

async function layoutOf(dir: string, trees: FileTree[], tag: string): Promise<string> {
  const store = new BlobCache(dir, `${dir}-tmp`);
  const image = await buildImage(store, { platform: parsePlatform('linux/amd64'), layers: trees.map((entries) => ({ entries, compression: 'gzip' as const })) });
  await writeLayoutIndex(dir, [{ ...image.descriptor, annotations: { [refNameAnnotation]: tag } }]);
  return dir;
}

beforeAll(async () => {
  ({ dir: work, cleanup } = tempDir('imagekit-pipeline-'));
  inputs = await writeGoldenInputs(join(work, 'inputs'));
  // An imager image in an OCI layout: usr/install/amd64/… of the golden inputs.
  const tree = (await fileTreeFromDirectory(inputs.dir)).filter((e) => e.path === 'usr' || e.path.startsWith('usr/'));
  imagerLayout = await layoutOf(join(work, 'imager-layout'), [tree.map((e) => ({ ...e, uid: 0, gid: 0, mtime: 0 }))], 'v1.11.0');
});
afterAll(() => cleanup());

function expectError(fn: () => unknown, exitCode: ExitCode, code: string, message?: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ImagekitError);
    expect((err as ImagekitError).exitCode).toBe(exitCode);
    expect((err as ImagekitError).code).toBe(code);
    if (message) expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected an error');
}

describe('checkBuildable: refused before any input is read (exit 3)', () => {
  it.each([
    ['iso', 'baseProfileName: iso\narch: amd64\nversion: v1.12.0', 'E_OUTPUT_KIND_UNSUPPORTED'],
    ['dual-boot disk', 'baseProfileName: metal\narch: amd64\nversion: v1.12.0', 'E_BOOTLOADER_UNSUPPORTED'],
    ['grub disk', 'baseProfileName: metal\narch: amd64\nversion: v1.9.0', 'E_BOOTLOADER_UNSUPPORTED'],
    ['ova', 'baseProfileName: vmware\narch: amd64\nversion: v1.12.0\noutput: {imageOptions: {bootloader: sd-boot}}', 'E_DISK_FORMAT_UNSUPPORTED'],
    ['qcow2', 'baseProfileName: exoscale\narch: arm64\nversion: v1.12.0', 'E_DISK_FORMAT_UNSUPPORTED'],
    ['overlay', 'baseProfileName: metal\narch: arm64\nversion: v1.12.0\noverlay: {name: rpi_generic, image: {imageRef: ghcr.io/siderolabs/sbc-raspberrypi:v0.1.0}}', 'E_OVERLAY_UNSUPPORTED'],
    ['image cache', 'baseProfileName: metal\narch: arm64\nversion: v1.12.0\ninput: {imageCache: {ociPath: /tmp/cache}}', 'E_IMAGE_CACHE_UNSUPPORTED'],
    ['SecureBoot with a remote signer', 'baseProfileName: secureboot-metal\narch: amd64\nversion: v1.12.0\ninput: {secureboot: {pcrSigner: {awsKMSKeyID: k1, awsRegion: eu-west-1}}}', 'E_SECUREBOOT_SIGNER_UNSUPPORTED'],
    ['uki below 1.5', 'baseProfileName: metal\narch: amd64\nversion: v1.4.0\noutput: {kind: uki}', 'E_UKI_VERSION'],
  ])('%s', (_name, yaml, code) => {
    expectError(() => checkBuildable(profile(yaml)), 3, code);
  });

  it('buildOutput refuses them before creating the output directory', async () => {
    const out = join(work, 'refused');
    await expect(buildOutput(profile('baseProfileName: iso\narch: amd64\nversion: v1.12.0'), { outputDir: out })).rejects.toMatchObject({ exitCode: 3 });
    expect(existsSync(out)).toBe(false);
  });
});

describe('boot assets', () => {
  const kernelProfile = (extra = '') => profile(`baseProfileName: metal\narch: amd64\nversion: v1.11.0\noutput: {kind: kernel, outFormat: raw}\n${extra}`);

  it('from an imager image in an OCI layout, and from a directory (usr/install/amd64/…)', async () => {
    const want = createHash('sha256').update(readFileSync(inputs.kernel)).digest('hex');
    const events: ProgressEvent[] = [];
    const opts = (imagerImage: BuildOptions['imagerImage']): BuildOptions => ({
      output: { type: 'stream', stream: sink(), name: 'sink' }, repro, imagerImage, cache: new BlobCache(join(work, 'cache')), offline: true,
      progress: (e) => events.push(e),
    });
    const a = await buildOutput(kernelProfile(), opts(parseInputSource(imagerLayout)));
    expect(a.sha256).toBe(want);
    expect(events.some((e) => e.type === 'step-done' && e.step === 'boot-assets' && /kernel: 302560 bytes/.test(e.detail ?? ''))).toBe(true);
    const b = await buildOutput(kernelProfile(), opts(parseInputSource(inputs.dir)));
    expect(b.sha256).toBe(want);
  });

  it('local files named by the profile win; a missing asset names the path and the image (exit 2)', async () => {
    const r = await buildOutput(kernelProfile(`input: {kernel: {path: ${JSON.stringify(inputs.sdBoot)}}}`), {
      output: { type: 'stream', stream: sink(), name: 'sink' }, repro, imagerImage: parseInputSource(imagerLayout), cache: new BlobCache(join(work, 'cache')),
    });
    expect(r.sha256).toBe(createHash('sha256').update(readFileSync(inputs.sdBoot)).digest('hex'));
    await expect(
      buildOutput(kernelProfile('input: {kernel: {path: /usr/install/amd64/nope}}'), {
        output: { type: 'stream', stream: sink(), name: 'sink' }, repro, imagerImage: parseInputSource(imagerLayout), cache: new BlobCache(join(work, 'cache')),
      }),
    ).rejects.toMatchObject({ exitCode: 2, code: 'E_BOOT_ASSET_MISSING', message: expect.stringContaining('/usr/install/amd64/nope (input.kernel) is neither a local file nor in OCI layout') });
  });

  it('the default imager image is not contacted offline with an empty cache: a dependency error naming it', async () => {
    await expect(
      buildOutput(kernelProfile(), { output: { type: 'stream', stream: sink(), name: 'sink' }, repro, cache: new BlobCache(join(work, 'empty-cache')), offline: true }),
    ).rejects.toMatchObject({ exitCode: 5, message: expect.stringContaining('ghcr.io/siderolabs/imager:v1.11.0') });
  });
});

describe('input sources', () => {
  it('command-line values: transports, paths and references', () => {
    expect(parseInputSource('ghcr.io/siderolabs/gvisor:1.0')).toEqual({ imageRef: 'ghcr.io/siderolabs/gvisor:1.0' });
    expect(parseInputSource('oci:/x/y')).toEqual({ ociPath: '/x/y' });
    expect(parseInputSource('docker-archive:/x.tar')).toEqual({ archivePath: '/x.tar' });
    expect(parseInputSource(imagerLayout)).toEqual({ ociPath: imagerLayout });
    expect(parseInputSource(inputs.extensions[0]!)).toEqual({ directory: inputs.extensions[0] });
    expect(parseInputSource(inputs.kernel)).toEqual({ archivePath: inputs.kernel });
    expectError(() => parseInputSource('/does/not/exist'), 2, 'E_INPUT_MISSING');
    expect(containerAssetFor(inputs.extensions[0]!, false)).toEqual({ imageRef: '', forceInsecure: false, tarballPath: inputs.extensions[0], ociPath: '' });
    expect(containerAssetFor('r.example/ext:1', true)).toEqual({ imageRef: 'r.example/ext:1', forceInsecure: true, tarballPath: '', ociPath: '' });
  });
});

describe.skipIf(missingTools('tar'))('installer', () => {
  it('a legacy two-layer base keeps its first layer; targets < 1.10 ship vmlinuz + initramfs.xz', async () => {
    const base = await layoutOf(join(work, 'legacy-base'), [
      [dirEntry('bin'), fileFromBytes('bin/installer', 'legacy\n', { mode: 0o755 })],
      [dirEntry('usr'), fileFromBytes('usr/old-artifacts', 'old\n')],
    ], 'v1.9.0');
    const p = profile([
      'baseProfileName: installer', 'arch: amd64', 'version: v1.9.0',
      'input:',
      `  kernel: {path: ${JSON.stringify(inputs.kernel)}}`,
      `  initramfs: {path: ${JSON.stringify(inputs.initramfs)}}`,
      `  baseInstaller: {ociPath: ${JSON.stringify(base)}}`,
    ].join('\n'));
    const out = join(work, 'legacy-out');
    const r = await buildOutput(p, { outputDir: out, repro, cache: new BlobCache(join(work, 'cache')) });
    expect(r.name).toBe('installer-amd64.tar');
    const manifest = JSON.parse(runTool('tar', ['-xOf', r.path!, 'manifest.json']).stdout) as Array<{ Layers: string[]; RepoTags: string[] }>;
    expect(manifest[0]!.Layers).toHaveLength(2);
    expect(manifest[0]!.RepoTags).toEqual([]); // an OCI layout base has no reference to tag
    const layerDir = join(work, 'legacy-layer');
    mkdirSync(layerDir);
    runTool('tar', ['-xf', r.path!, '-C', layerDir]);
    expect(runTool('tar', ['-tzf', join(layerDir, manifest[0]!.Layers[0]!)]).stdout).toContain('bin/installer');
    expect(runTool('tar', ['-tzf', join(layerDir, manifest[0]!.Layers[1]!)]).stdout).toBe('usr/install/amd64/initramfs.xz\nusr/install/amd64/vmlinuz\n');
  });
});

describe('bin/imagekit.js', () => {
  const imageYaml = () => [
    'baseProfileName: metal', 'arch: amd64', 'version: v1.11.0',
    'input:',
    `  kernel: {path: ${JSON.stringify(inputs.kernel)}}`,
    `  initramfs: {path: ${JSON.stringify(inputs.initramfs)}}`,
    `  sdStub: {path: ${JSON.stringify(inputs.sdStub)}}`,
    `  sdBoot: {path: ${JSON.stringify(inputs.sdBoot)}}`,
    'output: {kind: image, outFormat: .zst, imageOptions: {bootloader: sd-boot}}',
    '',
  ].join('\n');

  it('--output - writes the output to stdout (same bytes as the file)', () => {
    const dir = join(work, 'stdout');
    mkdirSync(dir);
    writeFileSync(join(dir, 'p.yaml'), imageYaml().replace('kind: image, outFormat: .zst, imageOptions: {bootloader: sd-boot}', 'kind: uki, outFormat: .gz'));
    const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
    const a = spawnSync(process.execPath, [bin, 'build', 'p.yaml', '--output', '-', '--quiet'], { cwd: dir, env, maxBuffer: 64 << 20 });
    expect(a.status, String(a.stderr)).toBe(0);
    const b = spawnSync(process.execPath, [bin, 'build', 'p.yaml', '--output', 'out', '--quiet'], { cwd: dir, env });
    expect(b.status, String(b.stderr)).toBe(0);
    expect(a.stdout.equals(readFileSync(join(dir, 'out/metal-amd64-uki.efi.gz')))).toBe(true);
  });

  it('SIGINT during the disk write: exit 130, no output and no temporary file left', async () => {
    const dir = join(work, 'sigint');
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(dir, 'p.yaml'), imageYaml());
    const child = spawn(process.execPath, [bin, 'build', 'p.yaml', '--output', 'out', '--progress', 'json'], { cwd: dir, env: { ...process.env, TMPDIR: tmp } });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      // Interrupt once the disk is being written (a bytes event of the output step).
      if (!sent && /"type":"bytes","step":"output"/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(sent, stderr).toBe(true);
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/imagekit: interrupted by SIGINT\n$/);
    expect(readdirSync(join(dir, 'out'))).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
