/**
 * The canonical serializer's rules (image-factory.md §1.5): scalar styles, layout, numbers, key order.
 */
import { describe, expect, it } from 'vitest';
import { canonicalYaml, naturalLess, newOverlayOptions, YamlTimestamp, type Schematic } from '../../../src/schematic/index.js';

/** The line written for one kernel arg (without the `        - ` prefix). */
function argLine(arg: string, quoting: 'legacy' | 'rc6' = 'legacy'): string {
  const out = canonicalYaml({ customization: { extraKernelArgs: [arg] } }, { quoting });
  const prefix = 'customization:\n    extraKernelArgs:\n        - ';
  expect(out.startsWith(prefix)).toBe(true);
  return out.slice(prefix.length, -1);
}

describe('string scalar style (§1.5.3, §1.5.4)', () => {
  it('texts that read back as non-strings are double-quoted (vector 44 list)', () => {
    for (const s of ['true', 'False', 'null', '~', '123', '0x0a', '1e3', '1.5', '.inf', '2001-12-14', '1_000', '+1', '-0', '.5', '1.', '0b101', '0o17', '-.INF', '.NaN', '2001-1-2t3:04:05Z', '1__']) {
      expect(argLine(s), s).toBe(`"${s}"`);
    }
    expect(argLine('')).toBe('""');
  });
  it('texts that stay strings are plain', () => {
    for (const s of ['-a', 'a:b', 'a#b', '?a', '=a', 'a,b', '0x', '1e', 'e', 'yess', '1:60', '2001-13-01', '2001-02-30', '0xg', 'café', 'nbsp\u00a0x', 'back\\slash', 'a b']) {
      expect(argLine(s), s).toBe(s);
    }
  });
  it('indicator characters force single quotes', () => {
    for (const s of ['-', '- a', 'a: b', 'a:', 'a #b', '#a', '{}', '[x', '*a', '&a', '!a', '|a', '>a', "'a", '"a', '%a', '@a', '`a', '--- a', '...', ' lead', 'trail ', ': x']) {
      expect(argLine(s), s).toBe(`'${s.replaceAll("'", "''")}'`);
    }
  });
  it('YAML 1.1 look-alikes: double (legacy) or single (rc6)', () => {
    for (const s of ['y', 'Y', 'yes', 'No', 'ON', 'off', '1:20', '-1:20:30.5', '<<']) {
      expect(argLine(s), s).toBe(`"${s}"`);
      expect(argLine(s, 'rc6'), s).toBe(`'${s}'`);
    }
  });
  it('special characters force double quotes with go-yaml escapes', () => {
    expect(argLine('tab\there')).toBe('"tab\\there"');
    expect(argLine('bell\u0007')).toBe('"bell\\a"');
    expect(argLine('nul\u0000')).toBe('"nul\\0"');
    expect(argLine('esc\u001b')).toBe('"esc\\e"');
    expect(argLine('c1\u0085x')).toBe('"c1\\Nx"');
    expect(argLine('c1\u0090x')).toBe('"c1\\x90x"');
    expect(argLine('emoji\u{1F600}')).toBe('"emoji\\U0001F600"');
    expect(argLine('q"uote\ta')).toBe('"q\\"uote\\ta"');
    expect(argLine('\uFEFFa b"')).toBe('"\\uFEFF\\x61\\x20\\x62\\""');
    expect(argLine('\uFEFF\u00a0')).toBe('"\\uFEFF\\_"');
  });
  it('multi-line strings are literal blocks with chomping indicators', () => {
    const emc = (s: string) =>
      canonicalYaml({ customization: { embeddedMachineConfiguration: s } }).slice('customization:\n    embeddedMachineConfiguration: '.length);
    expect(emc('a\nb\n')).toBe('|\n        a\n        b\n');
    expect(emc('a\nb')).toBe('|-\n        a\n        b\n');
    expect(emc('a\n\n')).toBe('|+\n        a\n\n');
    expect(emc(' a\nb\n')).toBe('|4\n         a\n        b\n');
    expect(emc('a\n\nb\n')).toBe('|\n        a\n\n        b\n');
    expect(emc('\n')).toBe('"\\n"\n');
    expect(emc(' \n')).toBe('" \\n"\n');
    expect(emc('a \nb\n')).toBe('"a \\nb\\n"\n');
    expect(emc('a\tb\nc\n')).toBe('|\n        a\tb\n        c\n');
  });
});

describe('numbers in overlay options (§1.5.5)', () => {
  const opt = (v: unknown) => {
    const options = newOverlayOptions();
    options.v = v as never;
    const out = canonicalYaml({ overlay: { image: 'i', name: 'x', options }, customization: {} });
    return out.split('\n')[4]!.trim().slice('v: '.length);
  };
  it('floats use Go %g (shortest, exponent at 1e6 and below 1e-4)', () => {
    const cases: [number, string][] = [
      [1e6, '1e+06'], [1e-5, '1e-05'], [123456789.5, '1.234567895e+08'], [1e10, '1e+10'], [100000, '100000'],
      [2.5, '2.5'], [-0.5, '-0.5'], [1, '1'], [-0, '-0'], [0, '0'], [0.0001, '0.0001'], [123456.7, '123456.7'],
      [1e21, '1e+21'], [1e100, '1e+100'], [5e-324, '5e-324'], [Infinity, '.inf'], [-Infinity, '-.inf'], [NaN, '.nan'],
    ];
    for (const [f, s] of cases) expect(opt(f), String(f)).toBe(s);
  });
  it('integers are decimal, timestamps RFC 3339, null/bools plain', () => {
    expect(opt(1000000n)).toBe('1000000');
    expect(opt(18446744073709551615n)).toBe('18446744073709551615');
    expect(opt(-5n)).toBe('-5');
    expect(opt(new YamlTimestamp('2001-12-14T00:00:00Z'))).toBe('2001-12-14T00:00:00Z');
    expect(opt(null)).toBe('null');
    expect(opt(false)).toBe('false');
  });
});

describe('option key order (§1.5.6)', () => {
  it('sorts like vector 50', () => {
    const keys = ['10', '9', 'a10', 'a9', 'A', '_', '', 'b', 'a01', 'a1'];
    keys.sort((a, b) => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0));
    expect(keys).toEqual(['', '_', '9', '10', 'A', 'a1', 'a01', 'a9', 'a10', 'b']);
  });
  it('is a strict order on distinct keys', () => {
    const keys = ['x1y', 'x01y', 'x10', 'x1', 'x', 'x_', 'x-', 'é', 'e', 'Z', 'z9', 'z09', 'z009', '1a', '1b', '01'];
    for (const a of keys) {
      expect(naturalLess(a, a)).toBe(false);
      for (const b of keys) if (a !== b) expect(naturalLess(a, b) !== naturalLess(b, a), `${a} ${b}`).toBe(true);
    }
  });
});

describe('layout (§1.5.2)', () => {
  it('writes every field in canonical order with 4-space non-compact indentation', () => {
    const s: Schematic = {
      owner: 'bob',
      overlay: { image: 'siderolabs/sbc-rockchip', name: 'turingrk1', options: Object.assign(newOverlayOptions(), { k: 'v' }) },
      customization: {
        embeddedMachineConfiguration: 'apiVersion: v1alpha1\nkind: HostnameConfig\n',
        extraKernelArgs: ['console=ttyS0,115200'],
        meta: [{ key: 10, value: 'x' }],
        systemExtensions: { officialExtensions: ['siderolabs/iscsi-tools'] },
        bootloader: 'sd-boot',
        secureboot: { enrollKeys: 'force', includeWellKnownCertificates: true },
        diskImage: { sectorSize: 4096 },
      },
    };
    expect(canonicalYaml(s)).toBe(`owner: bob
overlay:
    image: siderolabs/sbc-rockchip
    name: turingrk1
    options:
        k: v
customization:
    embeddedMachineConfiguration: |
        apiVersion: v1alpha1
        kind: HostnameConfig
    extraKernelArgs:
        - console=ttyS0,115200
    meta:
        - key: 10
          value: x
    systemExtensions:
        officialExtensions:
            - siderolabs/iscsi-tools
    bootloader: sd-boot
    secureboot:
        enrollKeys: force
        includeWellKnownCertificates: true
    diskImage:
        sectorSize: 4096
`);
  });
  it('empty values are omitted; meta value is always written', () => {
    expect(
      canonicalYaml({ owner: '', overlay: { image: '', name: '' }, customization: { extraKernelArgs: [], meta: [{ key: 0, value: '' }], secureboot: { includeWellKnownCertificates: false }, diskImage: { sectorSize: 0 } } }),
    ).toBe('customization:\n    meta:\n        - key: 0\n          value: ""\n');
  });
  it('nested collections in options: sequences of maps, of sequences, empty ones, complex keys', () => {
    const options = newOverlayOptions();
    options.list = [Object.assign(newOverlayOptions(), { a: 1n, b: ['x'] }), [[1n, 2n], [], [3n]], newOverlayOptions(), 'multi\nline\n'];
    options[`long${'k'.repeat(130)}`] = Object.assign(newOverlayOptions(), { x: 1n });
    expect(canonicalYaml({ overlay: { image: 'i', name: 'x', options }, customization: {} })).toBe(`overlay:
    image: i
    name: x
    options:
        list:
            - a: 1
              b:
                - x
            - - - 1
                - 2
              - []
              - - 3
            - {}
            - |
              multi
              line
        ? long${'k'.repeat(130)}
        :   x: 1
customization: {}
`);
  });
  it('a key with U+2028 is a complex single-quoted key; the break is followed by indentation', () => {
    const options = newOverlayOptions();
    options['a\u2028b'] = 'v';
    expect(canonicalYaml({ overlay: { image: 'i', name: 'x', options }, customization: {} })).toBe(
      "overlay:\n    image: i\n    name: x\n    options:\n        ? 'a\u2028            b'\n        : v\ncustomization: {}\n",
    );
  });
});

describe('model validation', () => {
  it('rejects values of the wrong type with a one-line invalid-input error', () => {
    const bad: unknown[] = [
      { customization: { extraKernelArgs: [1] } },
      { customization: { meta: [{ key: 256, value: 'x' }] } },
      { customization: { bootloader: 'auto' } },
      { customization: { diskImage: { sectorSize: -1 } } },
      { overlay: { image: 'i', name: 'x', options: { f: () => 1 } }, customization: {} },
      { customization: { extraKernelArgs: ['\ud800'] } },
    ];
    for (const s of bad) {
      expect(() => canonicalYaml(s as Schematic)).toThrow(expect.objectContaining({ code: 'E_SCHEMATIC_MODEL', exitCode: 2 }));
    }
  });
});
