/**
 * Hostile input: random bytes and random YAML-token soup either decode or fail with an
 * ImagekitError (exit 2, or 3 for a non-UTF-8 !!binary) — never another exception, never a hang.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../src/core/errors.js';
import { canonicalYaml, decodeSchematic } from '../../../src/schematic/index.js';

function decodeOrInvalid(input: string | Uint8Array): void {
  try {
    const s = decodeSchematic(input, { enterprise: true });
    // Whatever decodes serializes.
    expect(typeof canonicalYaml(s)).toBe('string');
  } catch (e) {
    expect(e).toBeInstanceOf(ImagekitError);
    expect([2, 3]).toContain((e as ImagekitError).exitCode);
    expect((e as Error).message).not.toContain('\n');
  }
}

const TOKENS = [
  'customization:', 'overlay:', 'options:', 'meta:', 'key:', 'value:', 'extraKernelArgs:', 'bootloader:', 'secureboot:',
  'includeWellKnownCertificates:', 'diskImage:', 'sectorSize:', 'systemExtensions:', 'officialExtensions:', 'owner:', 'name:', 'image:',
  '\n', '\n  ', '\n    ', '- ', '[', ']', '{', '}', ',', ' ', '&a ', '*a', '&b ', '*b', '<<: ', '!!binary ', '!!str ', '!!int ', '!foo ',
  '"x"', "'y'", '|', '|-', '>', '~', 'null', 'yes', '0x1F', '012', '1.5', '2001-12-14', '---\n', '...\n', '#c', '? ', ': ', '10', '-1', '\t',
  'aGVsbG8=', '/w==', '%YAML 1.1\n', '"\\ud800"', '"\\U0001F600"',
];

describe('hostile schematic input', () => {
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => decodeOrInvalid(b)), { seed: 42, numRuns: 1000 });
  });
  it('random text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => decodeOrInvalid(s)), { seed: 42, numRuns: 1000 });
  });
  it('YAML token soup', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }), (t) => decodeOrInvalid(t.join(''))),
      { seed: 42, numRuns: 1500 },
    );
  });
  it('deep nesting and a large alias fan-out stay bounded', () => {
    decodeOrInvalid(`overlay:\n  options:\n    x: ${'['.repeat(2000)}${']'.repeat(2000)}\n`);
    const wide = `overlay:\n  options:\n    a: &a [${Array(1000).fill('1').join(',')}]\n    b: [${Array(1000).fill('*a').join(',')}]\n`;
    decodeOrInvalid(wide);
  });
});
