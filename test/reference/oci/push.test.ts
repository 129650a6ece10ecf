/**
 * Push: monolithic and chunked blob uploads, Docker and OCI manifest formats, idempotence (blobs
 * the registry has are not sent again); skopeo reads back what was pushed and verifies it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEntry } from '../../../src/core/file-tree.js';
import { BlobCache } from '../../../src/oci/blob-cache.js';
import { flattenImage } from '../../../src/oci/flatten.js';
import { MediaType } from '../../../src/oci/media-types.js';
import { parsePlatform } from '../../../src/oci/platform.js';
import { pullImage } from '../../../src/oci/remote.js';
import { RegistryClient } from '../../../src/oci/registry-client.js';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.js';
import { pushTestImage, startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { missingTools, runTool } from '../../helpers/tools.js';

const skip = missingTools('docker-registry', 'skopeo');
const tmp = mkdtempSync(join(tmpdir(), 'imagekit-push-'));
let reg: TestRegistry;
let proxy: FaultProxy;
const payload = Buffer.alloc(300_000);
for (let i = 0, x = 7; i < payload.length; i++) {
  x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  payload[i] = x >>> 24;
}
const layers = [{ entries: [{ name: 'payload.bin', type: 'file' as const, data: payload }] }];

beforeAll(async () => {
  if (skip) return;
  reg = await startRegistry();
  proxy = await startFaultProxy(reg.url);
});
afterAll(async () => {
  await proxy?.stop();
  await reg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(skip)('push', () => {
  it('chunked upload (PATCH with Content-Range, then PUT ?digest=) is readable by skopeo and by us', async () => {
    proxy.log.length = 0;
    const img = await pushTestImage(proxy.host, 'push/chunked:v1', { platforms: ['linux/amd64'], layers, chunkSize: 64 * 1024 });
    try {
      const patches = proxy.log.filter((l) => l.method === 'PATCH');
      const layerSize = img.images[0]!.layers[0]!.size;
      expect(patches.length).toBe(Math.ceil(layerSize / (64 * 1024)));
      const dir = join(tmp, 'dir1');
      const r = runTool('skopeo', ['--insecure-policy', 'copy', '--src-tls-verify=false', `docker://${reg.host}/push/chunked:v1`, `dir:${dir}`]);
      expect(r.status, r.stderr).toBe(0);
      const cache = new BlobCache(join(tmp, 'c1'));
      const pulled = await pullImage(`${reg.host}/push/chunked:v1`, { platform: parsePlatform('linux/amd64'), cache, client: new RegistryClient() });
      const tree = await flattenImage(pulled, { cache });
      expect((await readEntry(tree.find((e) => e.path === 'payload.bin')!)).equals(payload)).toBe(true);
    } finally {
      img.cleanup();
    }
  });

  it('pushing again sends no blob (the registry has them)', async () => {
    const first = await pushTestImage(proxy.host, 'push/again:v1', { platforms: ['linux/amd64'], layers });
    first.cleanup();
    proxy.log.length = 0;
    const second = await pushTestImage(proxy.host, 'push/again:v2', { platforms: ['linux/amd64'], layers });
    second.cleanup();
    expect(proxy.log.filter((l) => l.method === 'POST' || l.method === 'PATCH' || (l.method === 'PUT' && l.path.includes('/blobs/')))).toEqual([]);
    expect(proxy.log.filter((l) => l.method === 'PUT' && l.path.includes('/manifests/'))).toHaveLength(2); // child by digest + index by tag
  });

  it('Docker manifest list and schema 2 manifests', async () => {
    const img = await pushTestImage(reg.host, 'push/docker:v1', { platforms: ['linux/amd64', 'linux/arm64'], layers, format: 'docker' });
    try {
      const raw = runTool('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${img.ref}`]);
      expect(raw.status, raw.stderr).toBe(0);
      expect(JSON.parse(raw.stdout).mediaType).toBe(MediaType.dockerManifestList);
      const child = runTool('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/push/docker@${img.images[1]!.descriptor.digest}`]);
      expect(JSON.parse(child.stdout).mediaType).toBe(MediaType.dockerManifest);
      const cache = new BlobCache(join(tmp, 'c2'));
      const pulled = await pullImage(img.ref, { platform: parsePlatform('linux/arm64'), cache, client: new RegistryClient() });
      expect(pulled.mediaType).toBe(MediaType.dockerManifest);
      expect(pulled.digest).toBe(img.images[1]!.descriptor.digest);
    } finally {
      img.cleanup();
    }
  });
});
