/**
 * `imagekit serve` against a real registry (Debian's docker-registry) holding a small Talos-shaped
 * world, driven with curl and jq as a user script drives factory.talos.dev: versions, catalogs,
 * schematics (IDs equal to `imagekit schematic id`), assets of every kind the pipeline builds —
 * each checked with a tool nobody here wrote (sha256sum -c, zstd + cpio + unsquashfs for the
 * initramfs and its schematic extension, objdump/objcopy for the UKI, skopeo for the installer
 * tarball, zstd + sgdisk for a streamed disk image) — and PXE scripts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPECTED_VERSIONS, TALOS } from './factory-world.js';
import { harnessMissing, startHarness, type Harness } from './harness.js';
import { curl, jq, run } from './run.js';

const skip = harnessMissing('curl', 'jq', 'sha256sum', 'objdump', 'objcopy', 'zstd', 'cpio', 'unsquashfs', 'skopeo', 'sgdisk');
const REPO = join(import.meta.dirname, '../../..');

let h: Harness;
let base: string;

beforeAll(async () => {
  if (skip) return;
  h = await startHarness();
  base = h.base;
});

afterAll(async () => {
  await h?.stop();
});

async function postSchematic(body: string): Promise<{ id: string; schematic: string }> {
  const r = await curl(['-X', 'POST', '--data-binary', '@-', `${base}/schematics`], body);
  expect(r.status, r.text).toBe(201);
  return JSON.parse(r.text) as { id: string; schematic: string };
}

let n = 0;
async function cliSchematicId(body: string): Promise<string> {
  const f = join(h.tmp, `schematic-${n++}.yaml`);
  writeFileSync(f, body);
  const r = await run(process.execPath, [join(REPO, 'bin/imagekit.js'), 'schematic', 'id', f]);
  expect(r.status, r.stderr).toBe(0);
  return r.text.trim();
}

async function download(url: string, name: string): Promise<{ path: string; headers: Record<string, string> }> {
  const path = join(h.tmp, name);
  const r = await curl(['-o', path, url]);
  expect(r.status, readFileSync(path, 'utf8').slice(0, 300)).toBe(200);
  return { path, headers: r.headers };
}

describe.skipIf(skip)('imagekit serve: seed steps with curl + jq', () => {
  it('lists the versions of the imager tags, filtered as upstream', async () => {
    const r = await curl([`${base}/versions`]);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(JSON.parse(await jq('.', r.body, ['-c']))).toEqual(EXPECTED_VERSIONS);
    expect(r.text.endsWith('\n')).toBe(true);
    const broken = await curl([`${base}/versions?broken=true`]);
    expect(broken.text).toBe('[]\n');
  });

  it('lists the official extensions of a version with the configured registry in ref', async () => {
    const r = await curl([`${base}/version/${TALOS}/extensions/official`]);
    expect(r.status, r.text).toBe(200);
    const names = (await jq('.[].name', r.body, ['-r'])).trim().split('\n');
    expect(names).toEqual(h.world.extensions.map((e) => e.name));
    const gvisor = JSON.parse(await jq('.[] | select(.name == "siderolabs/gvisor")', r.body, ['-c']));
    const ext = h.world.extensions[0]!;
    expect(gvisor).toEqual({ name: ext.name, ref: `${h.world.registry.host}/${ext.name}:${ext.tag}`, digest: ext.digest, author: ext.author, description: ext.description });
    // Go's encoder escapes <, > and & in strings.
    expect(r.text).toContain('QEMU guest agent \\u003c\\u0026\\u003e \\"quoted\\"');
    // Without the v, as upstream accepts it.
    const bare = await curl([`${base}/version/${TALOS.slice(1)}/extensions/official`]);
    expect(bare.text).toBe(r.text);
  });

  it('lists overlays (and [] for Talos < 1.7 without looking the version up)', async () => {
    const r = await curl([`${base}/version/${TALOS}/overlays/official`]);
    expect(r.status, r.text).toBe(200);
    expect(JSON.parse(r.text)).toEqual([{ name: 'rpi_generic', image: 'siderolabs/sbc-raspberrypi', ref: 'ghcr.io/siderolabs/sbc-raspberrypi:v0.1.4', digest: `sha256:${'ab'.repeat(32)}` }]);
    const old = await curl([`${base}/version/1.6.0/overlays/official`]);
    expect([old.status, old.text]).toEqual([200, '[]\n']);
  });

  it('creates the three Talos-docs schematics with the IDs of imagekit schematic id', async () => {
    const docs = [
      ['customization:\n  extraKernelArgs:\n    - net.ifnames=0\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/gvisor\n      - siderolabs/intel-ucode\n', 'b8e8fbbe1b520989e6c52c8dc8303070cb42095997e76e812fa8892393e1d176'],
      ['overlay:\n  image: siderolabs/sbc-raspberrypi\n  name: rpi_generic\ncustomization:\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/iscsi-tools\n', 'f47e6cd2634c7a96988861031bcc4144468a1e3aef82cca4f5b5ca3fffef778a'],
      ['customization:\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/gvisor\n', 'd9ff89777e246792e7642abd3220a616afb4e49822382e4213a2e528ab826fe5'],
    ] as const;
    for (const [body, id] of docs) {
      const r = await curl(['-X', 'POST', '-H', 'Content-Type: application/yaml', '--data-binary', '@-', `${base}/schematics`], body);
      expect(r.status, r.text).toBe(201);
      expect(r.headers['content-type']).toBe('application/json');
      expect((await jq('.id', r.body, ['-r'])).trim()).toBe(id);
      expect(await cliSchematicId(body)).toBe(id);
      const back = await curl([`${base}/schematics/${id}`]);
      expect(back.status).toBe(200);
      expect(back.headers['content-type']).toBe('application/yaml');
      expect(back.text).toBe(JSON.parse(r.text).schematic);
      // The same schematic as JSON: same ID (the ID hashes the decoded value, not the bytes).
      const asJson = await curl(['-X', 'POST', '--data-binary', '@-', `${base}/schematics`], JSON.stringify(yamlToJson(body)));
      expect(JSON.parse(asJson.text).id).toBe(id);
    }
  });

  it('builds the kernel command line and serves it with upstream headers', async () => {
    const { id } = await postSchematic('{"customization":{"extraKernelArgs":["console=ttyS1","net.ifnames=0"]}}');
    const r = await curl([`${base}/image/${id}/${TALOS}/cmdline-metal-amd64`]);
    expect(r.status, r.text).toBe(200);
    expect(r.headers['content-type']).toBe('application/octet-stream');
    expect(r.headers['content-disposition']).toBe('attachment; filename="cmdline-metal-amd64"');
    expect(r.headers['content-length']).toBe(String(r.body.length));
    expect(r.headers.server).toBe('imagekit-serve');
    expect(r.text).toMatch(/^talos\.platform=metal /);
    expect(r.text).toContain(' console=ttyS1');
    expect(r.text).toContain(' net.ifnames=0');
    expect(r.text.endsWith('\n')).toBe(false);
    const head = await curl(['-I', '-o', '/dev/null', `${base}/image/${id}/${TALOS}/cmdline-metal-amd64`]);
    expect([head.status, head.headers['content-length'], head.headers['content-type']]).toEqual([200, String(r.body.length), 'application/octet-stream']);
  });

  it('serves the imager kernel byte for byte; its free checksums agree with sha256sum', async () => {
    const { id } = await postSchematic('customization: {}\n');
    const { path } = await download(`${base}/image/${id}/${TALOS}/kernel-amd64`, 'kernel-amd64');
    expect(readFileSync(path).equals(h.world.kernel)).toBe(true);
    const sidecar = await curl([`${base}/image/${id}/${TALOS}/kernel-amd64.sha256`]);
    expect(sidecar.status).toBe(200);
    expect(sidecar.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(sidecar.headers['content-disposition']).toBe('attachment; filename="kernel-amd64.sha256"');
    expect(sidecar.text).toMatch(/^[0-9a-f]{64} {2}kernel-amd64\n$/);
    const check = await run('sha256sum', ['-c', '-'], { input: sidecar.text, cwd: h.tmp });
    expect(check.status, check.stderr).toBe(0);
    const named = await curl([`${base}/image/${id}/${TALOS}/kernel-amd64.sha512?filename=vmlinuz`]);
    expect(named.headers['content-disposition']).toBe('attachment; filename="vmlinuz.sha512"');
    const sha512 = await run('sha512sum', [path]);
    expect(named.text).toBe(`${sha512.text.split(' ')[0]}  vmlinuz\n`);
    // ?filename= renames the attachment only.
    const renamed = await curl(['-I', '-o', '/dev/null', `${base}/image/${id}/${TALOS}/kernel-amd64?filename=vmlinuz-talos`]);
    expect(renamed.headers['content-disposition']).toBe('attachment; filename="vmlinuz-talos"');
  });

  it('appends the official extensions and the schematic extension to the initramfs (zstd, cpio, unsquashfs)', async () => {
    const body = 'customization:\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/gvisor\n      - siderolabs/intel-ucode\n';
    const { id, schematic } = await postSchematic(body);
    const { path, headers } = await download(`${base}/image/${id}/${TALOS}/initramfs-amd64.xz`, 'initramfs-amd64.xz');
    expect(headers['content-type']).toBe('application/x-xz');
    const bytes = readFileSync(path);
    // The base initramfs is kept as it is and the extensions follow it (never decompressed).
    expect(bytes.subarray(0, h.world.initramfs.length).equals(h.world.initramfs)).toBe(true);
    const appended = join(h.tmp, 'appended.cpio.zst');
    writeFileSync(appended, bytes.subarray(h.world.initramfs.length));
    const unpack = join(h.tmp, 'initramfs-unpacked');
    const cpio = await run('sh', ['-c', `mkdir -p ${unpack} && cd ${unpack} && zstd -dc ${appended} | cpio -id --quiet && ls`]);
    expect(cpio.status, cpio.stderr).toBe(0);
    expect(cpio.text.trim().split('\n')).toEqual(['0.sqsh', '1.sqsh', '2.sqsh', 'extensions.yaml']);
    const layers = readFileSync(join(unpack, 'extensions.yaml'), 'utf8');
    expect(layers).toMatch(/name: gvisor[\s\S]*name: intel-ucode[\s\S]*name: schematic/);
    expect(layers).toContain(`version: ${id}`);
    expect(layers).toContain(`author: Image Factory (${h.server.externalUrl})`);
    // Talos ≥ 1.7: the canonical schematic travels in extraInfo.
    expect(layers).toContain('extraInfo: |\n' + schematic.split('\n').filter(Boolean).map((l) => `            ${l}`).join('\n'));
    const listing = await run('unsquashfs', ['-lc', join(unpack, '2.sqsh')]);
    expect(listing.text.trim().split('\n')).toEqual([`squashfs-root/usr/local/share/schematic/${id}`]);
    const gvisor = await run('unsquashfs', ['-cat', join(unpack, '0.sqsh'), 'usr/local/share/imagekit/gvisor.marker']);
    expect(gvisor.text).toBe(`${h.world.extensions[0]!.marker}\n`);
  });

  it('assembles a UKI whose sections hold the same initramfs and the command line (objdump, objcopy)', async () => {
    const { id } = await postSchematic('customization:\n  extraKernelArgs: [talos.dashboard.disabled=1]\n  systemExtensions:\n    officialExtensions: [siderolabs/gvisor]\n');
    const uki = await download(`${base}/image/${id}/${TALOS}/metal-amd64-uki.efi`, 'uki.efi');
    expect(uki.headers['content-type']).toBe('application/efi');
    const sections = await run('objdump', ['-h', uki.path]);
    for (const s of ['.osrel', '.cmdline', '.linux', '.initrd']) expect(sections.text).toContain(` ${s} `);
    const initrd = join(h.tmp, 'uki.initrd');
    const linux = join(h.tmp, 'uki.linux');
    const cmdline = join(h.tmp, 'uki.cmdline');
    const dump = await run('objcopy', ['-O', 'binary', `--dump-section=.initrd=${initrd}`, `--dump-section=.linux=${linux}`, `--dump-section=.cmdline=${cmdline}`, uki.path, join(h.tmp, 'uki.rest')]);
    expect(dump.status, dump.stderr).toBe(0);
    const served = await download(`${base}/image/${id}/${TALOS}/initramfs-amd64.xz`, 'uki-initramfs.xz');
    expect(readFileSync(initrd).equals(readFileSync(served.path))).toBe(true);
    expect(readFileSync(linux).subarray(0, h.world.kernel.length).equals(h.world.kernel)).toBe(true);
    const expectedCmdline = await curl([`${base}/image/${id}/${TALOS}/cmdline-metal-amd64`]);
    expect(readFileSync(cmdline, 'utf8').replace(/\0+$/, '')).toBe(expectedCmdline.text);
  });

  it('builds the installer tarball from the registry installer-base (skopeo reads it)', async () => {
    const { id } = await postSchematic('customization:\n  systemExtensions:\n    officialExtensions: [siderolabs/iscsi-tools]\n');
    const tar = await download(`${base}/image/${id}/${TALOS}/installer-amd64.tar`, 'installer-amd64.tar');
    expect(tar.headers['content-type']).toBe('application/x-tar');
    const inspect = await run('skopeo', ['inspect', '--raw', `docker-archive:${tar.path}`]);
    expect(inspect.status, inspect.stderr).toBe(0);
    const manifest = JSON.parse(inspect.text) as { layers: unknown[] };
    expect(manifest.layers.length).toBe(2);
    const config = await run('skopeo', ['inspect', '--config', `docker-archive:${tar.path}`]);
    expect(JSON.parse(config.text).architecture).toBe('amd64');
  });

  it('streams a disk image while it is built; zstd and sgdisk accept it', async () => {
    const { id } = await postSchematic('customization:\n  extraKernelArgs: [stream=1]\n');
    const url = `${base}/image/${id}/${TALOS}/metal-amd64.raw.zst`;
    const first = await download(url, 'metal-amd64.raw.zst');
    // Built while sent: chunked, no Content-Length (upstream waits and sends the length).
    expect(first.headers['transfer-encoding']).toBe('chunked');
    expect(first.headers['content-length']).toBeUndefined();
    expect(first.headers['content-type']).toBe('application/zstd');
    expect((await run('zstd', ['-t', first.path])).status).toBe(0);
    // Cached now: the same bytes with a Content-Length.
    const again = await download(url, 'metal-amd64-again.raw.zst');
    expect(again.headers['content-length']).toBe(String(readFileSync(first.path).length));
    expect(readFileSync(again.path).equals(readFileSync(first.path))).toBe(true);
    const raw = join(h.tmp, 'metal.raw');
    const unz = await run('sh', ['-c', `zstd -dc ${first.path} | cp --sparse=always /dev/stdin ${raw}`], { timeoutMs: 120_000 });
    expect(unz.status, unz.stderr).toBe(0);
    const verify = await run('sgdisk', ['-v', raw]);
    expect(verify.text).toContain('No problems found');
    const parts = await run('sgdisk', ['-p', raw]);
    expect(parts.text).toMatch(/EFI/);
    expect(parts.text).toMatch(/META/);
  });

  it('answers PXE scripts as upstream renders them', async () => {
    const { id } = await postSchematic('customization:\n  extraKernelArgs: [ip=dhcp]\n');
    const r = await curl([`${base}/pxe/${id}/${TALOS.slice(1)}/metal-x86_64`]);
    expect(r.status, r.text).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    const cmdline = await curl([`${base}/image/${id}/${TALOS}/cmdline-metal-amd64`]);
    const prefix = `${h.server.externalUrl}image/${id}/${TALOS}`;
    expect(r.text).toBe(`#!ipxe\n\nimgfree\nkernel ${prefix}/kernel-amd64 ${cmdline.text}\ninitrd ${prefix}/initramfs-amd64.xz\nboot\n`);
    const kernel = await curl(['-o', '/dev/null', `${prefix}/kernel-amd64`]);
    expect(kernel.status).toBe(200);
  });

  it('only ever contacted the configured registry', () => {
    expect([...h.contacted]).toEqual([h.world.registry.host]);
  });
});

/** The three docs schematics as JSON objects (what a JSON client would send). */
function yamlToJson(yaml: string): unknown {
  const exts = [...yaml.matchAll(/- (siderolabs\/[\w-]+)/g)].map((m) => m[1]);
  const args = [...yaml.matchAll(/- (net\.ifnames=0)/g)].map((m) => m[1]);
  const customization: Record<string, unknown> = {};
  if (args.length) customization.extraKernelArgs = args;
  customization.systemExtensions = { officialExtensions: exts };
  return yaml.startsWith('overlay') ? { customization, overlay: { name: 'rpi_generic', image: 'siderolabs/sbc-raspberrypi' } } : { customization };
}
