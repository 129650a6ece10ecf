import { describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../src/core/errors.js';
import { decodeProfile, profileFromObject } from '../../../src/profile/decode.js';
import { GoMap } from '../../../src/profile/go-value.js';

const err = (fn: () => unknown): ImagekitError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ImagekitError) return e;
    throw e;
  }
  throw new Error('expected an error');
};

describe('decodeProfile (go-yaml semantics, talos-imager.md §1)', () => {
  it('decodes the illustrative user profile of §1.5', () => {
    const p = decodeProfile(`baseProfileName: metal
arch: amd64
version: v1.14.0
customization:
  extraKernelArgs: ["console=ttyS0", "-selinux"]
  metaContents:
    - key: 0x0a
      value: "{...network config yaml...}"
input:
  systemExtensions:
    - imageRef: ghcr.io/siderolabs/iscsi-tools:v0.2.0
output:
  kind: image
  imageOptions: { bootloader: sd-boot }
  outFormat: raw
`);
    expect(p.baseProfileName).toBe('metal');
    expect(p.secureboot).toBeNull();
    expect(p.customization.extraKernelArgs).toEqual(['console=ttyS0', '-selinux']);
    expect(p.customization.metaContents).toEqual([{ key: 10, value: '{...network config yaml...}' }]);
    expect(p.input.systemExtensions).toEqual([{ imageRef: 'ghcr.io/siderolabs/iscsi-tools:v0.2.0', forceInsecure: false, tarballPath: '', ociPath: '' }]);
    expect(p.output).toMatchObject({ kind: 'image', outFormat: 'raw', imageOptions: { bootloader: 'sd-boot', diskSize: 0, diskFormat: 'unknown' }, isoOptions: null });
  });

  it('keeps the text of a scalar for string fields (version: 1.10 is not 1.1)', () => {
    expect(decodeProfile('version: 1.10\nplatform: 012\nname: true').version).toBe('1.10');
    expect(decodeProfile('platform: 012').platform).toBe('012');
    expect(decodeProfile('name: true').name).toBe('true');
    expect(decodeProfile('name: ~').name).toBe('');
  });

  it('ignores unknown and removed legacy keys (board, input.dtb)', () => {
    const p = decodeProfile('board: rpi_generic\narch: arm64\ninput:\n  dtb:\n    path: /x\nwhatever: [1, 2]');
    expect(p.arch).toBe('arm64');
    expect(Object.keys(p)).not.toContain('board');
    expect(Object.keys(p.input)).not.toContain('dtb');
  });

  it('bool fields accept YAML 1.1 words; *bool keeps nil apart from false', () => {
    expect(decodeProfile('secureboot: yes').secureboot).toBe(true);
    expect(decodeProfile('secureboot: Off').secureboot).toBe(false);
    expect(decodeProfile('secureboot: FALSE').secureboot).toBe(false);
    expect(decodeProfile('secureboot:').secureboot).toBeNull();
    expect(decodeProfile('arch: amd64').secureboot).toBeNull();
    expect(err(() => decodeProfile('secureboot: 1')).message).toContain('secureboot: cannot unmarshal !!int `1` into bool');
  });

  it('enums take the exact text or its lower-case form', () => {
    expect(decodeProfile('output: {kind: ISO, outFormat: .ZST}').output).toMatchObject({ kind: 'iso', outFormat: '.zst' });
    const e = err(() => decodeProfile('output:\n  kind: floppy'));
    expect(e.code).toBe('E_PROFILE_DECODE');
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('profile: output.kind: floppy does not belong to OutputKind values (unknown, iso, image, installer, kernel, initramfs, uki, cmdline)');
  });

  it('integers follow the Go type: hex, octal, range checks', () => {
    expect(decodeProfile('output: {imageOptions: {diskSize: 0x10, diskSectorSize: 4096}}').output.imageOptions).toMatchObject({ diskSize: 16, diskSectorSize: 4096 });
    expect(decodeProfile('customization: {metaContents: [{key: 017, value: a}]}').customization.metaContents[0]!.key).toBe(15);
    expect(decodeProfile('customization: {metaContents: [{key: 2.0, value: a}]}').customization.metaContents[0]!.key).toBe(2);
    expect(err(() => decodeProfile('customization: {metaContents: [{key: 256, value: a}]}')).message).toContain('customization.metaContents.0.key: cannot unmarshal !!int `256` into uint8');
    expect(err(() => decodeProfile('output: {imageOptions: {diskSize: 1.5}}')).message).toContain('into int64');
    expect(err(() => decodeProfile('output: {imageOptions: {diskSectorSize: -1}}')).message).toContain('into uint');
    expect(err(() => decodeProfile('output: {imageOptions: {diskSize: big}}')).message).toContain('cannot unmarshal !!str `big` into int64');
  });

  it('structure errors name the field', () => {
    expect(err(() => decodeProfile('arch: [amd64]')).message).toContain('arch: cannot unmarshal a sequence into string');
    expect(err(() => decodeProfile('input: 3')).message).toMatch(/^profile: input: /);
    expect(err(() => decodeProfile('just a string')).message).toMatch(/^profile: \(document\): /);
  });

  it('rejects duplicate keys, syntax errors and empty input', () => {
    expect(err(() => decodeProfile('arch: amd64\narch: arm64')).code).toBe('E_YAML_DUPLICATE_KEY');
    expect(err(() => decodeProfile('arch: [amd64')).code).toBe('E_YAML_SYNTAX');
    expect(err(() => decodeProfile('')).code).toBe('E_PROFILE_EMPTY');
    expect(err(() => decodeProfile('# only a comment\n')).code).toBe('E_PROFILE_EMPTY');
  });

  it('reads only the first document, expands aliases and << merges', () => {
    const p = decodeProfile('x: &ext {imageRef: a, forceInsecure: true}\ninput:\n  systemExtensions: [*ext, {<<: *ext, imageRef: b}]\n---\narch: arm64\n');
    expect(p.arch).toBe('');
    expect(p.input.systemExtensions.map((e) => [e.imageRef, e.forceInsecure])).toEqual([
      ['a', true],
      ['b', true],
    ]);
  });

  it('bounds alias expansion (billion laughs)', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill('*' + String.fromCharCode(96 + i)).join(', ')}]`);
    expect(err(() => decodeProfile(lines.join('\n'))).code).toBe('E_YAML_TOO_LARGE');
  });

  it('overlay options keep Go types (map[string]any)', () => {
    const p = decodeProfile('overlay:\n  name: rpi\n  options:\n    configTxtAppend: "dtoverlay=x"\n    n: 3\n    f: 1.5\n    nested: {1: a, b: [true, null]}\n');
    const o = p.overlay!.options;
    expect(o).toBeInstanceOf(GoMap);
    expect(o.get('configTxtAppend')).toBe('dtoverlay=x');
    expect(o.get('n')).toBe(3n);
    expect(o.get('f')).toBe(1.5);
    const nested = o.get('nested') as GoMap;
    expect(nested.get(1n)).toBe('a');
    expect(nested.get('b')).toEqual([true, null]);
  });

  it('profileFromObject accepts plain JavaScript values', () => {
    const p = profileFromObject({ arch: 'amd64', secureboot: false, output: { kind: 'cmdline' }, overlay: { options: { a: 1 } } });
    expect(p.secureboot).toBe(false);
    expect(p.output.kind).toBe('cmdline');
    expect(p.overlay!.options.get('a')).toBe(1n);
    expect(() => profileFromObject({ arch: 5 })).toThrow(/arch: cannot unmarshal number 5 into string/);
  });
});
