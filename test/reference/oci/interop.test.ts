/**
 * Interoperability with tools nobody here wrote: skopeo reads and copies what imagekit pushes
 * (and verifies every digest while doing so), imagekit pulls what skopeo pushes from an
 * umoci-made layout, and umoci's own unpack (OCI whiteout semantics) agrees with our flattening.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobCache } from '../../../src/oci/blob-cache.js';
import { flattenImage } from '../../../src/oci/flatten.js';
import { openLayoutImage, writeImageToLayout } from '../../../src/oci/layout.js';
import { parsePlatform } from '../../../src/oci/platform.js';
import { pullImage } from '../../../src/oci/remote.js';
import { RegistryClient } from '../../../src/oci/registry-client.js';
import type { LayerSpec } from '../../../src/oci/image-builder.js';
import { pushTestImage, startRegistry, type PushedTestImage, type TestRegistry } from '../../helpers/registry.js';
import { missingTools, runTool } from '../../helpers/tools.js';
import { dirSummary, shortSha, treeSummary } from '../../helpers/tree-summary.js';

const skip = missingTools('docker-registry', 'skopeo', 'umoci');
const tmp = mkdtempSync(join(tmpdir(), 'imagekit-interop-'));
let n = 0;
const fresh = (p: string) => join(tmp, `${p}${n++}`);
let reg: TestRegistry;
let ours: PushedTestImage;
/** The same without zstd: umoci 0.4 cannot unpack zstd layers. */
let oursGzip: PushedTestImage;

/** A layered image exercising whiteouts, opaque dirs, symlinks, hard links and all compressions. */
const layersFor = (p: string, zstd = true): LayerSpec[] => [
  {
    compression: 'gzip',
    entries: [
      { name: 'etc/', type: 'dir', mode: 0o755 },
      { name: 'etc/platform', type: 'file', data: Buffer.from(p) },
      { name: 'etc/removed', type: 'file', data: Buffer.from('gone soon') },
      { name: 'opt/', type: 'dir' },
      { name: 'opt/app/', type: 'dir' },
      { name: 'opt/app/old1', type: 'file', data: Buffer.from('old1') },
      { name: 'opt/app/old2', type: 'file', data: Buffer.from('old2') },
      { name: 'bin/', type: 'dir' },
      { name: 'bin/busybox', type: 'file', data: Buffer.from('BUSYBOX'), mode: 0o755 },
      { name: 'bin/sh', type: 'hardlink', linkname: 'bin/busybox' },
    ],
  },
  {
    compression: zstd ? 'zstd' : 'gzip',
    entries: [
      { name: 'etc/.wh.removed', type: 'file', data: Buffer.alloc(0) },
      { name: 'opt/app/', type: 'dir' },
      { name: 'opt/app/.wh..wh..opq', type: 'file', data: Buffer.alloc(0) },
      { name: 'opt/app/new', type: 'file', data: Buffer.from('new') },
      { name: 'usr/', type: 'dir' },
      { name: 'usr/lib/', type: 'dir' },
      { name: 'usr/lib/os-release', type: 'file', data: Buffer.from('ID=test\n') },
      { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
    ],
  },
  { compression: 'none', entries: [{ name: 'etc/platform', type: 'file', data: Buffer.from(`${p} (top)`) }] },
];

beforeAll(async () => {
  if (skip) return;
  reg = await startRegistry();
  ours = await pushTestImage(reg.host, 'interop/ours:v1', { platforms: ['linux/amd64', 'linux/arm64'], layersFor });
  oursGzip = await pushTestImage(reg.host, 'interop/ours-gzip:v1', { platforms: ['linux/amd64'], layersFor: (p) => layersFor(p, false) });
});
afterAll(async () => {
  await reg?.stop();
  ours?.cleanup();
  oursGzip?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(skip)('skopeo and umoci agree with imagekit', () => {
  it('skopeo inspect reads our index and each platform manifest', () => {
    const raw = runTool('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ours.ref}`]);
    expect(raw.status, raw.stderr).toBe(0);
    const idx = JSON.parse(raw.stdout);
    expect(idx.manifests.map((m: { digest: string }) => m.digest)).toEqual(ours.images.map((i) => i.descriptor.digest));
    for (const [i, arch] of [[0, 'amd64'], [1, 'arm64']] as const) {
      const r = runTool('skopeo', ['inspect', '--tls-verify=false', '--override-os', 'linux', '--override-arch', arch, `docker://${ours.ref}`]);
      expect(r.status, r.stderr).toBe(0);
      const info = JSON.parse(r.stdout);
      expect(info.Architecture).toBe(arch);
      expect(info.Digest).toBe(ours.digest); // skopeo reports the digest of what the tag names (the index)
      expect(info.Layers).toEqual(ours.images[i]!.layers.map((l) => l.digest));
    }
  });

  it('skopeo copy (which verifies every blob) to an OCI layout gives the same flattened tree as our pull', async () => {
    const layout = fresh('skopeo-layout');
    const r = runTool('skopeo', ['--insecure-policy', 'copy', '--src-tls-verify=false', '--override-arch', 'arm64', `docker://${ours.ref}`, `oci:${layout}:v1`]);
    expect(r.status, r.stderr).toBe(0);
    const cache = new BlobCache(fresh('cache'));
    const fromLayout = await openLayoutImage(layout, parsePlatform('linux/arm64'), { refName: 'v1' });
    const pulled = await pullImage(ours.ref, { platform: parsePlatform('linux/arm64'), cache, client: new RegistryClient() });
    // skopeo compresses our uncompressed layer for the OCI layout, so the manifest differs; the
    // config (diff IDs) and the flattened content must not.
    expect(fromLayout.manifest.config.digest).toBe(pulled.manifest.config.digest);
    expect(fromLayout.layers.map((l) => l.diffId)).toEqual(pulled.layers.map((l) => l.diffId));
    const a = await treeSummary(await flattenImage(fromLayout, { cache }));
    const b = await treeSummary(await flattenImage(pulled, { cache }));
    expect(a).toEqual(b);
    expect(a['etc/platform']).toBe(`file ${shortSha(Buffer.from('linux/arm64 (top)'))}`);
  });

  it('umoci unpack of our image agrees with our flattening (whiteouts, opaque dirs, hard links, symlinks)', async () => {
    const layout = fresh('our-layout');
    const cache = new BlobCache(fresh('cache'));
    const img = await pullImage(oursGzip.ref, { platform: parsePlatform('linux/amd64'), cache, client: new RegistryClient() });
    await writeImageToLayout(layout, img, { refName: 'v1' });
    const bundle = fresh('bundle');
    const r = runTool('umoci', ['unpack', '--rootless', '--image', `${layout}:v1`, bundle]);
    expect(r.status, r.stderr).toBe(0);
    const theirs = dirSummary(join(bundle, 'rootfs'));
    const mine = await treeSummary(await flattenImage(img, { cache }));
    expect(mine).toEqual(theirs);
    expect(mine['opt/app/new']).toBeDefined();
    expect(mine['opt/app/old1']).toBeUndefined();
    expect(mine['etc/removed']).toBeUndefined();
  });

  it('we pull what skopeo pushed from an umoci-made layout (descriptors without platform; umoci whiteouts)', async () => {
    const layout = fresh('umoci-layout');
    const bundle = fresh('umoci-bundle');
    const run = (args: string[]) => {
      const r = runTool('umoci', args);
      expect(r.status, `umoci ${args.join(' ')}: ${r.stderr}`).toBe(0);
    };
    run(['init', '--layout', layout]);
    run(['new', '--image', `${layout}:t`]);
    run(['config', '--image', `${layout}:t`, '--os', 'linux', '--architecture', 'amd64']);
    run(['unpack', '--rootless', '--image', `${layout}:t`, bundle]);
    const rootfs = join(bundle, 'rootfs');
    mkdirSync(join(rootfs, 'data/sub'), { recursive: true });
    writeFileSync(join(rootfs, 'data/keep'), 'keep');
    writeFileSync(join(rootfs, 'data/drop'), 'drop');
    writeFileSync(join(rootfs, 'data/sub/deep'), 'deep');
    writeFileSync(join(rootfs, 'big'), Buffer.alloc(200_000, 7));
    linkSync(join(rootfs, 'big'), join(rootfs, 'big-link'));
    symlinkSync('data/keep', join(rootfs, 'alias'));
    run(['repack', '--image', `${layout}:t`, bundle]);
    // A second layer: unpack the new state again and delete/change things (umoci writes whiteouts).
    const bundle2 = fresh('umoci-bundle');
    run(['unpack', '--rootless', '--image', `${layout}:t`, bundle2]);
    const rootfs2 = join(bundle2, 'rootfs');
    rmSync(join(rootfs2, 'data/drop'));
    rmSync(join(rootfs2, 'data/sub'), { recursive: true });
    writeFileSync(join(rootfs2, 'data/keep'), 'kept, changed');
    run(['repack', '--image', `${layout}:t`, bundle2]);

    const target = `${reg.host}/interop/umoci:t`;
    const r = runTool('skopeo', ['--insecure-policy', 'copy', '--dest-tls-verify=false', `oci:${layout}:t`, `docker://${target}`]);
    expect(r.status, r.stderr).toBe(0);
    const cache = new BlobCache(fresh('cache'));
    const img = await pullImage(target, { platform: parsePlatform('linux/amd64'), cache, client: new RegistryClient() });
    expect(img.layers.length).toBeGreaterThanOrEqual(2);
    const mine = await treeSummary(await flattenImage(img, { cache }));
    expect(mine).toEqual(dirSummary(rootfs2));
    expect(mine['data/drop']).toBeUndefined();
    expect(mine['data/sub']).toBeUndefined();
    // And straight from umoci's layout (its index entries carry no platform).
    const direct = await openLayoutImage(layout, parsePlatform('linux/amd64'), { refName: 't' });
    expect(await treeSummary(await flattenImage(direct, { cache }))).toEqual(mine);
  });
});
