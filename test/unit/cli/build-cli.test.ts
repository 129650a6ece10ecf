/**
 * `imagekit build` end to end through the installed entry point (`node bin/imagekit.js`, compiled
 * by `npx tsc -p tsconfig.build.json`, which the test command runs first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { tempDir } from '../../helpers/tools.js';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/imagekit.js');

function imagekit(args: string[], opts: { input?: string; cwd?: string } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: opts.cwd ?? work, input: opts.input ?? '', encoding: 'utf8', env: { ...process.env, IMAGEKIT_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same CLI in this process (no process start-up per case); exit code as `main` returns it. */
async function imagekitInProcess(args: string[]) {
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (err.push(String(c)), true));
  try {
    return { code: await main(['node', 'imagekit', ...args]), stderr: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

let work = '';
let cleanup = () => {};
beforeAll(() => {
  if (!existsSync(join(root, 'dist/cli/commands/build.js'))) throw new Error('dist/ is missing: run `npx tsc -p tsconfig.build.json` first');
  ({ dir: work, cleanup } = tempDir('imagekit-cli-'));
});
afterAll(() => cleanup());

const METAL_AMD64_111 =
  'talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1';

describe('imagekit build … --output-kind cmdline', () => {
  it('metal cmdline: the command line, no trailing newline, post-processed by the profile\'s outFormat, no network', () => {
    const r = imagekit(['build', 'metal', '--arch', 'amd64', '--version', 'v1.11.0', '--output-kind', 'cmdline', '--output', 'out/']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    // The metal profile's outFormat .zst post-processes every output kind, as upstream (zstd -18).
    const z = spawnSync('zstd', ['-dc', join(work, 'out/cmdline-metal-amd64.zst')]);
    expect(z.status).toBe(0);
    expect(z.stdout.toString('utf8')).toBe(METAL_AMD64_111);
    expect(readdirSync(join(work, 'out'))).toEqual(['cmdline-metal-amd64.zst']);
    // The resolved profile is printed to stderr first, as the imager does.
    expect(r.stderr).toMatch(/^arch: amd64\nplatform: metal\nsecureboot: false\nname: Talos\nversion: v1.11.0\ninput:\n/);
    expect(r.stderr).toContain('output:\n  kind: cmdline\n');
    expect(r.stderr).toContain(`kernel command line: ${METAL_AMD64_111}\n`);
    expect(r.stderr.endsWith('output asset path: out/cmdline-metal-amd64.zst\n')).toBe(true);
  });

  it('the golden 1.14 arm64 line, extra kernel args, META and secureboot naming', () => {
    const out = join(work, 'o2');
    let r = imagekit(['build', 'metal', '--arch', 'arm64', '--version', 'v1.14.0', '--output-kind', 'cmdline', '--out-format', 'raw', '--output', out]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, 'cmdline-metal-arm64'), 'utf8')).toBe(
      'talos.platform=metal console=ttyAMA0 console=tty0 slab_nomerge pti=on consoleblank=0 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never',
    );
    expect(r.stderr).not.toContain('warning');
    r = imagekit([
      'build', 'aws', '--arch', 'amd64', '--version', '1.13.0', '--output-kind', 'cmdline', '--out-format', 'raw', '--output', out,
      '--extra-kernel-arg', 'console=ttyS1', '--extra-kernel-arg', '-selinux', '--extra-kernel-arg', 'net.ifnames=1',
      '--meta', '0x0a=abc', '--meta', '17=x=y',
    ]);
    expect(r.code).toBe(0);
    const meta = Buffer.from('0xa=abc;0x11=x=y').toString('base64');
    expect(readFileSync(join(out, 'cmdline-aws-amd64'), 'utf8')).toBe(
      `talos.platform=aws console=ttyS1 net.ifnames=0 net.ifnames=1 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on module.sig_enforce=1 proc_mem.force_override=never talos.environment=INSTALLER_META_BASE64=${meta}`,
    );
    r = imagekit(['build', 'secureboot-metal', '--arch', 'amd64', '--version', '1.13.0', '--output-kind', 'cmdline', '--out-format', 'raw', '--output', out]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, 'cmdline-metal-amd64-secureboot'), 'utf8')).toMatch(/proc_mem.force_override=never lockdown=confidentiality$/);
  });

  it('reads a profile from stdin (unknown keys ignored) and from a file', () => {
    const out = join(work, 'o3');
    const yaml = `board: rpi_generic\narch: arm64\nplatform: nocloud\nversion: v1.12.0\nsurprise: {a: 1}\noutput: {kind: cmdline, outFormat: raw}\ncustomization:\n  extraKernelArgs: [-console]\n`;
    let r = imagekit(['build', '-', '--output', out], { input: yaml });
    expect(r.stderr).toContain('platform: nocloud');
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, 'cmdline-nocloud-arm64'), 'utf8')).toBe(
      'talos.platform=nocloud net.ifnames=0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1 module.sig_enforce=1',
    );
    writeFileSync(join(work, 'p.yaml'), 'baseProfileName: gcp\narch: amd64\nversion: 1.14.0\noutput: {kind: cmdline, outFormat: raw}\n');
    r = imagekit(['build', 'p.yaml', '--output', out]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, 'cmdline-gcp-amd64'), 'utf8')).toMatch(/^talos.platform=gcp console=ttyS0 net.ifnames=0 talos.dashboard.disabled=1 sysctl.kernel.kexec_load_disabled=1 slab_nomerge/);
  });
});

describe('imagekit build progress on stderr', () => {
  const args = ['build', 'metal', '--arch', 'amd64', '--version', 'v1.11.0', '--output-kind', 'cmdline', '--out-format', '.xz'];
  it('tty: a status line rewritten in place and one line per finished step; plain: lines only; none/--quiet: nothing', () => {
    const tty = imagekit([...args, '--output', join(work, 'p-tty'), '--progress', 'tty']);
    expect(tty.code).toBe(0);
    expect(tty.stderr).toContain('\r\x1b[K');
    expect(tty.stderr).toMatch(/✓ output: .*cmdline-metal-amd64\.xz \d+ bytes sha256:[0-9a-f]{64} \(\d+\.\ds\)\n/);
    const plain = imagekit([...args, '--output', join(work, 'p-plain'), '--progress', 'plain']);
    expect(plain.stderr).not.toContain('\r');
    expect(plain.stderr).toMatch(/✓ output: /);
    for (const quiet of [['--progress', 'none'], ['--quiet']]) {
      const q = imagekit([...args, '--output', join(work, `p-${quiet.join('')}`), ...quiet]);
      expect(q.code).toBe(0);
      expect(q.stderr).toBe(quiet[0] === '--quiet' ? '' : q.stderr);
      expect(q.stderr).not.toContain('✓');
    }
    expect(imagekit([...args, '--progress', 'fancy']).code).toBe(2);
  });
});

describe('imagekit build --tar-to-stdout', () => {
  it('writes the output directory as .tar.gz to stdout (GNU tar reads it)', () => {
    const out = join(work, 'tar-out');
    const r = spawnSync(process.execPath, [bin, 'build', 'metal', '--arch', 'amd64', '--version', 'v1.11.0', '--output-kind', 'cmdline', '--out-format', 'raw', '--output', out, '--tar-to-stdout', '--quiet'], { cwd: work });
    expect(r.status, String(r.stderr)).toBe(0);
    const t = spawnSync('tar', ['-xzOf', '-', 'cmdline-metal-amd64'], { input: r.stdout });
    expect(t.status, String(t.stderr)).toBe(0);
    expect(t.stdout.toString('utf8')).toBe(METAL_AMD64_111);
    expect(readFileSync(join(out, 'cmdline-metal-amd64'), 'utf8')).toBe(METAL_AMD64_111);
    const both = imagekit(['build', 'metal', '--output-kind', 'cmdline', '--tar-to-stdout', '--output', '-']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/imagekit: --tar-to-stdout archives the --output directory; it cannot be combined with --output -\n$/);
  });
});

describe('imagekit build: failures leave no output', () => {
  it.each([
    [['build', 'nope', '--output-kind', 'cmdline'], 2, /^imagekit: unknown base profile: nope /],
    [['build', 'metal', '--arch', 'x86_64', '--output-kind', 'cmdline'], 2, /^imagekit: invalid --arch "x86_64": expected amd64 or arm64\n$/],
    [['build', 'metal', '--version', 'latest', '--output-kind', 'cmdline'], 2, /^imagekit: invalid --version "latest": expected a Talos version such as v1.11.0\n$/],
    [['build', 'metal', '--output-kind', 'floppy'], 2, /^imagekit: invalid --output-kind "floppy": expected one of iso, image, installer, kernel, initramfs, uki, cmdline\n$/],
    [['build', 'metal', '--output-kind', 'cmdline', '--meta', '300=x'], 2, /invalid --meta key "300"/],
    [['build', 'metal', '--output-kind', 'cmdline', '--platform', 'floppy', '--arch', 'amd64'], 2, /unknown platform: "floppy"/],
    [['build', 'metal', '--output-kind', 'kernel', '--extra-kernel-arg', 'a', '--arch', 'amd64'], 2, /profile is invalid: customization of kernel args is not supported for kernel output/],
    [['build', 'metal', '--arch', 'amd64', '--version', 'v1.11.0'], 3, /disk images with bootloader "dual-boot" need an XFS BOOT partition and GRUB/],
    [['build', 'metal', '--arch', 'amd64', '--version', 'v1.9.0'], 3, /disk images with bootloader "grub"/],
    [['build', 'vmware', '--arch', 'amd64', '--bootloader', 'sd-boot'], 3, /disk format ova is not supported yet/],
    [['build', 'secureboot-metal', '--arch', 'amd64'], 6, /cannot read SecureBoot signing key \/secureboot\/uki-signing-key.pem: ENOENT/],
    [['build', 'secureboot-metal', '--arch', 'amd64', '--secureboot-signer-address', 'unix:///run/signer.sock'], 3, /input.secureboot.secureBootSigner: signerAddress signers are not supported yet/],
    [['build', 'iso', '--arch', 'amd64'], 3, /output kind iso is not supported yet/],
    [['build', 'metal', '--output-kind', 'cmdline', '--overlay-image', 'ghcr.io/siderolabs/sbc-raspberrypi:v0.1.0', '--overlay-name', 'rpi_generic', '--arch', 'arm64'], 3, /overlays are not supported yet/],
    [['build', 'metal', '--embedded-config-path', '/nonexistent/config.yaml', '--output-kind', 'cmdline'], 6, /cannot read embedded config \/nonexistent\/config.yaml: ENOENT/],
  ])('%j → exit %i', async (args, code, message) => {
    const out = join(work, `fail-${code}-${JSON.stringify(args).length}`);
    const r = await imagekitInProcess([...(args as string[]), '--output', out]);
    expect(r.code).toBe(code);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('imagekit: ')).at(-1)! + '\n').toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('bin/imagekit.js exits 3 for an output kind not built yet, with no output directory', () => {
    const out = join(work, 'unsupported');
    const r = imagekit(['build', 'iso', '--arch', 'amd64', '--version', 'v1.12.0', '--output', out]);
    expect(r.code).toBe(3);
    expect(r.stderr.endsWith('imagekit: output kind iso is not supported yet (supported: cmdline, kernel, initramfs, uki, image, installer)\n')).toBe(true);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses profile flags with a profile from stdin (exit 2)', () => {
    const r = imagekit(['build', '-', '--arch', 'arm64', '--extra-kernel-arg', 'x', '--output', join(work, 'x')], { input: 'arch: amd64\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('imagekit: --arch, --extra-kernel-arg only apply to a base profile name; set them in the profile instead\n');
  });

  it('bad YAML on stdin is invalid input with a one-line message', () => {
    const r = imagekit(['build', '-', '--output', join(work, 'y')], { input: 'output:\n  kind: [cmdline\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^imagekit: stdin: .*\n$/);
    const d = imagekit(['build', '-', '--output', join(work, 'y')], { input: 'output:\n  imageOptions: {diskSize: lots}\n' });
    expect(d.code).toBe(2);
    expect(d.stderr).toBe('imagekit: stdin: output.imageOptions.diskSize: cannot unmarshal !!str `lots` into int64\n');
  });

  it('an output directory that is a file: exit 6, nothing written', () => {
    writeFileSync(join(work, 'afile'), 'x');
    const r = imagekit(['build', 'metal', '--output-kind', 'cmdline', '--output', join(work, 'afile')]);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/imagekit: cannot create output directory .*afile/);
    expect(readFileSync(join(work, 'afile'), 'utf8')).toBe('x');
  });

  it('a directory in the way of the output file: exit 6, no partial file left behind', () => {
    const out = join(work, 'blocked');
    mkdirSync(join(out, 'cmdline-metal-amd64.zst'), { recursive: true });
    const r = imagekit(['build', 'metal', '--arch', 'amd64', '--output-kind', 'cmdline', '--output', out]);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/imagekit: cannot write .*cmdline-metal-amd64.zst/);
    expect(readdirSync(out)).toEqual(['cmdline-metal-amd64.zst']);
    expect(readdirSync(join(out, 'cmdline-metal-amd64.zst'))).toEqual([]);
  });
});

describe('help and usage', () => {
  it('build --help describes every flag; usage errors exit 2', () => {
    const r = imagekit(['build', '--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--arch', '--platform', '--version', '--output <dir|->', '--output-kind', '--out-format', '--bootloader', '--extra-kernel-arg', '--meta',
      '--system-extension-image', '--base-installer-image', '--image-cache', '--insecure', '--overlay-name', '--overlay-image',
      '--overlay-option', '--embedded-config-path', '--secureboot-include-well-known-certs', '--secureboot-signer-address',
      '--pcr-signer-address', '--secureboot-enroll-keys', '--tar-to-stdout',
    ]) expect(r.stdout, flag).toContain(flag);
    expect(imagekit(['build']).code).toBe(2);
    expect(imagekit(['build', 'metal', '--no-such-flag']).code).toBe(2);
  });

  it('profile show --help and profile list', () => {
    const h = imagekit(['profile', 'show', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('--arch <arch>');
    expect(h.stdout).toContain('--version <version>');
    const l = imagekit(['profile', 'list']);
    expect(l.code).toBe(0);
    expect(l.stdout.split('\n')).toContain('secureboot-metal-uki');
  });
});
