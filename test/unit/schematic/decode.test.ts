/**
 * Decoding rules of image-factory.md §1.3 (go-yaml with known fields, unique keys, raw scalar text)
 * and upstream's error texts.
 */
import { describe, expect, it } from 'vitest';
import { canonicalYaml, decodeSchematic, upstreamMessage, YamlTimestamp } from '../../../src/schematic/index.js';

function errorOf(input: string | Uint8Array, enterprise = false): string {
  try {
    decodeSchematic(input, { enterprise });
  } catch (e) {
    const msg = upstreamMessage(e);
    if (msg === undefined) throw e;
    expect((e as { exitCode: number }).exitCode).toBe(2);
    expect((e as Error).message).not.toContain('\n');
    return msg;
  }
  throw new Error(`accepted: ${String(input)}`);
}

const args = (list: string) => decodeSchematic(`customization:\n  extraKernelArgs: ${list}\n`).customization.extraKernelArgs;

describe('string fields take any scalar\'s source text', () => {
  it('numbers, bools, hex keep their text; null items are dropped', () => {
    expect(args('[123, true, ~, 1.50, 0x10, "x", null, 012, 1_000, 2001-12-14]')).toEqual([
      '123', 'true', '1.50', '0x10', 'x', '012', '1_000', '2001-12-14',
    ]);
  });
  it('!!binary is decoded, !!str and custom tags keep the text', () => {
    expect(args('[!!binary aGVsbG8=, !!str 5, !foo bar]')).toEqual(['hello', '5', 'bar']);
  });
  it('block scalars: literal keeps lines, folded joins them', () => {
    const s = decodeSchematic('customization:\n  extraKernelArgs:\n    - |\n      a\n      b\n    - >-\n      a\n      b\n');
    expect(s.customization.extraKernelArgs).toEqual(['a\nb\n', 'a b']);
  });
  it('null for a plain string field is the empty string (omitted)', () => {
    expect(decodeSchematic('owner: ~\ncustomization:\n  embeddedMachineConfiguration: null\n')).toEqual({ customization: {} });
  });
  it('a sequence for a string field is a construct error', () => {
    expect(errorOf('customization:\n  embeddedMachineConfiguration: [a]\n')).toBe(
      'yaml: construct errors:\n  line 2: cannot construct !!seq into string',
    );
  });
  it('a scalar for a list field is a construct error', () => {
    expect(errorOf('customization:\n  extraKernelArgs: abc\n')).toBe(
      'yaml: construct errors:\n  line 2: cannot construct !!str `abc` into []string',
    );
  });
  it('a mapping list item is reported and the rest still decoded for errors', () => {
    expect(errorOf('customization:\n  extraKernelArgs:\n    - a\n    - {b: c}\n    - [d]\n')).toBe(
      'yaml: construct errors:\n  line 4: cannot construct !!map into string\n  line 5: cannot construct !!seq into string',
    );
  });
});

describe('meta keys are uint8', () => {
  const key = (k: string) => decodeSchematic(`customization:\n  meta:\n    - key: ${k}\n      value: v\n`).customization.meta?.[0]?.key;
  it('accepts decimal, 0x, 0o, 0b, leading-0 octal, underscores, integral floats, ~', () => {
    expect([key('10'), key('0xa'), key('0o12'), key('0b1010'), key('012'), key('1_0'), key('10.0'), key('255')]).toEqual([
      10, 10, 10, 10, 10, 10, 10, 255,
    ]);
    expect(decodeSchematic('customization:\n  meta:\n    - key: ~\n      value: v\n').customization.meta).toEqual([{ key: 0, value: 'v' }]);
  });
  it('rejects quoted, bool, negative, >255, fractional keys with the go-yaml text', () => {
    const err = (k: string) => errorOf(`customization:\n  meta:\n    - key: ${k}\n      value: v\n`);
    expect(err('"10"')).toBe('yaml: construct errors:\n  line 3: cannot construct !!str `10` into uint8');
    expect(err('true')).toBe('yaml: construct errors:\n  line 3: cannot construct !!bool `true` into uint8');
    expect(err('-1')).toBe('yaml: construct errors:\n  line 3: cannot construct !!int `-1` into uint8');
    expect(err('256')).toBe('yaml: construct errors:\n  line 3: cannot construct !!int `256` into uint8');
    expect(err('1.5')).toBe('yaml: construct errors:\n  line 3: cannot construct !!float `1.5` into uint8');
    expect(err('12345678901234567890')).toBe('yaml: construct errors:\n  line 3: cannot construct !!int `1234567...` into uint8');
  });
  it('a null meta item is dropped', () => {
    expect(decodeSchematic('customization:\n  meta: [~, {key: 1, value: x}]\n').customization.meta).toEqual([{ key: 1, value: 'x' }]);
  });
});

describe('bool and uint fields', () => {
  const wk = (v: string) =>
    decodeSchematic(`customization:\n  secureboot:\n    includeWellKnownCertificates: ${v}\n`).customization.secureboot?.includeWellKnownCertificates ?? false;
  it('includeWellKnownCertificates takes YAML 1.1 booleans too', () => {
    for (const t of ['true', 'True', 'TRUE', 'y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON']) expect(wk(t), t).toBe(true);
    for (const f of ['false', 'False', 'FALSE', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF', '~']) expect(wk(f), f).toBe(false);
  });
  it('rejects a quoted "true" and an integer', () => {
    expect(errorOf('customization:\n  secureboot:\n    includeWellKnownCertificates: "true"\n')).toBe(
      'yaml: construct errors:\n  line 3: cannot construct !!str `true` into bool',
    );
    expect(errorOf('customization:\n  secureboot:\n    includeWellKnownCertificates: 1\n')).toBe(
      'yaml: construct errors:\n  line 3: cannot construct !!int `1` into bool',
    );
  });
  it('sectorSize is a non-negative integer or integral float', () => {
    const size = (v: string) => decodeSchematic(`customization:\n  diskImage:\n    sectorSize: ${v}\n`).customization.diskImage?.sectorSize;
    expect(size('4096')).toBe(4096);
    expect(size('4096.0')).toBe(4096);
    expect(size('0x1000')).toBe(4096);
    expect(size('18446744073709551615')).toBe(18446744073709551615n);
    expect(errorOf('customization:\n  diskImage:\n    sectorSize: "512"\n')).toBe(
      'yaml: construct errors:\n  line 3: cannot construct !!str `512` into uint',
    );
    expect(errorOf('customization:\n  diskImage:\n    sectorSize: -512\n')).toBe(
      'yaml: construct errors:\n  line 3: cannot construct !!int `-512` into uint',
    );
  });
});

describe('bootloader', () => {
  const bl = (v: string) => decodeSchematic(`customization:\n  bootloader: ${v}\n`).customization.bootloader;
  it('matches case-insensitively; none is the zero value', () => {
    expect([bl('grub'), bl('GRUB'), bl('Sd-Boot'), bl('dual-boot'), bl('none'), bl('NONE'), bl('~')]).toEqual([
      'grub', 'grub', 'sd-boot', 'dual-boot', undefined, undefined, undefined,
    ]);
    expect(canonicalYaml(decodeSchematic('customization: {bootloader: none}'))).toBe('customization: {}\n');
  });
  it('rejects auto (docs/api.md lists it; the decoder does not take it)', () => {
    expect(errorOf('customization:\n  bootloader: auto\n')).toBe(
      'yaml: construct errors:\n  line 2: auto does not belong to BootloaderKind values',
    );
  });
  it('a non-scalar is a TextUnmarshaler error', () => {
    expect(errorOf('customization:\n  bootloader: [grub]\n')).toBe(
      'yaml: construct errors:\n  line 2: cannot construct !!seq into imageropts.BootloaderKind (TextUnmarshaler)',
    );
  });
});

describe('structure errors', () => {
  it('unknown fields at any level', () => {
    expect(errorOf('something: 1\n')).toBe('yaml: construct errors:\n  line 1: field something not found in type schematic.Schematic');
    expect(errorOf('customization:\n  meta:\n    - key: 1\n      valeu: x\n')).toBe(
      'yaml: construct errors:\n  line 4: field valeu not found in type schematic.MetaValue',
    );
    expect(errorOf('overlay:\n  Name: x\n')).toBe('yaml: construct errors:\n  line 2: field Name not found in type schematic.Overlay');
  });
  it('several errors are listed in document order', () => {
    expect(errorOf('a: 1\ncustomization:\n  b: 2\n  extraKernelArgs: x\n')).toBe(
      'yaml: construct errors:\n  line 1: field a not found in type schematic.Schematic\n  line 3: field b not found in type schematic.Customization\n  line 4: cannot construct !!str `x` into []string',
    );
  });
  it('duplicate keys', () => {
    expect(errorOf('customization:\n  extraKernelArgs: [a]\n  extraKernelArgs: [b]\n')).toBe(
      'yaml: construct errors:\n  line 3: mapping key "extraKernelArgs" already defined at line 2',
    );
    expect(errorOf('overlay:\n  options:\n    a: 1\n    "a": 2\n')).toBe(
      'yaml: construct errors:\n  line 4: mapping key "a" already defined at line 3',
    );
  });
  it('top-level sequence or scalar', () => {
    expect(errorOf('- a\n')).toBe('yaml: construct errors:\n  line 1: cannot construct !!seq into schematic.Schematic');
    expect(errorOf('hello\n')).toBe('yaml: construct errors:\n  line 1: cannot construct !!str `hello` into schematic.Schematic');
  });
  it('empty and comment-only bodies are EOF; only the first document counts', () => {
    expect(errorOf('')).toBe('EOF');
    expect(errorOf('# nothing here\n')).toBe('EOF');
    expect(decodeSchematic('customization: {extraKernelArgs: [a]}\n---\nnot: valid: here\n').customization.extraKernelArgs).toEqual(['a']);
  });
  it('owner is rejected by the community edition, kept by the enterprise one', () => {
    expect(errorOf('owner: bob\n')).toBe('owner field is only supported in Enterprise edition');
    expect(decodeSchematic('owner: bob\n', { enterprise: true }).owner).toBe('bob');
  });
  it('syntax errors are one-line yaml: messages with a position', () => {
    expect(errorOf('customization: [a\n')).toMatch(/^yaml: line \d+, column \d+: /);
  });
  it('input characters: invalid UTF-8 and control characters are rejected, a BOM is skipped', () => {
    expect(errorOf(Uint8Array.from([0x61, 0x3a, 0x20, 0xff]))).toBe('yaml: offset 3: invalid leading UTF-8 octet');
    expect(errorOf('customization:\n  extraKernelArgs: [a\u0001]\n')).toBe('yaml: offset 36: control characters are not allowed');
    expect(decodeSchematic(Buffer.from('\uFEFFcustomization: {extraKernelArgs: [x]}', 'utf8')).customization.extraKernelArgs).toEqual(['x']);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('customization: {extraKernelArgs: [é]}', 'utf16le')]);
    expect(decodeSchematic(utf16).customization.extraKernelArgs).toEqual(['é']);
  });
  it('JSON surrogate-pair escapes are rejected as libyaml does', () => {
    expect(errorOf('{"customization": {"extraKernelArgs": ["\\ud83d\\ude00"]}}')).toMatch(/found invalid Unicode character escape code$/);
  });
});

describe('anchors, aliases, merge keys', () => {
  it('aliases and merges resolve; explicit keys win over merged ones', () => {
    const s = decodeSchematic(`base: &b
customization:
  extraKernelArgs: &args [a, b]
  systemExtensions:
    officialExtensions: *args
`.replace('base: &b\n', ''));
    expect(s.customization.systemExtensions?.officialExtensions).toEqual(['a', 'b']);
    const m = decodeSchematic(`overlay:
  options:
    defaults: &d {x: 1, y: 2}
    merged:
      <<: *d
      y: 3
`);
    const merged = m.overlay?.options?.merged as Record<string, unknown>;
    expect(merged.x).toBe(1n);
    expect(merged.y).toBe(3n);
  });
  it('struct-level merge', () => {
    const s = decodeSchematic('customization:\n  <<: {extraKernelArgs: [m], bootloader: grub}\n  bootloader: sd-boot\n');
    expect(s.customization).toEqual({ extraKernelArgs: ['m'], bootloader: 'sd-boot' });
  });
  it('a merge of a scalar is fatal', () => {
    expect(errorOf('customization:\n  <<: 5\n')).toBe('yaml: map merge requires map or sequence of maps as the value');
  });
  it('unknown anchors and billion-laughs aliasing are rejected', () => {
    expect(errorOf('customization:\n  extraKernelArgs: *nope\n')).toMatch(/unknown anchor 'nope' referenced$/);
    let doc = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 10; i++) doc += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
    const bomb = `overlay:\n  options:\n${doc.replace(/^/gm, '    ').trimEnd()}\n`;
    expect(errorOf(bomb)).toBe('yaml: document contains excessive aliasing');
  });
});

describe('overlay.options are decoded generically', () => {
  const opts = (body: string) => decodeSchematic(`overlay:\n  name: x\n  image: y\n  options:\n${body}`).overlay!.options!;
  it('types: ints (bigint), floats, bools, null, timestamps, strings', () => {
    const o = opts('    i: 0x1F\n    o: 017\n    u: 1_000\n    big: 12345678901234567890\n    huge: 123456789012345678901234\n    f: 2.50\n    b: true\n    yes: yes\n    n: ~\n    d: 2001-12-14\n    dt: 2001-12-14 21:59:43.10\n    tz: 2001-12-14t21:59:43.10-05:00\n    s: "1"\n');
    expect(o.i).toBe(31n);
    expect(o.o).toBe(15n);
    expect(o.u).toBe(1000n);
    expect(o.big).toBe(12345678901234567890n);
    expect(o.huge).toBe(1.2345678901234568e23);
    expect(o.f).toBe(2.5);
    expect(o.b).toBe(true);
    expect(o.yes).toBe('yes');
    expect(o.n).toBe(null);
    expect(o.d).toEqual(new YamlTimestamp('2001-12-14T00:00:00Z'));
    expect((o.dt as YamlTimestamp).text).toBe('2001-12-14T21:59:43.1Z');
    expect((o.tz as YamlTimestamp).text).toBe('2001-12-14T21:59:43.1-05:00');
    expect(o.s).toBe('1');
  });
  it('keys are strings at the top, resolved in nested maps with non-string keys', () => {
    const o = opts('    10: a\n    true: b\n    nested: {1: x, a: y, ~: z}\n');
    expect(Object.keys(o).sort()).toEqual(['10', 'nested', 'true']);
    const nested = o.nested as Map<unknown, unknown>;
    expect(nested).toBeInstanceOf(Map);
    expect([...nested.entries()]).toEqual([[1n, 'x'], ['a', 'y'], [null, 'z']]);
    // Non-string keys sort by number (bools as 0/1), then nil, then strings (§1.5.6).
    expect(canonicalYaml(decodeSchematic('overlay: {options: {nested: {1: x, a: y, ~: z, 0.5: w, false: v}}}'))).toBe(
      'overlay:\n    image: ""\n    name: ""\n    options:\n        nested:\n            false: v\n            0.5: w\n            1: x\n            null: z\n            a: "y"\ncustomization: {}\n',
    );
  });
  it('keys equal in text are duplicates even when quoted differently', () => {
    expect(errorOf('overlay:\n  options:\n    n: {1: x, "1": y}\n')).toBe(
      'yaml: construct errors:\n  line 3: mapping key "1" already defined at line 3',
    );
  });
  it('a sequence for options is an error', () => {
    expect(errorOf('overlay:\n  options: [a]\n')).toBe('yaml: construct errors:\n  line 2: cannot construct !!seq into map[string]interface {}');
  });
  it('a __proto__ key is an ordinary key', () => {
    const o = opts('    __proto__: x\n');
    expect(Object.keys(o)).toEqual(['__proto__']);
    expect(o['__proto__']).toBe('x');
  });
});
