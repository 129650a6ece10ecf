/**
 * SecureBoot builds (talos-imager.md §6.4, §7, §9.4, §11) from the synthetic golden inputs and keys
 * made by openssl: sbverify checks the Authenticode signatures of the UKI and systemd-boot against
 * the signing certificate; mtools reads the ESP (enrollment files, loader.conf); the installer
 * layer holds the signed binaries.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobCache } from '../../../src/oci/blob-cache.js';
import { buildOutput } from '../../../src/pipeline/build.js';
import { decodeProfile } from '../../../src/profile/decode.js';
import { resolveProfile } from '../../../src/profile/resolve.js';
import { writeGoldenInputs, type GoldenInputs } from '../../../golden/inputs.js';
import { missingTools, runTool, tempDir } from '../../helpers/tools.js';

const skip = missingTools('openssl', 'sbverify', 'mcopy', 'tar');
let work = '';
let cleanup = () => {};
let inputs: GoldenInputs;
let keys = '';
const repro = { sourceDateEpoch: 1_700_000_000, seed: 'imagekit' };

beforeAll(async () => {
  if (skip) return;
  ({ dir: work, cleanup } = tempDir('imagekit-sb-'));
  inputs = await writeGoldenInputs(join(work, 'inputs'));
  keys = join(work, 'keys');
  mkdirSync(keys);
  const gen = (key: string, cert?: string) => {
    const args = cert
      ? ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(keys, key), '-out', join(keys, cert), '-days', '3650', '-subj', '/CN=imagekit test SecureBoot/']
      : ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', join(keys, key)];
    const r = runTool('openssl', args);
    if (r.status !== 0) throw new Error(r.stderr);
  };
  gen('uki-signing-key.pem', 'uki-signing-cert.pem');
  gen('pcr-signing-key.pem');
});
afterAll(() => cleanup());

const profile = (base: string, extra = '') =>
  resolveProfile(decodeProfile([
    `baseProfileName: ${base}`, 'arch: amd64', 'version: v1.11.0',
    'input:',
    `  kernel: {path: ${JSON.stringify(inputs.kernel)}}`,
    `  initramfs: {path: ${JSON.stringify(inputs.initramfs)}}`,
    `  sdStub: {path: ${JSON.stringify(inputs.sdStub)}}`,
    `  sdBoot: {path: ${JSON.stringify(inputs.sdBoot)}}`,
    `  baseInstaller: {ociPath: ${JSON.stringify(inputs.installerBase)}}`,
    '  secureboot:',
    `    secureBootSigner: {keyPath: ${JSON.stringify(join(keys, 'uki-signing-key.pem'))}, certPath: ${JSON.stringify(join(keys, 'uki-signing-cert.pem'))}}`,
    `    pcrSigner: {keyPath: ${JSON.stringify(join(keys, 'pcr-signing-key.pem'))}}`,
    extra,
  ].join('\n'), 'test'));

const sbverify = (path: string) => runTool('sbverify', ['--cert', join(keys, 'uki-signing-cert.pem'), path]);

describe.skipIf(skip)('SecureBoot builds', () => {
  it('secureboot-metal raw disk: signed systemd-boot and UKI on the ESP, PK/KEK/db .auth and secure-boot-enroll if-safe', async () => {
    const out = join(work, 'image');
    const r = await buildOutput(profile('secureboot-metal', 'output: {outFormat: raw}'), { outputDir: out, repro, cache: new BlobCache(join(work, 'cache')) });
    expect(r.name).toBe('metal-amd64-secureboot.raw');
    const esp = `${r.path!}@@${1 << 20}`;
    const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
    const files = join(work, 'esp');
    mkdirSync(files);
    const copy = spawnSync('mcopy', ['-s', '-n', '-i', esp, '::EFI', '::loader', files], { env, encoding: 'utf8' });
    expect(copy.status, copy.stderr).toBe(0);
    for (const f of ['EFI/boot/BOOTX64.efi', 'EFI/Linux/Talos-v1.11.0.efi']) {
      const v = sbverify(join(files, f));
      expect(v.status, `${f}: ${v.stdout}${v.stderr}`).toBe(0);
      expect(v.stdout).toContain('Signature verification OK');
    }
    expect(readFileSync(join(files, 'loader/loader.conf'), 'utf8')).toBe('# systemd-boot configuration\n\ntimeout 10\n\nsecure-boot-enroll if-safe\n');
    for (const k of ['PK', 'KEK', 'db']) expect(readFileSync(join(files, `loader/keys/auto/${k}.auth`)).byteLength).toBeGreaterThan(800);
    // The UKI carries the PCR public key and signature sections.
    const h = runTool('objdump', ['-h', join(files, 'EFI/Linux/Talos-v1.11.0.efi')]);
    expect(h.stdout).toContain('.pcrpkey');
    expect(h.stdout).toContain('.pcrsig');
    // The command line gets lockdown=confidentiality below 1.14.
    expect(r.cmdline).toMatch(/ lockdown=confidentiality$/);
  });

  it('sdBootEnrollKeys off: no enrollment files; a signature from another key fails sbverify (the check can fail)', async () => {
    const out = join(work, 'image-off');
    const r = await buildOutput(profile('secureboot-metal', 'output: {outFormat: raw, imageOptions: {sdBootEnrollKeys: off}}'), { outputDir: out, repro, cache: new BlobCache(join(work, 'cache')) });
    const listing = spawnSync('mdir', ['-/', '-b', '-i', `${r.path!}@@${1 << 20}`, '::'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' }, encoding: 'utf8' });
    expect(listing.status, listing.stderr).toBe(0);
    expect(listing.stdout).not.toContain('.auth');
    const other = join(work, 'other-cert.pem');
    runTool('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(work, 'other-key.pem'), '-out', other, '-days', '1', '-subj', '/CN=other/']);
    const uki = join(work, 'uki-off.efi');
    spawnSync('sh', ['-c', `MTOOLS_SKIP_CHECK=1 mcopy -n -i "${r.path!}@@${1 << 20}" ::EFI/Linux/Talos-v1.11.0.efi "${uki}"`]);
    expect(runTool('sbverify', ['--cert', other, uki]).status).not.toBe(0);
    expect(sbverify(uki).status).toBe(0);
  });

  it('secureboot-installer: the artifacts layer holds the signed systemd-boot and UKI; installer-amd64-secureboot.tar', async () => {
    const out = join(work, 'installer');
    const r = await buildOutput(profile('secureboot-installer'), { outputDir: out, repro, cache: new BlobCache(join(work, 'cache')) });
    expect(r.name).toBe('installer-amd64-secureboot.tar');
    const manifest = JSON.parse(runTool('tar', ['-xOf', r.path!, 'manifest.json']).stdout) as Array<{ Layers: string[] }>;
    const dir = join(work, 'installer-x');
    mkdirSync(dir);
    runTool('tar', ['-xf', r.path!, '-C', dir, manifest[0]!.Layers.at(-1)!]);
    runTool('tar', ['-xzf', join(dir, manifest[0]!.Layers.at(-1)!), '-C', dir]);
    for (const f of ['usr/install/amd64/systemd-boot.efi', 'usr/install/amd64/vmlinuz.efi']) {
      const v = sbverify(join(dir, f));
      expect(v.status, `${f}: ${v.stdout}${v.stderr}`).toBe(0);
    }
  });

  it('a missing key file fails before any input is read (exit 6, naming the file)', async () => {
    const p = profile('secureboot-metal');
    p.input.secureboot!.pcrSigner.keyPath = join(work, 'nope.pem');
    await expect(buildOutput(p, { outputDir: join(work, 'missing'), repro, cache: new BlobCache(join(work, 'cache')) })).rejects.toMatchObject({
      exitCode: 6, message: expect.stringContaining(`cannot read PCR signing key ${join(work, 'nope.pem')}: ENOENT`),
    });
  });
});
