import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AssetCache, type LiveAsset } from '../../../src/factory/index.js';
import { tempDir } from '../../helpers/tools.js';

const KEY = 'a'.repeat(64);
let t: { dir: string; cleanup: () => void };
let cache: AssetCache;

beforeEach(() => {
  t = tempDir('imagekit-asset-cache-');
  cache = new AssetCache(join(t.dir, 'assets'));
});
afterEach(() => t.cleanup());

const write = (live: LiveAsset, chunk: Buffer) => new Promise<void>((resolve, reject) => live.writable.write(chunk, (err) => (err ? reject(err) : resolve())));

async function collect(gen: AsyncGenerator<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of gen) parts.push(c);
  return Buffer.concat(parts);
}

function partialDirs(): string[] {
  const shard = join(t.dir, 'assets', KEY.slice(0, 2));
  return existsSync(shard) ? readdirSync(shard).filter((n) => n.includes('.partial-')) : [];
}

describe('asset cache entries', () => {
  it('followers joining before, during and after the writes all get every byte; the entry appears whole', async () => {
    const live = await cache.begin(KEY);
    const early = collect(live.follow());
    const data: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const chunk = Buffer.alloc(100_000 + i, i + 1);
      data.push(chunk);
      await write(live, chunk);
      if (i === 0) expect(await cache.lookup(KEY)).toBeNull();
    }
    const late = collect(live.follow());
    const zeros = Buffer.alloc(1 << 20);
    data.push(zeros);
    await write(live, zeros);
    const entry = await live.commit('metal-amd64.raw');
    const all = Buffer.concat(data);
    expect((await early).equals(all)).toBe(true);
    expect((await late).equals(all)).toBe(true);
    expect(entry.meta).toEqual({ name: 'metal-amd64.raw', size: all.length, sha256: createHash('sha256').update(all).digest('hex'), sha512: createHash('sha512').update(all).digest('hex') });
    expect(readFileSync(entry.path).equals(all)).toBe(true);
    expect(await cache.lookup(KEY)).toEqual(entry);
    expect(await live.finished()).toEqual(entry);
    expect(partialDirs()).toEqual([]);
    // The zero run was not written: the file is sparse where the build produced zeros.
    expect(statSync(entry.path).blocks * 512).toBeLessThan(all.length - zeros.length / 2);
  });

  it('gathers tiny writes (a compressor emitting a few bytes per block) into few large ones', async () => {
    const live = await cache.begin(KEY);
    const seen: number[] = [];
    const follower = (async () => {
      const parts: Buffer[] = [];
      for await (const c of live.follow()) {
        seen.push(c.length);
        parts.push(c);
      }
      return Buffer.concat(parts);
    })();
    const data = Buffer.from(Array.from({ length: 60_000 }, (_, i) => i % 251));
    for (let off = 0; off < data.length; off += 3) await write(live, data.subarray(off, off + 3));
    const entry = await live.commit('tiny');
    expect((await follower).equals(data)).toBe(true);
    expect(readFileSync(entry.path).equals(data)).toBe(true);
    expect(seen.length).toBeLessThan(10);
  });

  it('an aborted entry fails its followers and leaves nothing on disk', async () => {
    const live = await cache.begin(KEY);
    await write(live, Buffer.alloc(1000, 7));
    const follower = collect(live.follow()).then(() => null, (e: Error) => e);
    await live.started();
    expect(partialDirs()).toHaveLength(1);
    await live.abort(new Error('build exploded'));
    expect((await follower)?.message).toBe('build exploded');
    await expect(live.finished()).rejects.toThrow('build exploded');
    expect(partialDirs()).toEqual([]);
    expect(await cache.lookup(KEY)).toBeNull();
    await live.abort(new Error('again')); // idempotent
  });

  it('lookup refuses entries whose meta or size do not match, and malformed keys', async () => {
    const live = await cache.begin(KEY);
    await write(live, Buffer.from('hello'));
    const entry = await live.commit('x');
    writeFileSync(entry.path, 'hello!');
    expect(await cache.lookup(KEY)).toBeNull();
    writeFileSync(entry.path, 'hello');
    writeFileSync(join(entry.path, '..', 'meta.json'), '{not json');
    expect(await cache.lookup(KEY)).toBeNull();
    expect(await cache.lookup('../../etc')).toBeNull();
    await expect(cache.begin('../x')).rejects.toThrow(/invalid cache key/);
  });

  it('removes partial entries of dead processes only', async () => {
    const shard = join(t.dir, 'assets', KEY.slice(0, 2));
    mkdirSync(join(shard, `.${KEY}.partial-999999999-0`), { recursive: true });
    mkdirSync(join(shard, `.${KEY}.partial-${process.pid}-5`), { recursive: true });
    expect(await cache.removeStalePartials()).toBe(1);
    expect(readdirSync(shard)).toEqual([`.${KEY}.partial-${process.pid}-5`]);
  });
});
