/**
 * Pull against a real registry (Debian docker-registry on 127.0.0.1): multi-platform images built
 * and pushed with imagekit's own writer, pulled, cached, flattened; offline mode; mirrors.
 */
import { readdirSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEntry, type FileTree } from '../../../src/core/file-tree.js';
import { ImagekitError } from '../../../src/core/errors.js';
import { BlobCache } from '../../../src/oci/blob-cache.js';
import { flattenImage } from '../../../src/oci/flatten.js';
import { parsePlatform } from '../../../src/oci/platform.js';
import { pullImage } from '../../../src/oci/remote.js';
import { RegistryClient } from '../../../src/oci/registry-client.js';
import { registryConfigFromFlags } from '../../../src/oci/registry-config.js';
import { freePort, pushTestImage, startRegistry, type PushedTestImage, type TestRegistry } from '../../helpers/registry.js';
import { missingTools } from '../../helpers/tools.js';

const skip = missingTools('docker-registry');
let reg: TestRegistry;
let multi: PushedTestImage;
const tmp = mkdtempSync(join(tmpdir(), 'imagekit-pull-'));
let n = 0;
const freshCache = () => new BlobCache(join(tmp, `cache${n++}`));
const client = () => new RegistryClient({ retries: 1, backoffMs: 5 });

async function summary(tree: FileTree): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of tree) out[e.path] = e.type === 'file' ? (await readEntry(e)).toString() : e.type === 'symlink' ? `-> ${e.linkTarget}` : e.type;
  return out;
}

beforeAll(async () => {
  if (skip) return;
  reg = await startRegistry();
  multi = await pushTestImage(reg.host, 'ext/multi:v1', {
    platforms: ['linux/amd64', 'linux/arm64'],
    layersFor: (p) => [
      { entries: [{ name: 'etc/', type: 'dir' }, { name: 'etc/arch', type: 'file', data: Buffer.from(p) }, { name: 'etc/old', type: 'file', data: Buffer.from('old') }], compression: 'gzip' },
      { entries: [{ name: 'etc/.wh.old', type: 'file', data: Buffer.alloc(0) }, { name: 'usr/bin/tool', type: 'file', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 }], compression: 'zstd' },
      { entries: [{ name: 'usr/bin/link', type: 'symlink', linkname: 'tool' }], compression: 'none' },
    ],
  });
});
afterAll(async () => {
  await reg?.stop();
  multi?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(skip)('pull from docker-registry', () => {
  it('selects each platform from the index and flattens gzip, zstd and uncompressed layers', async () => {
    for (const p of ['linux/amd64', 'linux/arm64']) {
      const cache = freshCache();
      const img = await pullImage(multi.ref, { platform: parsePlatform(p), cache, client: client() });
      expect(img.indexDigest).toBe(multi.digest);
      expect(img.platform).toMatchObject(parsePlatform(p));
      expect(img.layers).toHaveLength(3);
      const tree = await flattenImage(img, { cache });
      expect(await summary(tree)).toEqual({ etc: 'dir', 'etc/arch': p, usr: 'dir', 'usr/bin': 'dir', 'usr/bin/link': '-> tool', 'usr/bin/tool': '#!/bin/sh\n' });
      expect(tree.find((e) => e.path === 'usr/bin/tool')!.mode).toBe(0o755);
    }
  });

  it('lists the available platforms when the requested one is missing', async () => {
    await expect(pullImage(multi.ref, { platform: parsePlatform('linux/s390x'), cache: freshCache(), client: client() })).rejects.toThrow(
      `${multi.ref} has no image for platform linux/s390x (available: linux/amd64, linux/arm64)`,
    );
  });

  it('pulls by digest, and tag+digest pulls the digest', async () => {
    const cache = freshCache();
    const byDigest = await pullImage(`${reg.host}/ext/multi@${multi.digest}`, { platform: parsePlatform('linux/arm64'), cache, client: client() });
    expect(byDigest.digest).toBe(multi.images[1]!.descriptor.digest);
    const both = await pullImage(`${reg.host}/ext/multi:nonexistent-tag@${multi.digest}`, { platform: parsePlatform('linux/amd64'), cache, client: client() });
    expect(both.digest).toBe(multi.images[0]!.descriptor.digest);
  });

  it('a single-manifest image is used as it is', async () => {
    const single = await pushTestImage(reg.host, 'ext/single:v1', { platforms: ['linux/amd64'], single: true, layers: [{ entries: [{ name: 'hello', type: 'file', data: Buffer.from('hi') }] }] });
    try {
      const warnings: string[] = [];
      const img = await pullImage(single.ref, { platform: parsePlatform('linux/arm64'), cache: freshCache(), client: client(), progress: (e) => e.type === 'warning' && warnings.push(e.message) });
      expect(img.indexDigest).toBeUndefined();
      expect(img.digest).toBe(single.digest);
      expect(warnings.join()).toMatch(/single-platform image for linux\/amd64, not linux\/arm64/);
    } finally {
      single.cleanup();
    }
  });

  it('a missing tag or repository is a clear dependency error', async () => {
    const err = await pullImage(`${reg.host}/ext/multi:nope`, { platform: parsePlatform('linux/amd64'), cache: freshCache(), client: client() }).catch((e) => e);
    expect(err).toBeInstanceOf(ImagekitError);
    expect(err.code).toBe('E_REGISTRY_NOT_FOUND');
    expect(err.exitCode).toBe(5);
    expect(err.message).toMatch(/manifest 127\.0\.0\.1:\d+\/ext\/multi:nope: HEAD http:\/\/127\.0\.0\.1:\d+\/v2\/ext\/multi\/manifests\/nope returned 404/);
  });

  it('offline: works from the cache only, and names what is missing', async () => {
    const cache = freshCache();
    await pullImage(multi.ref, { platform: parsePlatform('linux/amd64'), cache, client: client() });
    // A client pointed at a closed port proves no network is used.
    const dead = new RegistryClient({ retries: 0, registryConfig: registryConfigFromFlags([`${reg.host}=127.0.0.1:${await freePort()}`]) });
    const img = await pullImage(multi.ref, { platform: parsePlatform('linux/amd64'), cache, client: dead, offline: true });
    expect(await summary(await flattenImage(img, { cache }))).toMatchObject({ 'etc/arch': 'linux/amd64' });
    await expect(pullImage(multi.ref, { platform: parsePlatform('linux/arm64'), cache, client: dead, offline: true })).rejects.toThrow(
      /offline: manifest .*ext\/multi:v1 for linux\/arm64 is not in the cache .*; run "imagekit pull 127\.0\.0\.1:\d+\/ext\/multi:v1" while online/,
    );
    const err = await pullImage(`${reg.host}/ext/other:v9`, { platform: parsePlatform('linux/amd64'), cache, client: dead, offline: true }).catch((e) => e);
    expect(err.code).toBe('E_OFFLINE_MISSING');
    expect(err.message).toMatch(/tag .*ext\/other:v9 is not in the cache/);
  });

  it('a second online pull of a cached tag only asks the registry for the tag (HEAD)', async () => {
    const cache = freshCache();
    await pullImage(multi.ref, { platform: parsePlatform('linux/amd64'), cache, client: client() });
    const seen: string[] = [];
    const counting = new RegistryClient({ fetch: (async (u: URL | string, init?: RequestInit) => { seen.push(`${init?.method ?? 'GET'} ${new URL(String(u)).pathname}`); return fetch(u, init); }) as typeof fetch });
    await pullImage(multi.ref, { platform: parsePlatform('linux/amd64'), cache, client: counting });
    expect(seen).toEqual(['HEAD /v2/ext/multi/manifests/v1']);
  });

  it('mirrors: a ghcr.io reference is served by the local registry', async () => {
    const cache = freshCache();
    const mirrored = new RegistryClient({ registryConfig: registryConfigFromFlags([`ghcr.io=${reg.host}`]), retries: 0 });
    const img = await pullImage('ghcr.io/ext/multi:v1', { platform: parsePlatform('linux/arm64'), cache, client: mirrored });
    expect(img.name).toBe('ghcr.io/ext/multi:v1');
    expect(await summary(await flattenImage(img, { cache }))).toMatchObject({ 'etc/arch': 'linux/arm64' });
    // The tag record is kept under the original name.
    expect((await cache.listReferences()).map((r) => r.reference)).toEqual(['ghcr.io/ext/multi:v1']);
    const prefixed = await pushTestImage(reg.host, 'mirror/hub/library/busybox:1', { platforms: ['linux/amd64'], layers: [{ entries: [{ name: 'bin/busybox', type: 'file', data: Buffer.from('bb') }] }] });
    try {
      const hub = new RegistryClient({ registryConfig: registryConfigFromFlags([`docker.io=${reg.host}/mirror/hub`]), retries: 0 });
      const b = await pullImage('busybox:1', { platform: parsePlatform('linux/amd64'), cache, client: hub });
      expect(await summary(await flattenImage(b, { cache }))).toEqual({ bin: 'dir', 'bin/busybox': 'bb' });
    } finally {
      prefixed.cleanup();
    }
  });

  it('the cache holds only verified blobs and no temp files after pulls', async () => {
    const cache = freshCache();
    await pullImage(multi.ref, { platform: parsePlatform('linux/amd64'), cache, client: client() });
    expect(readdirSync(cache.tmpDir)).toEqual([]);
    const blobs = readdirSync(join(cache.dir, 'blobs/sha256'));
    // index + manifest + config + 3 layers
    expect(blobs).toHaveLength(6);
  });
});
