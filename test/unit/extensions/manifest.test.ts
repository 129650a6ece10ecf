import { describe, expect, it } from 'vitest';
import { dirEntry, fileFromBytes, type FileEntry } from '../../../src/core/file-tree.js';
import {
  checkTalosCompatibility, encodeExtensionManifest, encodeExtensionsConfig, loadExtension, parseExtensionManifest, parseVersionRange,
  trimVPrefixes,
} from '../../../src/boot/extensions/index.js';
import { parseStrictVersion } from '../../../src/profile/version.js';

const manifest = (body: string) => `version: v1alpha1\nmetadata:\n${body}`;

describe('extension manifest', () => {
  it('decodes like go-yaml into string fields', () => {
    const m = parseExtensionManifest(manifest(`  name: gvisor
  version: 1.10
  author: Andrew Rynhard
  description: ~
  unknown: ignored
  compatibility:
    talos:
      version: ">= v1.0.0"
  extraInfo: |
    line one
`), 'ext 0');
    expect(m.metadata).toEqual({
      name: 'gvisor', version: '1.10', author: 'Andrew Rynhard', description: '',
      compatibility: { talos: { version: '>= v1.0.0' } }, extraInfo: 'line one\n',
    });
  });

  it('rejects another version, non-string fields and broken YAML with the extension named', () => {
    expect(() => parseExtensionManifest('version: v1alpha2\nmetadata: {}\n', 'ext 3')).toThrow(/ext 3: unsupported manifest version: "v1alpha2"/);
    expect(() => parseExtensionManifest('metadata: {}\n', 'ext 3')).toThrow(/unsupported manifest version: ""/);
    expect(() => parseExtensionManifest(manifest('  name: [a, b]\n'), 'ext 1')).toThrow(/metadata.name must be a string/);
    expect(() => parseExtensionManifest('version: v1alpha1\nmetadata: [1]\n', 'ext 1')).toThrow(/metadata must be a mapping/);
    expect(() => parseExtensionManifest('version: [\n', 'ext 1')).toThrow(/ext 1/);
  });

  it('round-trips through its own encoder', () => {
    const m = parseExtensionManifest(manifest('  name: a\n  version: "1.0"\n  author: me\n  description: d\n'), 'x');
    expect(parseExtensionManifest(encodeExtensionManifest(m), 'x')).toEqual(m);
  });
});

describe('Talos version constraints (blang/semver ranges)', () => {
  const accepts = (range: string, v: string) => parseVersionRange(trimVPrefixes(range))(parseStrictVersion(v)!);
  it('evaluates comparators, AND, OR and wildcards', () => {
    expect(accepts('>= v1.0.0', '1.11.0')).toBe(true);
    expect(accepts('>= 1.5.0 < 1.8.0', '1.7.9')).toBe(true);
    expect(accepts('>= 1.5.0 < 1.8.0', '1.8.0')).toBe(false);
    expect(accepts('< 1.2.0 || >= 1.9.0', '1.10.0')).toBe(true);
    expect(accepts('< 1.2.0 || >= 1.9.0', '1.5.0')).toBe(false);
    expect(accepts('1.9.x', '1.9.7')).toBe(true);
    expect(accepts('1.9.x', '1.10.0')).toBe(false);
    expect(accepts('<= 1.x', '1.99.0')).toBe(true);
    expect(accepts('!=1.9.2', '1.9.2')).toBe(false);
    expect(accepts('> = 1.0.0', '1.0.1')).toBe(true);
    expect(trimVPrefixes('>= v1.0.0 <v2.0.0 dev')).toBe('>= 1.0.0 <2.0.0 dev');
  });

  it('checks the target without its pre-release and names the extension on failure', () => {
    expect(() => checkTalosCompatibility('>= v1.8.0', 'v1.8.0-beta.1', 'x')).not.toThrow();
    expect(() => checkTalosCompatibility('', 'v0.1.0', 'x')).not.toThrow();
    expect(() => checkTalosCompatibility('>= v1.12.0', 'v1.11.3', 'gvisor')).toThrow(
      'error validating extension "gvisor": version constraint >= v1.12.0 can\'t be satisfied with Talos version 1.11.3');
    expect(() => checkTalosCompatibility('>= 1.0', 'v1.11.3', 'bad')).toThrow(/error parsing Talos version constraint/);
    expect(() => checkTalosCompatibility('|| >= 1.0.0', 'v1.11.3', 'bad')).toThrow(/E?rror parsing/);
    try {
      checkTalosCompatibility('< 1.0.0', 'v1.11.0', 'old');
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(2);
    }
  });
});

describe('extension layout', () => {
  const tree = (extra: FileEntry[] = []): FileEntry[] => [
    fileFromBytes('manifest.yaml', manifest('  name: a\n  version: "1"\n  author: b\n  description: c\n')),
    dirEntry('rootfs'),
    fileFromBytes('rootfs/usr/local/x', 'x'),
    ...extra,
  ];

  it('loads manifest.yaml and rootfs/ with rootfs-relative paths', async () => {
    const ext = await loadExtension(tree(), '4');
    expect(ext.directory).toBe('4');
    expect(ext.manifest.metadata.name).toBe('a');
    expect(ext.rootfs.map((e) => e.path)).toEqual(['', 'usr/local/x']);
  });

  it('rejects anything else at the top, and missing parts', async () => {
    await expect(loadExtension(tree([fileFromBytes('README', 'x')]), '0')).rejects.toThrow('error loading extension 0: unexpected file "README"');
    await expect(loadExtension(tree().slice(1), '0')).rejects.toThrow(/extension manifest is missing/);
    await expect(loadExtension([tree()[0]!], '0')).rejects.toThrow(/extension rootfs is missing/);
  });
});

describe('extensions.yaml', () => {
  it('is written as go-yaml NewEncoder writes it (indent 4, quoting)', () => {
    const text = encodeExtensionsConfig([
      { image: '0.sqsh', metadata: { name: 'gvisor', version: '20220117.0-v1.0.0', author: 'Andrew Rynhard', description: 'gVisor', compatibility: { talos: { version: '>= v1.0.0' } } } },
      { image: '1.sqsh', metadata: { name: 'x', version: '1.10', author: 'yes', description: '', compatibility: { talos: { version: '' } }, extraInfo: 'a: b\n' } },
    ]);
    expect(text).toBe(`layers:
    - image: 0.sqsh
      metadata:
        name: gvisor
        version: 20220117.0-v1.0.0
        author: Andrew Rynhard
        description: gVisor
        compatibility:
            talos:
                version: '>= v1.0.0'
    - image: 1.sqsh
      metadata:
        name: x
        version: "1.10"
        author: 'yes'
        description: ""
        compatibility:
            talos:
                version: ""
        extraInfo: |
            a: b
`);
  });
});
