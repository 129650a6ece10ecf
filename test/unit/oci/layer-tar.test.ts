import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlobCache } from '../../../src/oci/blob-cache.js';
import { buildLayer } from '../../../src/oci/image-builder.js';
import { directoryBlobSource } from '../../../src/oci/image.js';
import { layerTar } from '../../../src/oci/layer-tar.js';
import { MediaType } from '../../../src/oci/media-types.js';
import { flattenLayerTars } from '../../../src/oci/flatten.js';
import { readEntry } from '../../../src/core/file-tree.js';

const tmp = mkdtempSync(join(tmpdir(), 'imagekit-layertar-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const entries = [{ name: 'a/b.txt', type: 'file' as const, data: Buffer.alloc(50_000, 0x41) }];

describe('layerTar', () => {
  for (const compression of ['gzip', 'zstd', 'none'] as const) {
    it(`${compression}: decompresses once, verifies the diff ID, then reuses the cached tar`, async () => {
      const store = new BlobCache(join(tmp, `store${n++}`));
      const desc = await buildLayer(store, { entries, compression });
      expect(desc.mediaType).toBe(compression === 'gzip' ? MediaType.ociLayerGzip : compression === 'zstd' ? MediaType.ociLayerZstd : MediaType.ociLayer);
      const cache = new BlobCache(join(tmp, `cache${n++}`));
      const blobs = directoryBlobSource(store.dir, 'store', true);
      const t = await layerTar(blobs, { descriptor: desc, diffId: desc.diffId }, cache, 'layer');
      expect(t.diffId).toBe(desc.diffId);
      if (compression === 'none') expect(t.path).toBe(store.blobPath(desc.digest)); // used in place
      else expect(t.path).toBe(cache.layerPath(desc.diffId));
      const tree = await flattenLayerTars([t]);
      expect((await readEntry(tree.find((e) => e.path === 'a/b.txt')!)).equals(entries[0]!.data)).toBe(true);
      if (compression !== 'none') {
        const again = await layerTar(directoryBlobSource(join(tmp, 'absent'), 'gone', true), { descriptor: desc, diffId: desc.diffId }, cache, 'layer');
        expect(again.path).toBe(t.path);
      }
    });
  }

  it('a wrong diff ID in the config is caught and nothing lands', async () => {
    const store = new BlobCache(join(tmp, `store${n++}`));
    const desc = await buildLayer(store, { entries, compression: 'gzip' });
    const cache = new BlobCache(join(tmp, `cache${n++}`));
    const err = await layerTar(directoryBlobSource(store.dir, 'store', true), { descriptor: desc, diffId: 'sha256:' + 'f'.repeat(64) }, cache, 'layer 1').catch((e) => e);
    expect(err.code).toBe('E_DIGEST_MISMATCH');
    expect(err.message).toMatch(/layer 1 \(uncompressed content vs config diff_ids\): digest mismatch/);
    expect(readdirSync(cache.tmpDir)).toEqual([]);
    expect(existsSync(join(cache.dir, 'layers'))).toBe(false);
  });

  it('a decompression bomb is bounded (E_LAYER_TOO_LARGE) and nothing lands', async () => {
    const store = new BlobCache(join(tmp, `store${n++}`));
    const desc = await buildLayer(store, { entries: [{ name: 'zeros', type: 'file', data: Buffer.alloc(5_000_000) }], compression: 'gzip' });
    expect(desc.size).toBeLessThan(20_000);
    const cache = new BlobCache(join(tmp, `cache${n++}`));
    const err = await layerTar(directoryBlobSource(store.dir, 'store', true), { descriptor: desc }, cache, 'bomb', undefined, 1_000_000).catch((e) => e);
    expect(err.code).toBe('E_LAYER_TOO_LARGE');
    expect(readdirSync(cache.tmpDir)).toEqual([]);
  });

  it('corrupt compressed data is a clear error', async () => {
    const store = new BlobCache(join(tmp, `store${n++}`));
    const bad = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(64, 0xee)]);
    const digest = await store.putBytes(bad);
    const err = await layerTar(directoryBlobSource(store.dir, 'store', true), { descriptor: { mediaType: MediaType.ociLayerZstd, digest, size: bad.length } }, new BlobCache(join(tmp, `cache${n++}`)), 'bad layer').catch((e) => e);
    expect(err.code).toMatch(/E_ZSTD_CORRUPT|E_LAYER_CORRUPT/);
    expect(err.message).toMatch(/bad layer|zstd/);
  });
});
