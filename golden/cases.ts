/**
 * The golden builds: one profile per output kind (and per post-processing format), built from the
 * synthetic inputs of `inputs.ts` with a fixed SOURCE_DATE_EPOCH. Each output is hashed as it is
 * streamed (no file), so a 2 GiB raw disk costs one SHA-256 pass and no disk space.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ReproContext } from '../src/core/repro.js';
import { BlobCache } from '../src/oci/blob-cache.js';
import { buildOutput } from '../src/pipeline/build.js';
import { decodeProfile } from '../src/profile/decode.js';
import { resolveProfile } from '../src/profile/resolve.js';
import type { GoldenInputs } from './inputs.js';

export const GOLDEN_REPRO: ReproContext = { sourceDateEpoch: 1_700_000_000, seed: 'imagekit' };

export interface GoldenCase {
  /** Key in expected.json. */
  id: string;
  /** Profile YAML (input paths are filled in). */
  profile: (i: GoldenInputs) => string;
}

const KEYS = join(import.meta.dirname, 'keys');

const inputs = (i: GoldenInputs, extensions: boolean, secureboot = false) =>
  [
    'input:',
    `  kernel: {path: ${JSON.stringify(i.kernel)}}`,
    `  initramfs: {path: ${JSON.stringify(i.initramfs)}}`,
    `  sdStub: {path: ${JSON.stringify(i.sdStub)}}`,
    `  sdBoot: {path: ${JSON.stringify(i.sdBoot)}}`,
    `  baseInstaller: {ociPath: ${JSON.stringify(i.installerBase)}}`,
    ...(extensions ? ['  systemExtensions:', ...i.extensions.map((e) => `    - tarballPath: ${JSON.stringify(e)}`)] : []),
    ...(secureboot
      ? [
        '  secureboot:',
        `    secureBootSigner: {keyPath: ${JSON.stringify(join(KEYS, 'uki-signing-key.pem'))}, certPath: ${JSON.stringify(join(KEYS, 'uki-signing-cert.pem'))}}`,
        `    pcrSigner: {keyPath: ${JSON.stringify(join(KEYS, 'pcr-signing-key.pem'))}}`,
      ]
      : []),
  ].join('\n');

const base = (name: string, kind: string, outFormat: string, i: GoldenInputs, opts: { extensions?: boolean; extra?: string } = {}) =>
  [
    `baseProfileName: ${name}`,
    'arch: amd64',
    'version: v1.11.0',
    inputs(i, opts.extensions ?? false, name.startsWith('secureboot-')),
    `output: {kind: ${kind}, outFormat: ${JSON.stringify(outFormat)}${kind === 'image' ? ', imageOptions: {bootloader: sd-boot}' : ''}}`,
    opts.extra ?? '',
  ].join('\n');

export const GOLDEN_CASES: GoldenCase[] = [
  { id: 'cmdline', profile: (i) => base('metal', 'cmdline', 'raw', i, { extra: 'customization: {extraKernelArgs: [console=ttyS0, -selinux, golden=1]}' }) },
  { id: 'kernel', profile: (i) => base('metal', 'kernel', 'raw', i) },
  { id: 'kernel.xz', profile: (i) => base('metal', 'kernel', '.xz', i) },
  { id: 'kernel.zst', profile: (i) => base('metal', 'kernel', '.zst', i) },
  { id: 'kernel.gz', profile: (i) => base('metal', 'kernel', '.gz', i) },
  { id: 'kernel.tar.gz', profile: (i) => base('metal', 'kernel', '.tar.gz', i) },
  { id: 'initramfs', profile: (i) => base('metal', 'initramfs', 'raw', i, { extensions: true }) },
  { id: 'uki', profile: (i) => base('metal', 'uki', 'raw', i, { extensions: true }) },
  {
    id: 'image',
    profile: (i) => base('metal', 'image', 'raw', i, { extensions: true, extra: 'customization: {extraKernelArgs: [console=ttyS0], metaContents: [{key: 10, value: "golden network config"}]}' }),
  },
  { id: 'image.xz', profile: (i) => base('nocloud', 'image', '.xz', i, { extensions: true }) },
  { id: 'installer', profile: (i) => base('installer', 'installer', 'raw', i, { extensions: true }) },
  // SecureBoot: test-only keys (golden/keys); signatures, PCR policy and .auth files are deterministic.
  { id: 'secureboot-image.xz', profile: (i) => base('secureboot-metal', 'image', '.xz', i, { extensions: true }) },
  { id: 'secureboot-installer', profile: (i) => base('secureboot-installer', 'installer', 'raw', i) },
];

/** A Writable that only counts (the build hashes what it writes). */
const discard = () => new Writable({ write: (_c, _e, cb) => cb() });

export interface GoldenResult {
  name: string;
  bytes: number;
  sha256: string;
}

export async function buildGolden(c: GoldenCase, i: GoldenInputs, scratchDir: string): Promise<GoldenResult> {
  const p = resolveProfile(decodeProfile(c.profile(i), `golden ${c.id}`));
  const r = await buildOutput(p, {
    output: { type: 'stream', stream: discard(), name: c.id },
    repro: GOLDEN_REPRO,
    cache: new BlobCache(`${scratchDir}/cache`),
    offline: true,
    scratchDir,
  });
  return { name: r.name, bytes: r.bytes, sha256: r.sha256! };
}
