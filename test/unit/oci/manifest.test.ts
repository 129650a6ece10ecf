import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../src/core/errors.js';
import { encodeJson, parseImageConfig, parseManifest, selectPlatform } from '../../../src/oci/manifest.js';
import { MediaType } from '../../../src/oci/media-types.js';
import { parsePlatform, platformMatches, formatPlatform } from '../../../src/oci/platform.js';

const d = (c: string) => 'sha256:' + c.repeat(64);
const desc = (c: string, extra: object = {}) => ({ mediaType: MediaType.ociManifest, digest: d(c), size: 10, ...extra });

describe('parseManifest', () => {
  it('reads an OCI index and selects platforms', () => {
    const idx = {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        desc('1', { platform: { os: 'linux', architecture: 'amd64' } }),
        desc('2', { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }),
        desc('3', { platform: { os: 'linux', architecture: 'arm', variant: 'v7' } }),
        desc('4', { platform: { os: 'unknown', architecture: 'unknown' } }),
      ],
    };
    const p = parseManifest(encodeJson(idx), MediaType.ociIndex, 'test');
    expect(p.kind).toBe('index');
    if (p.kind !== 'index') return;
    expect(selectPlatform(p.index, parsePlatform('linux/arm64'), 'x').digest).toBe(d('2'));
    expect(selectPlatform(p.index, parsePlatform('linux/arm64/v8'), 'x').digest).toBe(d('2'));
    expect(selectPlatform(p.index, parsePlatform('amd64'), 'x').digest).toBe(d('1'));
    expect(selectPlatform(p.index, parsePlatform('linux/arm/v7'), 'x').digest).toBe(d('3'));
    expect(() => selectPlatform(p.index, parsePlatform('linux/s390x'), 'ghcr.io/a/b:v1')).toThrow(
      /ghcr.io\/a\/b:v1 has no image for platform linux\/s390x \(available: linux\/amd64, linux\/arm64\/v8, linux\/arm\/v7, unknown\/unknown\)/,
    );
    expect(() => selectPlatform(p.index, parsePlatform('linux/arm/v6'), 'x')).toThrow(/E?no image for platform linux\/arm\/v6/);
  });

  it('reads a Docker manifest list and schema 2 manifest by Content-Type', () => {
    const list = { schemaVersion: 2, manifests: [desc('1', { mediaType: MediaType.dockerManifest, platform: { os: 'linux', architecture: 'amd64' } })] };
    expect(parseManifest(encodeJson(list), MediaType.dockerManifestList + '; charset=utf-8', 't').kind).toBe('index');
    const m = { schemaVersion: 2, mediaType: MediaType.dockerManifest, config: { mediaType: MediaType.dockerConfig, digest: d('c'), size: 2 }, layers: [{ mediaType: MediaType.dockerLayer, digest: d('b'), size: 3 }] };
    const p = parseManifest(encodeJson(m), 'application/json', 't');
    expect(p).toMatchObject({ kind: 'manifest', mediaType: MediaType.dockerManifest });
  });

  it('infers the kind from the shape when nothing declares it', () => {
    expect(parseManifest(encodeJson({ schemaVersion: 2, manifests: [] }), undefined, 't').kind).toBe('index');
    expect(parseManifest(encodeJson({ schemaVersion: 2, config: desc('c'), layers: [] }), undefined, 't').kind).toBe('manifest');
  });

  it.each([
    [{ schemaVersion: 1, name: 'x' }, /schema 1/],
    [{ schemaVersion: 2, config: desc('c'), layers: [{ mediaType: 'x', digest: 'sha256:zz', size: 1 }] }, /malformed digest|hex/],
    [{ schemaVersion: 2, config: desc('c'), layers: [{ mediaType: 'x', digest: d('a'), size: -1 }] }, /size/],
    [{ schemaVersion: 2, config: desc('c'), layers: [{ mediaType: 'x', digest: d('a'), size: 2 ** 60 }] }, /size/],
    [{ schemaVersion: 2, config: desc('c'), layers: 'no' }, /layers must be an array/],
    [{ schemaVersion: 3 }, /schemaVersion/],
    [{ schemaVersion: 2, mediaType: 'application/x-unknown' }, /unsupported manifest media type/],
    [{ schemaVersion: 2, manifests: [{ ...desc('1'), platform: { os: 1 } }] }, /platform/],
  ])('rejects %j', (doc, why) => {
    expect(() => parseManifest(encodeJson(doc), undefined, 'test')).toThrow(why);
  });

  it('rejects a Content-Type that disagrees with the document', () => {
    const m = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: desc('c'), layers: [] };
    expect(() => parseManifest(encodeJson(m), MediaType.ociIndex, 't')).toThrow(/disagrees/);
  });

  it('rejects oversize and non-JSON documents', () => {
    expect(() => parseManifest(new Uint8Array(5 * 1024 * 1024), undefined, 't')).toThrow(/limit/);
    expect(() => parseManifest(new TextEncoder().encode('[1]'), undefined, 't')).toThrow(/JSON object/);
    expect(() => parseManifest(new Uint8Array([0xff, 0xfe]), undefined, 't')).toThrow(/UTF-8 JSON/);
  });

  it('fuzz: random JSON never yields anything but a result or an ImagekitError', () => {
    const descArb = fc.record({
      mediaType: fc.oneof(fc.constant(MediaType.ociLayerGzip), fc.string()),
      digest: fc.oneof(fc.stringMatching(/^sha256:[0-9a-f]{64}$/), fc.string()),
      size: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string()),
      platform: fc.option(fc.record({ os: fc.oneof(fc.constant('linux'), fc.nat()), architecture: fc.constant('amd64') }), { nil: undefined }),
    }, { requiredKeys: [] });
    const doc = fc.record({
      schemaVersion: fc.oneof(fc.constant(2), fc.nat(3)),
      mediaType: fc.option(fc.constantFrom(MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifest, 'x/y'), { nil: undefined }),
      manifests: fc.option(fc.array(descArb, { maxLength: 4 }), { nil: undefined }),
      config: fc.option(descArb, { nil: undefined }),
      layers: fc.option(fc.oneof(fc.array(descArb, { maxLength: 4 }), fc.anything()), { nil: undefined }),
    }, { requiredKeys: [] });
    fc.assert(
      fc.property(doc, fc.option(fc.constantFrom(MediaType.ociIndex, MediaType.dockerManifest, 'application/json'), { nil: undefined }), (v, ct) => {
        try {
          const p = parseManifest(encodeJson(v), ct, 'fuzz');
          const list = p.kind === 'index' ? p.index.manifests : [p.manifest.config, ...p.manifest.layers];
          for (const x of list) {
            expect(Number.isSafeInteger(x.size) && x.size >= 0).toBe(true);
            expect(x.digest).toMatch(/^sha(256|512):[0-9a-f]+$/);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(ImagekitError);
        }
      }),
      { seed: 42, numRuns: 1500 },
    );
  });
});

describe('image config', () => {
  it('validates diff_ids', () => {
    const ok = parseImageConfig(encodeJson({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [d('1')] } }), 'c');
    expect(ok.rootfs?.diff_ids).toEqual([d('1')]);
    expect(() => parseImageConfig(encodeJson({ rootfs: { type: 'layers', diff_ids: ['nope'] } }), 'c')).toThrow(/malformed digest/);
    expect(() => parseImageConfig(encodeJson({ architecture: 3 }), 'c')).toThrow(/architecture must be a string/);
  });
});

describe('platform', () => {
  it('parses, normalises and formats', () => {
    expect(parsePlatform('linux/aarch64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(parsePlatform('x86_64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(formatPlatform(parsePlatform('linux/arm/v7'))).toBe('linux/arm/v7');
    expect(() => parsePlatform('linux/amd64/v3/x')).toThrow(/os\/architecture/);
    expect(() => parsePlatform('')).toThrow(/invalid platform/);
  });
  it('variant matching', () => {
    expect(platformMatches(parsePlatform('linux/arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' })).toBe(true);
    expect(platformMatches(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' })).toBe(true);
    expect(platformMatches(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v6' })).toBe(false);
    expect(platformMatches(parsePlatform('linux/arm'), { os: 'linux', architecture: 'arm', variant: 'v6' })).toBe(true);
    expect(platformMatches(parsePlatform('linux/amd64'), { os: 'windows', architecture: 'amd64' })).toBe(false);
  });
});
