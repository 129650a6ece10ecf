import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../src/core/errors.js';
import { formatReference, isLoopbackRegistry, parseReference, referenceIdentifier } from '../../../src/oci/reference.js';

const D = 'sha256:' + 'a'.repeat(64);

describe('parseReference', () => {
  it.each([
    ['alpine', 'docker.io', 'library/alpine', 'latest', undefined],
    ['alpine:3.20', 'docker.io', 'library/alpine', '3.20', undefined],
    ['docker.io/alpine', 'docker.io', 'library/alpine', 'latest', undefined],
    ['index.docker.io/library/alpine:edge', 'docker.io', 'library/alpine', 'edge', undefined],
    ['user/repo', 'docker.io', 'user/repo', 'latest', undefined],
    ['ghcr.io/siderolabs/installer:v1.11.0', 'ghcr.io', 'siderolabs/installer', 'v1.11.0', undefined],
    ['ghcr.io/siderolabs/imager', 'ghcr.io', 'siderolabs/imager', 'latest', undefined],
    ['localhost/foo', 'localhost', 'foo', 'latest', undefined],
    ['localhost:5000/a/b/c:t', 'localhost:5000', 'a/b/c', 't', undefined],
    ['127.0.0.1:41234/ext/zfs:2.2', '127.0.0.1:41234', 'ext/zfs', '2.2', undefined],
    ['[::1]:5000/x', '[::1]:5000', 'x', 'latest', undefined],
    [`alpine@${D}`, 'docker.io', 'library/alpine', undefined, D],
    [`ghcr.io/a/b:v1@${D}`, 'ghcr.io', 'a/b', 'v1', D],
    ['Foo/bar', 'Foo', 'bar', 'latest', undefined],
    ['a.b-c--d/x__y.z-w', 'a.b-c--d', 'x__y.z-w', 'latest', undefined],
  ])('%s', (input, registry, repository, tag, digest) => {
    const r = parseReference(input);
    expect(r.registry).toBe(registry);
    expect(r.repository).toBe(repository);
    expect(r.tag).toBe(tag);
    expect(r.digest).toBe(digest);
  });

  it('digest wins over the tag for what is fetched', () => {
    const r = parseReference(`ghcr.io/a/b:v1@${D}`);
    expect(referenceIdentifier(r)).toBe(D);
    expect(formatReference(r)).toBe(`ghcr.io/a/b:v1@${D}`);
  });

  it.each([
    ['', /empty/],
    ['UPPER', /lower case/],
    ['ghcr.io/Sidero/x', /lower case/],
    ['ghcr.io/a//b', /empty path component/],
    ['ghcr.io/a/b:', /tag/],
    ['ghcr.io/a/b:-x', /tag/],
    ['ghcr.io/a/b@sha256:abc', /64 lower-case hex/],
    [`ghcr.io/a/b@md5:${'a'.repeat(32)}`, /unsupported digest algorithm/],
    ['https://ghcr.io/a/b', /URL scheme/],
    ['ghcr.io/a b', /white space/],
    ['ghcr.io:99999/a', /port/],
    ['ghcr.io/a/b_', /component/],
    ['-bad.io/x', /registry/],
    ['x'.repeat(300), /name longer|longer/],
    [':tag', /missing repository/],
  ])('rejects %j', (input, why) => {
    expect(() => parseReference(input)).toThrow(why);
    try {
      parseReference(input);
    } catch (e) {
      expect(e).toBeInstanceOf(ImagekitError);
      expect((e as ImagekitError).exitCode).toBe(input.includes('md5') ? 3 : 2);
    }
  });

  it('defaultTag null keeps a bare name without tag', () => {
    expect(parseReference('ghcr.io/a/b', { defaultTag: null }).tag).toBeUndefined();
  });

  it('loopback detection', () => {
    expect(isLoopbackRegistry('127.0.0.1:5000')).toBe(true);
    expect(isLoopbackRegistry('localhost')).toBe(true);
    expect(isLoopbackRegistry('[::1]:5000')).toBe(true);
    expect(isLoopbackRegistry('ghcr.io')).toBe(false);
    expect(isLoopbackRegistry('127.0.0.1.example.com')).toBe(false);
  });
});

describe('parseReference properties', () => {
  const comp = fc.stringMatching(/^[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}$/);
  const host = fc.oneof(
    fc.constantFrom('docker.io', 'ghcr.io', 'quay.io', 'localhost', '127.0.0.1', 'registry.example.com'),
    fc.tuple(fc.constantFrom('localhost', '127.0.0.1', 'r.example'), fc.integer({ min: 1, max: 65535 })).map(([h, p]) => `${h}:${p}`),
  );
  const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
  const digest = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`);

  it('format(parse(x)) is a fixed point and keeps every part', () => {
    fc.assert(
      fc.property(host, fc.array(comp, { minLength: 1, maxLength: 4 }), fc.option(tag), fc.option(digest), (h, path, t, d) => {
        const input = `${h}/${path.join('/')}${t !== null ? ':' + t : ''}${d !== null ? '@' + d : ''}`;
        const r = parseReference(input);
        const again = parseReference(formatReference(r));
        expect(again).toEqual(r);
        if (d !== null) expect(r.digest).toBe(d);
        if (t !== null) expect(r.tag).toBe(t);
        if (h !== 'docker.io') expect(r.repository).toBe(path.join('/'));
      }),
      { seed: 42, numRuns: 400 },
    );
  });

  it('any string either parses or throws an ImagekitError (never anything else)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.stringMatching(/^[a-zA-Z0-9.:/@_-]{0,60}$/)), (s) => {
        try {
          const r = parseReference(s);
          expect(r.registry.length).toBeGreaterThan(0);
          expect(r.repository).toMatch(/^[a-z0-9]/);
        } catch (e) {
          expect(e).toBeInstanceOf(ImagekitError);
        }
      }),
      { seed: 42, numRuns: 2000 },
    );
  });
});
