import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { emitYaml, formatGoFloat, stringStyle, yamlBool, yamlFloat, yamlInt, yamlMap, yamlNull, yamlSeq, yamlStr, type YamlNode } from '../../../src/profile/yaml/emit.js';
import { goKeyLess, goValueToYaml, GoMap } from '../../../src/profile/go-value.js';

/** go-yaml `Marshal` settings: indent 4, no folding. */
const marshal = (node: YamlNode) => emitYaml(node, { indent: 4, width: -1 });
const v = (value: YamlNode) => yamlMap([['v', value]]);

// Expected outputs of go-yaml's own encoder tests (go.yaml.in/yaml/v4 testdata/encode.yaml, Marshal).
describe('emitYaml matches go-yaml encode vectors', () => {
  it.each<[string, YamlNode, string]>([
    ['plain string', v(yamlStr('hi')), 'v: hi\n'],
    ['bool-like string', v(yamlStr('true')), 'v: "true"\n'],
    ['number-like string', v(yamlStr('10')), 'v: "10"\n'],
    ['empty string', v(yamlStr('')), 'v: ""\n'],
    ['null', v(yamlNull()), 'v: null\n'],
    ['bool', v(yamlBool(false)), 'v: false\n'],
    ['negative int', v(yamlInt(-10)), 'v: -10\n'],
    ['large int', v(yamlInt(4294967296)), 'v: 4294967296\n'],
    ['float 0.1', v(yamlFloat(0.1)), 'v: 0.1\n'],
    ['float -0.1', v(yamlFloat(-0.1)), 'v: -0.1\n'],
    ['+Inf', v(yamlFloat(Infinity)), 'v: .inf\n'],
    ['-Inf', v(yamlFloat(-Infinity)), 'v: -.inf\n'],
    ['NaN', v(yamlFloat(NaN)), 'v: .nan\n'],
    ['string slice', v(yamlSeq([yamlStr('A'), yamlStr('B')])), 'v:\n    - A\n    - B\n'],
    ['slice with multiline element', v(yamlSeq([yamlStr('A'), yamlStr('B\nC')])), 'v:\n    - A\n    - |-\n      B\n      C\n'],
    ['nested mixed slice', v(yamlSeq([yamlStr('A'), yamlInt(1), yamlMap([['B', yamlSeq([yamlInt(2), yamlInt(3)])]])])), 'v:\n    - A\n    - 1\n    - B:\n        - 2\n        - 3\n'],
    ['leading newline', v(yamlStr('\nhi')), 'v: |-\n\n    hi\n'],
    ['nested leading newline', v(yamlSeq([yamlMap([['v1', yamlStr('\nhi')]])])), 'v:\n    - v1: |-\n\n        hi\n'],
    ['nested map', yamlMap([['a', yamlMap([['b', yamlStr('c')]])]]), 'a:\n    b: c\n'],
    ['dash', yamlMap([['a', yamlStr('-')]]), "a: '-'\n"],
    ['angle brackets', yamlMap([['a', yamlStr('<foo>')]]), 'a: <foo>\n'],
    ['base 60', yamlMap([['a', yamlStr('1:1')]]), "a: '1:1'\n"],
    ['NUL', yamlMap([['a', yamlStr('\0')]]), 'a: "\\0"\n'],
    ['unicode', yamlMap([['a', yamlStr('你好')]]), 'a: 你好\n'],
    ['timestamp-like', yamlMap([['a', yamlStr('2015-02-24T18:19:39Z')]]), 'a: "2015-02-24T18:19:39Z"\n'],
    ['colon space', yamlMap([['a', yamlStr('b: c')]]), "a: 'b: c'\n"],
    ['hash comment', yamlMap([['a', yamlStr('Hello #comment')]]), "a: 'Hello #comment'\n"],
    ['unicode hash comment', yamlMap([['a', yamlStr('你好 #comment')]]), "a: '你好 #comment'\n"],
    ['deep nesting', yamlMap([['a', yamlMap([['b', yamlSeq([yamlMap([['c', yamlInt(1)], ['d', yamlInt(2)]])])]])]]), 'a:\n    b:\n        - c: 1\n          d: 2\n'],
    ['tabs and newlines', yamlMap([['a', yamlStr('\t\n\t\n')]]), 'a: "\\t\\n\\t\\n"\n'],
    ['merge key as key', yamlMap([['<<', yamlSeq([])]]), "'<<': []\n"],
    ['merge key as value', yamlMap([['foo', yamlStr('<<')]]), "foo: '<<'\n"],
    ['trailing space, no wrapping', yamlMap([['a', yamlStr('abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 1234567890 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 1234567890 ')]]), "a: 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 1234567890 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 1234567890 '\n"],
    ['empty struct', yamlMap([]), '{}\n'],
    ['nil pointer field', yamlMap([['a', yamlNull()]]), 'a: null\n'],
    ['off', yamlMap([['a', yamlStr('off')]]), "a: 'off'\n"],
    ['root newline', yamlStr('\n'), '"\\n"\n'],
    ['root literal', yamlStr('hello\nworld'), '|-\n    hello\n    world\n'],
    ['root plain', yamlStr('hello'), 'hello\n'],
    ['root 123', yamlStr('123'), '"123"\n'],
    ['literal starting with space', yamlStr(' This starts with space\nand is long enough\nfor literal style'), '|4-\n     This starts with space\n    and is long enough\n    for literal style\n'],
    ['a newline', yamlStr('a\n'), '|\n    a\n'],
    ['space a newline', yamlStr(' a\n'), '|4\n     a\n'],
    ['two newlines', yamlStr('\n\n'), '"\\n\\n"\n'],
    ['space newline', yamlStr(' \n'), '" \\n"\n'],
    ['newline space newline', yamlStr('\n \n'), '"\\n \\n"\n'],
    ['space newline hello', yamlStr(' \nhello'), '" \\nhello"\n'],
    ['trailing spaces before newline', yamlStr('  hello  \n'), '"  hello  \\n"\n'],
    ['hello newline spaces', yamlStr('hello\n  '), '"hello\\n  "\n'],
    ['leading whitespace', v(yamlStr(' hello')), "v: ' hello'\n"],
    ['trailing whitespace', v(yamlStr('hello ')), "v: 'hello '\n"],
    ['colon-space first', v(yamlStr(': hello')), "v: ': hello'\n"],
    ['null-like', v(yamlStr('null')), 'v: "null"\n'],
  ])('%s', (_name, node, want) => expect(marshal(node)).toBe(want));
});

describe('emitYaml with the imager settings (indent 2, width 80)', () => {
  it('indents sequences inside mappings and starts collection items on the dash line', () => {
    const doc = yamlMap([
      ['customization', yamlMap([['extraKernelArgs', yamlSeq([yamlStr('console=ttyS0'), yamlStr('-selinux')])], ['metaContents', yamlSeq([yamlMap([['key', yamlInt(10)], ['value', yamlStr('a: b\nc: d\n')]])])]])],
      ['e', yamlSeq([yamlSeq([yamlStr('x')]), yamlSeq([])])],
    ]);
    expect(emitYaml(doc)).toBe(
      'customization:\n  extraKernelArgs:\n    - console=ttyS0\n    - -selinux\n  metaContents:\n    - key: 10\n      value: |\n        a: b\n        c: d\ne:\n  - - x\n  - []\n',
    );
  });

  it('escapes what is not printable and keeps the BOM rule', () => {
    expect(emitYaml(v(yamlStr('tab\there')))).toBe('v: "tab\\there"\n');
    expect(emitYaml(v(yamlStr('smile 😀')))).toBe('v: "smile \\U0001F600"\n');
    expect(emitYaml(v(yamlStr('del\x7f')))).toBe('v: "del\\x7F"\n');
    expect(emitYaml(v(yamlStr('nel\u0085x')))).toBe('v: "nel\\Nx"\n');
    expect(emitYaml(v(yamlStr('\ufeffab')))).toBe('v: "\\uFEFF\\x61\\x62"\n');
    expect(emitYaml(v(yamlStr('it\'s " x')))).toBe('v: it\'s " x\n');
    expect(emitYaml(v(yamlStr("'quoted'")))).toBe("v: '''quoted'''\n");
  });

  it('folds long plain scalars at a space once past column 80', () => {
    const words = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    const out = emitYaml(yamlMap([['customization', yamlMap([['note', yamlStr(words)]])]]));
    const lines = out.split('\n');
    expect(lines[1]!.length).toBeGreaterThan(80);
    expect(lines[2]!.startsWith('    word')).toBe(true);
    expect(parseDocument(out).toJS().customization.note).toBe(words);
  });

  it('long keys become complex keys', () => {
    const key = 'k'.repeat(129);
    expect(emitYaml(yamlMap([[key, yamlStr('v')]]))).toBe(`? ${key}\n: v\n`);
    expect(emitYaml(yamlMap([['a\nb', yamlStr('v')]]))).toBe('? |-\n  a\n  b\n: v\n');
  });

  it('writes NEL, LS and PS raw as line breaks inside single quotes, as libyaml does', () => {
    // YAML 1.1 line breaks; a YAML 1.2 reader keeps them as characters, so they stay out of the
    // round-trip property below.
    expect(emitYaml(v(yamlStr('\u2028[')))).toBe("v: '\u2028  ['\n");
  });

  it('property: any string survives the round trip through an independent YAML parser', () => {
    const unit = fc
      .oneof(
        fc.constantFrom(' ', '\n', '\t', ':', '#', '-', "'", '"', '\\', '\r', '\ufeff', '😀', 'é', '!', '&', '*', '{', '['),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      )
      .filter((c) => !['\u2028', '\u2029', '\u0085'].includes(c));
    const text = fc.string({ unit, maxLength: 120 });
    fc.assert(
      fc.property(text, fc.boolean(), (s, inSeq) => {
        const node = inSeq ? yamlMap([['a', yamlSeq([yamlStr(s), yamlStr(s)])]]) : yamlMap([['a', yamlStr(s)], ['b', yamlStr('x')]]);
        const out = emitYaml(node);
        const doc = parseDocument(out, { schema: 'failsafe' });
        expect(doc.errors).toEqual([]);
        const js = doc.toJS();
        expect(inSeq ? js.a : [js.a, js.b]).toEqual(inSeq ? [s, s] : [s, 'x']);
      }),
      { seed: 42, numRuns: 2000 },
    );
  });
});

describe('scalar typing for output', () => {
  it.each([
    ['1.12.0', 'plain'],
    ['.zst', 'plain'],
    ['.tar.gz', 'plain'],
    ['if-safe', 'plain'],
    ['0x1A', 'double'],
    ['0o17', 'double'],
    ['1_000', 'double'],
    ['1e3', 'double'],
    ['1e400', 'plain'],
    ['.5', 'double'],
    ['-.inf', 'double'],
    ['~', 'double'],
    ['2024-02-29', 'double'],
    ['2023-02-29', 'plain'],
    ['2024-1-2 3:4:5', 'double'],
    ['Yes', 'single'],
    ['12:30', 'single'],
    ['a\nb', 'literal'],
    [' \n', 'double'],
  ])('%j is %s', (s, style) => expect(stringStyle(s)).toBe(style));

  it.each([
    [1, '1'],
    [1.5, '1.5'],
    [123456, '123456'],
    [1e6, '1e+06'],
    [1234567, '1.234567e+06'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [-2.5e-7, '-2.5e-07'],
    [1e21, '1e+21'],
    [-0, '-0'],
  ])('float %d prints as %s (Go shortest g format)', (f, s) => expect(formatGoFloat(f)).toBe(s));

  it('map keys sort as go-yaml does (numbers first, natural string order)', () => {
    const keys = ['b', 'a10', 'a9', 'A', '10', 1n, true, 2.5, 'a09', '_x'];
    const sorted = [...keys].sort((x, y) => (goKeyLess(x, y) ? -1 : goKeyLess(y, x) ? 1 : 0));
    expect(sorted).toEqual([true, 1n, 2.5, '_x', '10', 'A', 'a9', 'a09', 'a10', 'b']);
    const m = new GoMap([['z', 1n], ['a', new GoMap([['y', null], ['x', [1.5, 'on']]])]]);
    expect(emitYaml(goValueToYaml(m))).toBe("a:\n  x:\n    - 1.5\n    - 'on'\n  'y': null\nz: 1\n");
  });
});
