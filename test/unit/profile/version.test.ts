import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareVersions, formatVersion, parseStrictVersion, parseTalosVersion } from '../../../src/profile/version.js';

const fmt = (s: string) => {
  const v = parseTalosVersion(s);
  return v && formatVersion(v);
};

describe('parseTalosVersion (blang/semver ParseTolerant)', () => {
  it.each([
    ['v1.11.0', '1.11.0'],
    ['1.11.0', '1.11.0'],
    ['  v1.14.0-beta.1\n', '1.14.0-beta.1'],
    ['1.10', '1.10.0'],
    ['1', '1.0.0'],
    ['v01.02.03', '1.2.3'],
    ['1.2.0-beta', '1.2.0-beta'],
    ['1.2.3+build.7', '1.2.3+build.7'],
    ['1.2.3-rc.1+abc', '1.2.3-rc.1+abc'],
  ])('%j → %s', (input, want) => expect(fmt(input)).toBe(want));

  it.each(['', 'v', 'latest', '1.2-beta', '1.x.0', '1.2.3-', '1.2.3-01', '1.2.3+', '1.2.3-a..b', 'vv1.2.3', '99999999999999999999.0.0'])(
    'rejects %j',
    (input) => expect(parseTalosVersion(input)).toBeNull(),
  );

  it('strict parsing refuses leading zeros and missing parts', () => {
    expect(parseStrictVersion('01.2.3')).toBeNull();
    expect(parseStrictVersion('1.2')).toBeNull();
    expect(parseStrictVersion('1.2.3')).not.toBeNull();
  });
});

describe('compareVersions (semver precedence)', () => {
  const cmp = (a: string, b: string) => compareVersions(parseStrictVersion(a)!, parseStrictVersion(b)!);
  it.each([
    ['1.10.0', '1.9.0', 1],
    ['1.10.0', '1.10.0', 0],
    ['1.10.0-alpha.1', '1.10.0', -1],
    ['1.11.0-alpha.3', '1.11.0-alpha.10', -1],
    ['1.11.0-alpha', '1.11.0-alpha.1', -1],
    ['1.11.0-1', '1.11.0-alpha', -1],
    ['1.11.0-beta', '1.11.0-alpha.9', 1],
    ['1.2.3+a', '1.2.3+b', 0],
  ])('%s vs %s = %i', (a, b, want) => expect(cmp(a, b)).toBe(want));

  it('is antisymmetric and agrees with formatting round trips', () => {
    const ver = fc
      .tuple(fc.nat(30), fc.nat(30), fc.nat(30), fc.array(fc.oneof(fc.constantFrom('alpha', 'beta', 'rc'), fc.nat(20).map(String)), { maxLength: 3 }))
      .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre.length ? '-' + pre.join('.') : ''}`);
    fc.assert(
      fc.property(ver, ver, (a, b) => {
        const x = parseStrictVersion(a)!;
        const y = parseStrictVersion(b)!;
        expect(formatVersion(x)).toBe(a);
        expect(compareVersions(x, y)).toBe(-compareVersions(y, x));
        if (a === b) expect(compareVersions(x, y)).toBe(0);
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
