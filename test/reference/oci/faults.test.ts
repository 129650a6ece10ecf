/**
 * Injected faults between imagekit and a real registry: connections cut mid-blob (resumed with
 * Range), 429/503 answers (retried with backoff), a server that ignores Range (restart from 0),
 * corrupted bytes (E_DIGEST_MISMATCH). Whatever happens, no partial or wrong blob lands in the cache.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BlobCache } from '../../../src/oci/blob-cache.js';
import { flattenImage } from '../../../src/oci/flatten.js';
import { parsePlatform } from '../../../src/oci/platform.js';
import { pullImage } from '../../../src/oci/remote.js';
import { RegistryClient } from '../../../src/oci/registry-client.js';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.js';
import { freePort, pushTestImage, startRegistry, type PushedTestImage, type TestRegistry } from '../../helpers/registry.js';
import { missingTools } from '../../helpers/tools.js';
import { readEntry } from '../../../src/core/file-tree.js';

const skip = missingTools('docker-registry');
const tmp = mkdtempSync(join(tmpdir(), 'imagekit-faults-'));
let n = 0;
const freshCache = () => new BlobCache(join(tmp, `cache${n++}`));
const amd64 = parsePlatform('linux/amd64');
let reg: TestRegistry;
let proxy: FaultProxy;
let img: PushedTestImage;
let layerDigest: string;
// Incompressible content so the layer blob is big enough to be cut in the middle.
const big = Buffer.alloc(3 * 1024 * 1024);
for (let i = 0, x = 12345; i < big.length; i++) {
  x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  big[i] = x >>> 24;
}
const client = (warnings?: string[]) => new RegistryClient({ retries: 3, backoffMs: 5, progress: (e) => warnings && e.type === 'warning' && warnings.push(e.message) });
const ref = () => img.ref.replace(reg.host, proxy.host);
const blobGets = () => proxy.log.filter((l) => l.method === 'GET' && l.path.endsWith(layerDigest));

function cacheState(cache: BlobCache) {
  return {
    layer: existsSync(cache.blobPath(layerDigest)),
    tmp: existsSync(cache.tmpDir) ? readdirSync(cache.tmpDir) : [],
  };
}

beforeAll(async () => {
  if (skip) return;
  reg = await startRegistry();
  img = await pushTestImage(reg.host, 'faults/img:v1', { platforms: ['linux/amd64'], layers: [{ entries: [{ name: 'big.bin', type: 'file', data: big }], compression: 'gzip' }] });
  layerDigest = img.images[0]!.layers[0]!.digest;
  proxy = await startFaultProxy(reg.url);
});
beforeEach(() => {
  if (skip) return;
  proxy.faults.length = 0;
  proxy.log.length = 0;
});
afterAll(async () => {
  await proxy?.stop();
  await reg?.stop();
  img?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(skip)('fault injection', () => {
  it('a connection cut mid-blob is resumed with Range and the result verifies', async () => {
    proxy.faults.push({ method: 'GET', match: (_m, p) => p.endsWith(layerDigest), times: 2, fault: { cutAfter: 1_000_000 } });
    const warnings: string[] = [];
    const cache = freshCache();
    const image = await pullImage(ref(), { platform: amd64, cache, client: client(warnings) });
    const gets = blobGets();
    expect(gets.length).toBe(3);
    expect(gets[0]!.range).toBeUndefined();
    // Each attempt resumes where the previous one stopped.
    const starts = gets.slice(1).map((g) => Number(/^bytes=(\d+)-$/.exec(g.range ?? '')?.[1]));
    expect(starts[0]).toBeGreaterThan(0);
    expect(starts[0]).toBeLessThanOrEqual(1_000_000);
    expect(starts[1]).toBeGreaterThan(starts[0]!);
    expect(starts[1]).toBeLessThanOrEqual(starts[0]! + 1_000_000);
    expect(warnings.join('\n')).toMatch(new RegExp(`resuming at byte ${starts[0]}`));
    const tree = await flattenImage(image, { cache });
    expect((await readEntry(tree.find((e) => e.path === 'big.bin')!)).equals(big)).toBe(true);
    expect(cacheState(cache)).toEqual({ layer: true, tmp: [] });
  });

  it('a server that ignores Range restarts the download from byte 0', async () => {
    proxy.faults.push({ method: 'GET', match: (_m, p) => p.endsWith(layerDigest), times: 1, fault: { cutAfter: 500_000 } });
    proxy.faults.push({ method: 'GET', match: (_m, p) => p.endsWith(layerDigest), times: 1, fault: { ignoreRange: true } });
    const cache = freshCache();
    await pullImage(ref(), { platform: amd64, cache, client: client() });
    const gets = blobGets();
    expect(gets).toHaveLength(2);
    expect(gets[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(cacheState(cache)).toEqual({ layer: true, tmp: [] });
  });

  it('429 and 503 are retried (Retry-After honoured) and the pull succeeds', async () => {
    proxy.faults.push({ match: /\/manifests\//, times: 1, fault: { status: 429, headers: { 'retry-after': '0' } } });
    proxy.faults.push({ method: 'GET', match: (_m, p) => p.endsWith(layerDigest), times: 2, fault: { status: 503 } });
    const warnings: string[] = [];
    const cache = freshCache();
    await pullImage(ref(), { platform: amd64, cache, client: client(warnings) });
    expect(warnings.filter((w) => /429|503/.test(w))).toHaveLength(3);
    expect(cacheState(cache)).toEqual({ layer: true, tmp: [] });
  });

  it('persistent 503: fails after the retries with the status, nothing cached', async () => {
    proxy.faults.push({ method: 'GET', match: (_m, p) => p.endsWith(layerDigest), fault: { status: 503 } });
    const cache = freshCache();
    const err = await pullImage(ref(), { platform: amd64, cache, client: client() }).catch((e) => e);
    expect(err.code).toBe('E_REGISTRY_UNAVAILABLE');
    expect(err.message).toMatch(/returned 503 Service Unavailable \(INJECTED: injected 503\)/);
    expect(blobGets()).toHaveLength(4);
    expect(cacheState(cache)).toEqual({ layer: false, tmp: [] });
  });

  it('corrupted bytes: E_DIGEST_MISMATCH, and the corrupt blob never lands', async () => {
    proxy.faults.push({ method: 'GET', match: (_m, p) => p.endsWith(layerDigest), fault: { corrupt: true } });
    const cache = freshCache();
    const err = await pullImage(ref(), { platform: amd64, cache, client: client() }).catch((e) => e);
    expect(err.code).toBe('E_DIGEST_MISMATCH');
    expect(err.message).toContain(`blob ${layerDigest} of ${proxy.host}/faults/img: digest mismatch (expected ${layerDigest}, got sha256:`);
    expect(cacheState(cache)).toEqual({ layer: false, tmp: [] });
  });

  it('cut on every attempt: fails with the byte reached, nothing cached', async () => {
    proxy.faults.push({ method: 'GET', match: (_m, p) => p.endsWith(layerDigest), fault: { cutAfter: 10_000 } });
    const cache = freshCache();
    const err = await pullImage(ref(), { platform: amd64, cache, client: client() }).catch((e) => e);
    expect(err.code).toBe('E_REGISTRY_UNREACHABLE');
    expect(err.message).toMatch(/failed after \d+ attempt\(s\)/);
    expect(cacheState(cache)).toEqual({ layer: false, tmp: [] });
  });

  it('a stalled body hits the idle timeout and is resumed', async () => {
    proxy.faults.push({ method: 'GET', match: (_m, p) => p.endsWith(layerDigest), times: 1, fault: { stallAfter: 700_000 } });
    const warnings: string[] = [];
    const cache = freshCache();
    const c = new RegistryClient({ retries: 2, backoffMs: 5, idleTimeoutMs: 300, progress: (e) => e.type === 'warning' && warnings.push(e.message) });
    await pullImage(ref(), { platform: amd64, cache, client: c });
    expect(warnings.join('\n')).toMatch(/no data for 0\.3 s; resuming at byte \d+/);
    expect(blobGets()[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(cacheState(cache)).toEqual({ layer: true, tmp: [] });
  });

  it('an unreachable registry fails clearly after the retries', async () => {
    const c = new RegistryClient({ retries: 1, backoffMs: 1 });
    const port = await freePort();
    const err = await pullImage(`127.0.0.1:${port}/x/y:z`, { platform: amd64, cache: freshCache(), client: c }).catch((e) => e);
    expect(err.code).toBe('E_REGISTRY_UNREACHABLE');
    expect(err.message).toMatch(/failed after 2 attempt\(s\): fetch failed \(ECONNREFUSED\)/);
  });
});
