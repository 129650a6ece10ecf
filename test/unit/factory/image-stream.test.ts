/**
 * A disk image streamed while it is built (image-api.ts): the client sees the bytes as they are
 * written, and when the build fails after the first byte the connection is cut — the body never
 * ends cleanly, so no client can take a truncated image for a whole one.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AssetCache, type LiveAsset } from '../../../src/factory/index.js';
import type { AssetPlan, AssetService } from '../../../src/factory/assets.js';
import { ImageApi } from '../../../src/factory/image-api.js';
import type { SchematicStore } from '../../../src/factory/schematic-store.js';
import { writeError } from '../../../src/factory/http-context.js';
import { toHttpError } from '../../../src/factory/http-error.js';
import { tempDir } from '../../helpers/tools.js';

const ID = 'b'.repeat(64);
let t: { dir: string; cleanup: () => void };
let server: Server;
let live: LiveAsset;
let url: string;

beforeEach(async () => {
  t = tempDir('imagekit-image-stream-');
  const cache = new AssetCache(join(t.dir, 'assets'));
  live = await cache.begin('c'.repeat(64));
  const plan = { key: 'c'.repeat(64), name: 'metal-amd64.raw.xz', kind: 'image', versionTag: 'v1.11.0', arch: 'amd64' } as AssetPlan;
  const store = { get: async (id: string) => (id === ID ? { id, schematic: { customization: {} }, canonical: 'customization: {}\n' } : null) } as unknown as SchematicStore;
  const assets = { plan: async () => plan, obtain: async () => ({ type: 'live', live }) } as unknown as AssetService;
  const api = new ImageApi({ store, assets, cache, pxeBaseUrl: 'http://x/', idleTimeoutMs: 10_000 });
  server = createServer((req, res) => {
    const path = req.url!.split('/');
    api.image({ req, res, params: { schematic: path[2]!, version: path[3]!, path: path[4]! }, query: new URLSearchParams(), requestId: '1' }).catch((err) => {
      if (res.headersSent) res.destroy();
      else writeError(res, toHttpError(err));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/image/${ID}/v1.11.0/metal-amd64.raw.xz`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  t.cleanup();
});

const write = (chunk: Buffer) => new Promise<void>((resolve, reject) => live.writable.write(chunk, (err) => (err ? reject(err) : resolve())));

describe('streaming a disk image while it is built', () => {
  it('sends the bytes as they come, chunked, and ends cleanly on commit', async () => {
    await write(Buffer.alloc(100_000, 1));
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(res.headers.get('content-type')).toBe('application/x-xz');
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.value![0]).toBe(1);
    await write(Buffer.alloc(100_000, 2));
    await live.commit('metal-amd64.raw.xz');
    let total = first.value!.length;
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      total += r.value.length;
    }
    expect(total).toBe(200_000);
  });

  it('cuts the connection when the build fails after the first byte', async () => {
    await write(Buffer.alloc(100_000, 1));
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    await live.abort(new Error('disk writer failed'));
    const rest = (async () => {
      for (;;) if ((await reader.read()).done) return 'ended cleanly';
    })();
    await expect(rest).rejects.toThrow(/terminated|aborted|closed/i);
  });

  it('answers 500 with upstream\'s text when the build fails before the first byte', async () => {
    const pending = fetch(url);
    await new Promise((r) => setTimeout(r, 50));
    await live.abort(new Error('pull failed'));
    const res = await pending;
    expect([res.status, await res.text()]).toEqual([500, 'internal server error\n']);
  });
});
