import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SchematicStore } from '../../../src/factory/index.js';
import { decodeSchematic } from '../../../src/schematic/index.js';
import { tempDir } from '../../helpers/tools.js';

let t: { dir: string; cleanup: () => void };
beforeEach(() => (t = tempDir('imagekit-schematics-')));
afterEach(() => t.cleanup());

const EMPTY_ID = '376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba';

describe('schematic store', () => {
  it('stores the canonical bytes content-addressed and reads them back (also from a fresh store)', async () => {
    const store = new SchematicStore(t.dir);
    const entry = await store.put(decodeSchematic('{}'));
    expect(entry.id).toBe(EMPTY_ID);
    const path = join(t.dir, EMPTY_ID.slice(0, 2), `${EMPTY_ID}.yaml`);
    expect(readFileSync(path, 'utf8')).toBe('customization: {}\n');
    const fresh = new SchematicStore(t.dir);
    expect((await fresh.get(EMPTY_ID))?.canonical).toBe('customization: {}\n');
    // Idempotent: storing again writes nothing new (no temporary files left either).
    await Promise.all([store.put(decodeSchematic('customization: {}')), fresh.put(decodeSchematic('null'))]);
    expect(readdirSync(join(t.dir, EMPTY_ID.slice(0, 2)))).toEqual([`${EMPTY_ID}.yaml`]);
  });

  it('malformed IDs are unknown without touching the disk; a damaged file is an error, not a schematic', async () => {
    const store = new SchematicStore(join(t.dir, 'missing'));
    for (const bad of ['', 'abc', EMPTY_ID.toUpperCase(), `../${EMPTY_ID.slice(3)}`]) expect(await store.get(bad)).toBeNull();
    expect(existsSync(join(t.dir, 'missing'))).toBe(false);
    const good = new SchematicStore(t.dir, 0);
    await good.put(decodeSchematic('{}'));
    writeFileSync(join(t.dir, EMPTY_ID.slice(0, 2), `${EMPTY_ID}.yaml`), 'customization: {}  \n');
    await expect(good.get(EMPTY_ID)).rejects.toThrow(/content does not match its ID/);
  });

  it('keeps at most `capacity` schematics in memory', async () => {
    const store = new SchematicStore(t.dir, 2);
    const ids = [];
    for (const arg of ['a', 'b', 'c']) ids.push((await store.put(decodeSchematic(`customization: {extraKernelArgs: [${arg}]}`))).id);
    writeFileSync(join(t.dir, ids[0]!.slice(0, 2), `${ids[0]}.yaml`), 'tampered');
    // The oldest was evicted: read from disk (and found damaged); the newest come from memory.
    await expect(store.get(ids[0]!)).rejects.toThrow(/does not match/);
    expect((await store.get(ids[2]!))?.canonical).toContain('- c');
  });
});
