/**
 * Properties of the schematic codec (fixed seed): the canonical form is a fixed point of
 * decode∘serialize, the ID does not depend on key order nor on JSON vs YAML input, and strings that
 * need quoting survive the round trip.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { text } from './arbitraries.js';
import {
  canonicalYaml,
  decodeSchematic,
  newOverlayOptions,
  schematicId,
  YamlTimestamp,
  type SchematicOverlayOptions,
  type OverlayOptionValue,
  type Schematic,
} from '../../../src/schematic/index.js';

const intValue = fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n });
const floatValue = fc.double({ noDefaultInfinity: false, noNaN: false });
const timestamp = fc
  .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => new YamlTimestamp(d.toISOString().replace(/\.000Z$/, 'Z').replace(/(\.\d*?)0+Z$/, '$1Z')));

const optionValue: fc.Arbitrary<OverlayOptionValue> = fc.letrec<{ v: OverlayOptionValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    intValue,
    floatValue,
    text,
    timestamp,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(text, tie('v'), { maxKeys: 3 }).map((o) => Object.assign(newOverlayOptions(), o)),
  ),
})).v;

const options = fc.dictionary(text, optionValue, { maxKeys: 4 }).map((o) => Object.assign(newOverlayOptions(), o) as SchematicOverlayOptions);

const schematic: fc.Arbitrary<Schematic> = fc.record(
  {
    owner: text,
    overlay: fc.record({ image: text, name: text, options }, { requiredKeys: ['image', 'name'] }),
    customization: fc.record(
      {
        embeddedMachineConfiguration: text,
        extraKernelArgs: fc.array(text, { maxLength: 4 }),
        meta: fc.array(fc.record({ key: fc.integer({ min: 0, max: 255 }), value: text }), { maxLength: 3 }),
        systemExtensions: fc.record({ officialExtensions: fc.array(text, { maxLength: 4 }) }),
        bootloader: fc.constantFrom('dual-boot' as const, 'sd-boot' as const, 'grub' as const),
        secureboot: fc.record({ enrollKeys: text, includeWellKnownCertificates: fc.boolean() }, { requiredKeys: [] }),
        diskImage: fc.record({ sectorSize: fc.oneof(fc.integer({ min: 0, max: 1 << 20 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })) }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['customization'] },
);

const enterprise = { enterprise: true };

describe('schematic properties', () => {
  it('canonical(decode(canonical(x))) == canonical(x)', () => {
    fc.assert(
      fc.property(schematic, (s) => {
        const c = canonicalYaml(s);
        expect(canonicalYaml(decodeSchematic(c, enterprise))).toBe(c);
      }),
      { seed: 42, numRuns: 400 },
    );
  });

  it('strings that need quoting come back unchanged', () => {
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 5 }), text, (argList, emc) => {
        const s = decodeSchematic(canonicalYaml({ customization: { extraKernelArgs: argList, embeddedMachineConfiguration: emc } }));
        expect(s.customization.extraKernelArgs).toEqual(argList);
        expect(s.customization.embeddedMachineConfiguration ?? '').toBe(emc);
      }),
      { seed: 42, numRuns: 600 },
    );
  });

  it('option keys and values come back unchanged (as canonical text)', () => {
    fc.assert(
      fc.property(options, (o) => {
        const s: Schematic = { overlay: { image: 'i', name: 'x', options: o }, customization: {} };
        const back = decodeSchematic(canonicalYaml(s)).overlay?.options ?? newOverlayOptions();
        expect(Object.keys(back).sort()).toEqual(Object.keys(o).sort());
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('the ID does not depend on key order nor on JSON vs YAML input', () => {
    fc.assert(
      fc.property(schematic, fc.integer(), (s, salt) => {
        const want = schematicId(s);
        const json = render(s, 'json', salt);
        const yaml = render(s, 'yaml', salt + 1);
        expect(schematicId(decodeSchematic(json, enterprise)), json).toBe(want);
        expect(schematicId(decodeSchematic(yaml, enterprise)), yaml).toBe(want);
      }),
      { seed: 42, numRuns: 150 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Rendering a model as request text in other forms: JSON (flow) or block YAML, keys shuffled,
// strings double-quoted with JSON escapes, integers in varying go-yaml spellings.

type Form = 'json' | 'yaml';

function shuffled<T>(items: T[], salt: number): T[] {
  const out = items.slice();
  let x = (salt >>> 0) || 1;
  for (let i = out.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function intText(v: bigint, salt: number): string {
  if (v < 0n) return v.toString();
  switch ((salt >>> 0) % 4) {
    case 0:
      return `0x${v.toString(16)}`;
    case 1:
      return v === 0n ? '0' : `0o${v.toString(8)}`;
    case 2:
      return v.toString().replace(/^(\d)(\d)/, '$1_$2');
    default:
      return v.toString();
  }
}

function floatText(f: number): string {
  if (Number.isNaN(f)) return '.nan';
  if (f === Infinity) return '.inf';
  if (f === -Infinity) return '-.inf';
  if (Object.is(f, -0)) return '-0.0';
  const s = String(f);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/** A JSON string literal with the characters a YAML reader does not take raw also escaped. */
function quote(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function value(v: unknown, form: Form, indent: number, salt: number): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return intText(v, salt);
  if (typeof v === 'number') return floatText(v);
  if (typeof v === 'string') return quote(v);
  if (v instanceof YamlTimestamp) return v.text;
  const pad = ' '.repeat(indent);
  if (Array.isArray(v)) {
    if (form === 'json' || v.length === 0) return `[${v.map((x, i) => value(x, 'json', 0, salt + i)).join(', ')}]`;
    return v.map((x, i) => `\n${pad}- ${value(x, form, indent + 2, salt + i).replace(/^\n\s*/, '')}`).join('');
  }
  const entries = shuffled(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined), salt);
  if (form === 'json' || entries.length === 0) {
    return `{${entries.map(([k, x], i) => `${quote(k)}: ${value(x, 'json', 0, salt + i)}`).join(', ')}}`;
  }
  return entries.map(([k, x], i) => `\n${pad}${quote(k)}: ${value(x, form, indent + 2, salt + i)}`).join('');
}

function render(s: Schematic, form: Form, salt: number): string {
  const out = value(s, form, 0, salt);
  return form === 'yaml' ? `${out.replace(/^\n/, '')}\n` : out;
}
