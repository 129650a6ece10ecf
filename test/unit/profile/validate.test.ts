import { describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../src/core/errors.js';
import { decodeProfile } from '../../../src/profile/decode.js';
import { finalOutputPath, outputPath } from '../../../src/profile/output-path.js';
import { baseProfileForTarget, resolveProfile } from '../../../src/profile/resolve.js';
import { validateProfile } from '../../../src/profile/validate.js';

const noFiles = { fileExists: () => false };
const resolve = (yaml: string) => resolveProfile(decodeProfile(yaml), noFiles);
function failure(yaml: string): ImagekitError {
  try {
    resolve(yaml);
  } catch (e) {
    if (e instanceof ImagekitError) return e;
    throw e;
  }
  throw new Error('expected a validation error');
}

describe('validateProfile (talos-imager.md §1.6)', () => {
  it.each([
    ['arch: x86\nplatform: metal\noutput: {kind: cmdline}', 'E_PROFILE_ARCH', 'invalid arch "x86"'],
    ['arch: amd64\noutput: {kind: cmdline}', 'E_PROFILE_PLATFORM', 'platform is required'],
    ['arch: amd64\nplatform: metal\nsecureboot: true\nversion: v1.4.0\noutput: {kind: cmdline}', 'E_PROFILE_SECUREBOOT_VERSION', 'secureboot is not supported for Talos version "v1.4.0"'],
    ['arch: amd64\nplatform: metal', 'E_PROFILE_OUTPUT_KIND', 'unknown output kind'],
    ['arch: amd64\nplatform: metal\nversion: 1.10.0\noutput: {kind: image, imageOptions: {bootloader: grub}}', 'E_PROFILE_DISK_SIZE', 'disk size is required for image output'],
    ['arch: amd64\nplatform: metal\noutput: {kind: installer}\ncustomization: {metaContents: [{key: 10, value: x}]}', 'E_PROFILE_META', 'customization of meta partition is not supported for installer output'],
    ['arch: amd64\nplatform: metal\nsecureboot: true\noutput: {kind: kernel}', 'E_PROFILE_SECUREBOOT', 'secureboot is not supported for kernel output'],
    ['arch: amd64\nplatform: metal\noutput: {kind: initramfs}\ncustomization: {extraKernelArgs: [a]}', 'E_PROFILE_KERNEL_ARGS', 'customization of kernel args is not supported for initramfs output'],
    ['arch: amd64\nplatform: metal\noutput: {kind: kernel}\ncustomization: {metaContents: [{key: 10, value: x}]}', 'E_PROFILE_META', 'customization of meta partition is not supported for kernel output'],
  ])('%j → %s', (yaml, code, message) => {
    const e = failure(yaml);
    expect(e.code).toBe(code);
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(`profile is invalid: ${message}`);
  });

  it('checks that FillDefaults cannot repair', () => {
    const p = baseProfileForTarget('iso', { arch: 'amd64', version: '1.12.0' }, noFiles);
    p.output.isoOptions!.bootloader = 'none';
    expect(() => validateProfile(p)).toThrow("bootloader cannot be 'none' for ISO output");
    p.version = '1.11.0';
    expect(() => validateProfile(p)).not.toThrow();
    const img = baseProfileForTarget('metal', { arch: 'amd64', version: '1.12.0' }, noFiles);
    img.output.imageOptions!.bootloader = 'none';
    expect(() => validateProfile(img)).toThrow("bootloader cannot be 'none' for disk image output");
    img.output.imageOptions = null;
    expect(() => validateProfile(img)).toThrow('image options are required for image output');
  });

  it('accepts what the imager accepts: cmdline/uki with anything, installer with kernel args', () => {
    expect(() => resolve('arch: arm64\nplatform: aws\noutput: {kind: cmdline}\ncustomization: {extraKernelArgs: [a], metaContents: [{key: 1, value: b}]}')).not.toThrow();
    expect(() => resolve('arch: arm64\nplatform: aws\noutput: {kind: installer}\ncustomization: {extraKernelArgs: [a]}')).not.toThrow();
    expect(() => resolve('arch: arm64\nplatform: nope\nsecureboot: true\noutput: {kind: uki}')).not.toThrow();
  });
});

describe('outputPath (talos-imager.md §1.7)', () => {
  const name = (base: string, arch = 'amd64', version = '1.12.0') => finalOutputPath(baseProfileForTarget(base, { arch, version }, noFiles));
  it.each([
    ['metal', 'metal-amd64.raw.zst'],
    ['metal-4k', 'metal-amd64.raw.zst'],
    ['aws', 'aws-amd64.raw.zst'],
    ['digital-ocean', 'digital-ocean-amd64.raw.gz'],
    ['akamai', 'akamai-amd64.raw.gz'],
    ['alibabacloud', 'alibabacloud-amd64.qcow2'],
    ['exoscale', 'exoscale-amd64.qcow2.zst'],
    ['azure', 'azure-amd64.vhd.zst'],
    ['vmware', 'vmware-amd64.ova'],
    ['gcp', 'gcp-amd64.raw.tar.gz'],
    ['iso', 'metal-amd64.iso'],
    ['secureboot-iso', 'metal-amd64-secureboot.iso'],
    ['installer', 'installer-amd64.tar'],
    ['secureboot-installer', 'installer-amd64-secureboot.tar'],
    ['secureboot-metal-uki', 'metal-amd64-secureboot-uki.efi'],
  ])('%s → %s', (base, file) => expect(name(base)).toBe(file));

  it('kernel, initramfs and cmdline names', () => {
    const p = resolve('arch: arm64\nplatform: metal\nsecureboot: true\noutput: {kind: cmdline, outFormat: raw}');
    expect(outputPath(p)).toBe('cmdline-metal-arm64-secureboot');
    p.output.kind = 'initramfs';
    expect(outputPath(p)).toBe('initramfs-metal-arm64-secureboot.xz');
    p.output.kind = 'kernel';
    expect(outputPath(p)).toBe('kernel-arm64');
    p.output.outFormat = 'unknown';
    expect(() => finalOutputPath(p)).toThrow('unknown output format');
  });
});
