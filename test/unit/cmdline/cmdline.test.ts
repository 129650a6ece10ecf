import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Cmdline } from '../../../src/boot/cmdline/cmdline.js';

describe('Cmdline (go-procfs model, talos-imager.md §5.1)', () => {
  it('groups values by key in order of first insertion and prints empty values bare', () => {
    const c = new Cmdline('console=tty1 foo= console=ttyS0 bar baz=a=b\n');
    expect(c.toString()).toBe('console=tty1 console=ttyS0 foo bar baz=a=b');
    expect(c.get('baz')).toEqual(['a=b']);
    expect(c.get('nope')).toBeUndefined();
  });

  it('splits on Go white space, not on every JavaScript \\s', () => {
    expect(new Cmdline('a=1\u0085b=2\u00a0c=3\u3000d').toString()).toBe('a=1 b=2 c=3 d');
    // U+FEFF is white space for JavaScript but not for Go.
    expect(new Cmdline('a=1\ufeffb').toString()).toBe('a=1\ufeffb');
  });

  it('set replaces in place, append adds at the end', () => {
    const c = new Cmdline('a=1 console=tty0 b=2');
    c.set('console', ['ttyS0']);
    c.append('a', '3');
    c.append('z', '');
    expect(c.toString()).toBe('a=1 a=3 console=ttyS0 b=2 z');
    c.setAll(['b=x b=y', 'n=1']);
    expect(c.toString()).toBe('a=1 a=3 console=ttyS0 b=x b=y z n=1');
  });

  it('appendAll with overwrite and negation', () => {
    const c = new Cmdline('talos.platform=metal console=ttyS0 console=tty0 selinux=1 x=1 x=2 x=3');
    c.appendAll(['console=ttyAMA0', '-selinux', '-x=2', '-x=3', 'talos.platform=aws', 'new', '-', '-missing'], {
      overwrite: ['console', 'talos.platform'],
      deleteNegated: true,
    });
    expect(c.toString()).toBe('talos.platform=aws console=ttyAMA0 x=1 new -');
  });

  it('a negated value removal can leave a key with no values, which prints nothing', () => {
    const c = new Cmdline('a=1 b=2');
    c.appendAll(['-a=1'], { deleteNegated: true });
    expect(c.get('a')).toEqual([]);
    expect(c.toString()).toBe('b=2');
    c.append('a', '9');
    expect(c.toString()).toBe('a=9 b=2');
  });

  it('without deleteNegated a -key is just another key', () => {
    const c = new Cmdline('a=1');
    c.appendAll(['-a']);
    expect(c.toString()).toBe('a=1 -a');
  });

  it('property: printing then parsing gives the same command line', () => {
    const token = fc.stringMatching(/^[a-z._-]{1,6}(=[a-z0-9=,]{0,6})?$/);
    fc.assert(
      fc.property(fc.array(token, { maxLength: 20 }), (args) => {
        const c = new Cmdline(args.join(' '));
        const text = c.toString();
        expect(new Cmdline(text).toString()).toBe(text);
        expect(text.split(' ').filter(Boolean).sort()).toEqual(args.map((a) => (a.indexOf('=') === a.length - 1 ? a.slice(0, -1) : a)).sort());
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
