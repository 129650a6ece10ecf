import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCmdline } from '../../../src/boot/cmdline/build.js';
import { decodeMetaValues, encodeMetaValues, GO_GZIP_BEST_HEADER } from '../../../src/boot/cmdline/meta-env.js';
import { PLATFORM_NAMES } from '../../../src/boot/cmdline/platforms.js';
import { decodeProfile } from '../../../src/profile/decode.js';
import { resolveProfile } from '../../../src/profile/resolve.js';
import { missingTools, runTool } from '../../helpers/tools.js';

const profile = (yaml: string) => resolveProfile(decodeProfile(yaml), { fileExists: () => false });
const cmdline = (platform: string, arch: string, version: string, extra = '') =>
  buildCmdline(profile(`arch: ${arch}\nplatform: ${platform}\nversion: ${version}\noutput: {kind: cmdline, outFormat: raw}\n${extra}`));

describe('buildCmdline: golden command lines of talos-imager.md §5.2 (upstream imager_test.go)', () => {
  it.each([
    ['metal', 'amd64', '1.7.0', 'talos.platform=metal console=ttyS0 console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512'],
    ['metal', 'amd64', '1.10.1', 'talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512 selinux=1'],
    ['metal', 'amd64', '1.13.0', 'talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never'],
    ['metal', 'amd64', '1.14.0', 'talos.platform=metal console=tty0 slab_nomerge pti=on consoleblank=0 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never'],
    ['metal', 'arm64', '1.14.0', 'talos.platform=metal console=ttyAMA0 console=tty0 slab_nomerge pti=on consoleblank=0 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never'],
    ['aws', 'amd64', '1.13.0', 'talos.platform=aws console=tty1 console=ttyS0 net.ifnames=0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never'],
    ['aws', 'arm64', '1.13.0', 'talos.platform=aws console=tty1 console=ttyS0 net.ifnames=0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never'],
    ['aws', 'amd64', '1.14.0', 'talos.platform=aws console=tty1 console=ttyS0 net.ifnames=0 nvme_core.io_timeout=4294967295 slab_nomerge pti=on consoleblank=0 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never'],
    ['aws', 'arm64', '1.14.0', 'talos.platform=aws console=tty1 console=ttyS0 net.ifnames=0 nvme_core.io_timeout=4294967295 slab_nomerge pti=on consoleblank=0 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never'],
  ])('%s %s %s', (platform, arch, version, want) => expect(cmdline(platform, arch, version)).toBe(want));
});

const METAL_114 = 'talos.platform=metal console=tty0 slab_nomerge pti=on consoleblank=0 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never';

describe('buildCmdline: the derived cases of §5.2', () => {
  it('the metal amd64 1.14 ISO inserts talos.halt_if_installed=1 right after console=tty0', () => {
    const p = profile('baseProfileName: iso\narch: amd64\nversion: 1.14.0');
    expect(buildCmdline(p)).toBe(METAL_114.replace('console=tty0 ', 'console=tty0 talos.halt_if_installed=1 '));
    expect(buildCmdline(profile('baseProfileName: iso\narch: amd64\nversion: 1.7.0'))).not.toContain('halt_if_installed');
  });

  it('SecureBoot on 1.13 appends lockdown=confidentiality, before the user arguments; 1.14 does not', () => {
    const sb113 = buildCmdline(profile('baseProfileName: secureboot-metal-uki\narch: amd64\nversion: 1.13.0\ncustomization: {extraKernelArgs: [user=1]}'));
    expect(sb113.endsWith('proc_mem.force_override=never lockdown=confidentiality user=1')).toBe(true);
    expect(buildCmdline(profile('baseProfileName: secureboot-metal-uki\narch: amd64\nversion: 1.14.0'))).toBe(METAL_114);
  });

  it('extraKernelArgs: console replaces in place, -name deletes, foo= prints as foo', () => {
    const extra = 'customization: {extraKernelArgs: ["console=ttyS0", "-selinux", "foo=", "talos.platform=gcp", "pti=off"]}';
    expect(cmdline('metal', 'amd64', '1.14.0', extra)).toBe(
      'talos.platform=gcp console=ttyS0 slab_nomerge pti=on pti=off consoleblank=0 printk.devkmsg=on module.sig_enforce=1 proc_mem.force_override=never foo',
    );
  });

  it('overlay kernel arguments are set after the platform ones', () => {
    const p = profile('arch: arm64\nplatform: metal\nversion: 1.14.0\noutput: {kind: cmdline}');
    expect(buildCmdline(p, { overlayKernelArgs: ['console=tty1', 'console=ttyAMA0,115200', 'sysctl.kernel.kexec_load_disabled=1'] })).toBe(
      'talos.platform=metal console=tty1 console=ttyAMA0,115200 sysctl.kernel.kexec_load_disabled=1 slab_nomerge pti=on consoleblank=0 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never',
    );
  });

  it('every platform has its name and arguments; packet is equinixMetal; unknown platforms fail', () => {
    expect(cmdline('packet', 'amd64', '1.14.0').startsWith('talos.platform=equinixMetal console=ttyS1,115200n8 slab_nomerge')).toBe(true);
    expect(cmdline('equinixMetal', 'arm64', '1.14.0').startsWith('talos.platform=equinixMetal console=ttyAMA0,115200 slab_nomerge')).toBe(true);
    expect(cmdline('container', 'amd64', '1.14.0')).toBe('talos.platform=container slab_nomerge pti=on consoleblank=0 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never');
    expect(cmdline('azure', 'amd64', '1.14.0').startsWith('talos.platform=azure console=ttyS0,115200n8 earlyprintk=ttyS0,115200 rootdelay=300 net.ifnames=0 talos.dashboard.disabled=1 sysctl.kernel.kexec_load_disabled=1 slab_nomerge')).toBe(true);
    expect(cmdline('vmware', 'amd64', '1.14.0').startsWith('talos.platform=vmware talos.config=guestinfo console=tty0 console=ttyS0 earlyprintk=ttyS0,115200 net.ifnames=0 slab_nomerge')).toBe(true);
    expect(cmdline('vmware', 'arm64', '1.14.0').startsWith('talos.platform=vmware talos.config=guestinfo console=tty0 console=ttyAMA0 net.ifnames=0 slab_nomerge')).toBe(true);
    expect(cmdline('digital-ocean', 'amd64', '1.14.0').startsWith('talos.platform=digital-ocean console=ttyS0 console=tty0 console=tty1 net.ifnames=0 slab')).toBe(true);
    expect(cmdline('oracle', 'amd64', '1.14.0').startsWith('talos.platform=oracle console=tty1 console=ttyS0 net.ifnames=0 talos.dashboard.disabled=1 slab')).toBe(true);
    expect(cmdline('upcloud', 'amd64', '1.14.0').startsWith('talos.platform=upcloud net.ifnames=0 slab')).toBe(true);
    expect(cmdline('gcp', 'amd64', '1.14.0').startsWith('talos.platform=gcp console=ttyS0 net.ifnames=0 talos.dashboard.disabled=1 sysctl.kernel.kexec_load_disabled=1 slab')).toBe(true);
    for (const name of PLATFORM_NAMES) expect(() => cmdline(name, 'arm64', '1.12.0')).not.toThrow();
    expect(() => cmdline('floppy', 'amd64', '1.14.0')).toThrow(/unknown platform: "floppy"/);
  });

  it('an unparsable version uses the latest defaults but no ttyS0 and no IMA', () => {
    expect(cmdline('metal', 'amd64', 'main')).toBe(METAL_114);
  });
});

describe('META on the command line (§5.3)', () => {
  it('not for disk images; before the user arguments otherwise', () => {
    const meta = 'customization: {metaContents: [{key: 10, value: foo}, {key: 0x0b, value: bar}], extraKernelArgs: [u=1]}';
    expect(buildCmdline(profile(`baseProfileName: metal\narch: amd64\nversion: 1.14.0\n${meta}`))).not.toContain('talos.environment');
    const line = cmdline('metal', 'amd64', '1.14.0', meta);
    expect(line).toBe(`${METAL_114} talos.environment=INSTALLER_META_BASE64=${Buffer.from('0xa=foo;0xb=bar').toString('base64')} u=1`);
  });

  it('upstream meta_test vectors: "simple" encodes to 20 characters, "huge" to 3084 without gzip', () => {
    const simple = [{ key: 10, value: 'foo' }, { key: 11, value: 'bar' }];
    expect(encodeMetaValues(simple, false)).toHaveLength(20);
    expect(encodeMetaValues(simple, true)).toBe(encodeMetaValues(simple, false));
    const huge = [{ key: 10, value: 'foobar'.repeat(256) }, { key: 11, value: 'baz'.repeat(256) }];
    expect(encodeMetaValues(huge, false)).toHaveLength(3084);
    // Go's compress/flate gives 80 characters here; zlib's deflate is smaller (documented divergence).
    const gz = encodeMetaValues(huge, true);
    expect(gz.length).toBeLessThan(3084);
    expect(gz).toHaveLength(72);
    expect(decodeMetaValues(gz)).toEqual(huge);
  });

  it('gzips only above 256 bytes and only for targets ≥ 1.6.3', () => {
    const at = (n: number) => [{ key: 10, value: 'x'.repeat(n - 4) }]; // "0xa=" + value = n bytes
    expect(Buffer.from(encodeMetaValues(at(256), true), 'base64').subarray(0, 2)).not.toEqual(Buffer.from([0x1f, 0x8b]));
    expect(Buffer.from(encodeMetaValues(at(257), true), 'base64').subarray(0, 10)).toEqual(Buffer.from(GO_GZIP_BEST_HEADER));
    const big = `customization: {metaContents: [{key: 10, value: "${'y'.repeat(400)}"}]}`;
    const arg = (v: string) => cmdline('metal', 'amd64', v, big).match(/INSTALLER_META_BASE64=(\S+)/)![1]!;
    expect(Buffer.from(arg('1.6.3'), 'base64')[0]).toBe(0x1f);
    expect(Buffer.from(arg('1.6.2'), 'base64').toString()).toBe(`0xa=${'y'.repeat(400)}`);
  });

  it('the gzip member has Go\'s header fields (MTIME 0, XFL 2, OS 255) and a correct trailer', () => {
    const raw = `0xa=${'network config '.repeat(40)}`;
    const b = Buffer.from(encodeMetaValues([{ key: 10, value: 'network config '.repeat(40) }], true), 'base64');
    expect([...b.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
    expect(gunzipSync(b).toString()).toBe(raw);
    expect(b.readUInt32LE(b.length - 4)).toBe(raw.length);
  });

  it.skipIf(missingTools('gzip'))('GNU gzip accepts the member and restores the META text', () => {
    const values = [{ key: 10, value: 'a: b\n'.repeat(100) }, { key: 0x11, value: 'dual-boot' }];
    const b = Buffer.from(encodeMetaValues(values, true), 'base64');
    const t = runTool('gzip', ['-t'], { input: b });
    expect(t.status).toBe(0);
    const d = runTool('gzip', ['-dc'], { input: b });
    expect(d.status).toBe(0);
    expect(d.stdout).toBe(`0xa=${'a: b\n'.repeat(100)};0x11=dual-boot`);
    const l = runTool('gzip', ['-lv'], { input: b });
    expect(l.stdout).toMatch(/defla/);
  });

  it('property: decode(encode(values)) == values', () => {
    const value = fc.string({ unit: 'grapheme', maxLength: 300 }).filter((s) => !s.includes(';'));
    fc.assert(
      fc.property(fc.array(fc.record({ key: fc.integer({ min: 0, max: 255 }), value }), { minLength: 1, maxLength: 5 }), fc.boolean(), (values, gzip) => {
        expect(decodeMetaValues(encodeMetaValues(values, gzip))).toEqual(values);
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('rejects corrupt encodings', () => {
    expect(() => decodeMetaValues('%%%')).toThrow(/base64/);
    expect(() => decodeMetaValues(Buffer.from('nokey').toString('base64'))).toThrow(/invalid META value/);
    const gz = Buffer.from(encodeMetaValues([{ key: 1, value: 'z'.repeat(500) }], true), 'base64');
    gz[gz.length - 5]! ^= 0xff;
    expect(() => decodeMetaValues(gz.toString('base64'))).toThrow(/E_META_GZIP|META environment value/);
  });
});
