import { describe, expect, it } from 'vitest';
import { decodeProfile } from '../../../src/profile/decode.js';
import { GoMap } from '../../../src/profile/go-value.js';
import { mergeProfile } from '../../../src/profile/merge.js';
import { builtinBaseProfile } from '../../../src/profile/base-profiles.js';

const merge = (left: string, right: string) => mergeProfile(decodeProfile(left), decodeProfile(right));

describe('mergeProfile (talos-imager.md §1.3)', () => {
  it('scalars: the right side wins unless it is the zero value', () => {
    expect(merge('platform: metal\narch: amd64', 'platform: aws').platform).toBe('aws');
    expect(merge('platform: metal\narch: amd64', 'platform: aws').arch).toBe('amd64');
    expect(merge('output: {kind: image}', 'output: {kind: unknown}').output.kind).toBe('image');
    expect(merge('output: {imageOptions: {diskSize: 5, bootloader: grub}}', 'output: {imageOptions: {diskSize: 0}}').output.imageOptions).toMatchObject({ diskSize: 5, bootloader: 'grub' });
  });

  it('plain booleans are always copied, even false', () => {
    const m = merge('input: {baseInstaller: {imageRef: a, forceInsecure: true}}', 'input: {baseInstaller: {imageRef: b}}');
    expect(m.input.baseInstaller).toMatchObject({ imageRef: 'b', forceInsecure: false });
    const sb = merge('input: {secureboot: {includeWellKnownCerts: true}}', 'input: {secureboot: {platformKeyPath: /pk}}');
    expect(sb.input.secureboot).toMatchObject({ includeWellKnownCerts: false, platformKeyPath: '/pk' });
  });

  it('pointers: nil right ignored, nil left takes right, *bool pointee overwritten', () => {
    expect(merge('secureboot: true', 'arch: amd64').secureboot).toBe(true);
    expect(merge('secureboot: true', 'secureboot: false').secureboot).toBe(false);
    expect(merge('arch: amd64', 'secureboot: false').secureboot).toBe(false);
    expect(merge('arch: amd64', 'output: {isoOptions: {sdBootEnrollKeys: force}}').output.isoOptions).toEqual({ sdBootEnrollKeys: 'force', bootloader: 'none' });
    expect(merge('output: {isoOptions: {sdBootEnrollKeys: force}}', 'arch: amd64').output.isoOptions).toEqual({ sdBootEnrollKeys: 'force', bootloader: 'none' });
  });

  it('slices are concatenated, left then right', () => {
    const m = merge('customization: {extraKernelArgs: [a, b], metaContents: [{key: 1, value: x}]}', 'customization: {extraKernelArgs: [c], metaContents: [{key: 2, value: y}]}');
    expect(m.customization.extraKernelArgs).toEqual(['a', 'b', 'c']);
    expect(m.customization.metaContents.map((v) => v.key)).toEqual([1, 2]);
  });

  it('maps merge key by key; type mismatch is an error', () => {
    const m = merge('overlay: {name: a, options: {x: 1, keep: s, deep: {a: 1, l: [1]}}}', 'overlay: {options: {x: 2, new: true, deep: {b: 2, l: [2]}}}');
    const o = m.overlay!.options;
    expect(o.get('x')).toBe(2n);
    expect(o.get('keep')).toBe('s');
    expect(o.get('new')).toBe(true);
    const deep = o.get('deep') as GoMap;
    expect(deep.get('a')).toBe(1n);
    expect(deep.get('b')).toBe(2n);
    expect(deep.get('l')).toEqual([1n, 2n]);
    expect(m.overlay!.name).toBe('a');
    expect(() => merge('overlay: {options: {x: 1}}', 'overlay: {options: {x: one}}')).toThrow(/merge type mismatch at overlay.options\[x\]: int and string/);
  });

  it('does not modify its inputs', () => {
    const base = builtinBaseProfile('metal')!;
    const user = decodeProfile('customization: {extraKernelArgs: [a]}\noutput: {imageOptions: {diskSize: 7}}');
    const before = JSON.stringify([base, user]);
    const m = mergeProfile(base, user);
    m.output.imageOptions!.diskSize = 1;
    m.customization.extraKernelArgs.push('z');
    expect(JSON.stringify([base, user])).toBe(before);
  });
});
