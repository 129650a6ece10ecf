/**
 * Schematics stored content-addressed on disk (image-factory.md §1.9): the canonical YAML bytes in
 * `<dir>/<id[0:2]>/<id>.yaml`, whose SHA-256 is the ID. Writes are atomic (temporary file +
 * rename) and idempotent; reads verify the digest, so a damaged file is never served as a
 * schematic. A bounded in-memory map fronts the disk (upstream: a cache of 100 000 entries).
 */
import { createHash } from 'node:crypto';
import { mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError } from '../core/errors.js';
import { writeFileAtomic } from '../pipeline/atomic-file.js';
import { canonicalYaml, decodeSchematic, schematicId, type Schematic } from '../schematic/index.js';

/** A schematic ID: SHA-256, 64 lowercase hex characters. Anything else is "not found" without I/O. */
export const SCHEMATIC_ID_RE = /^[0-9a-f]{64}$/;

/** Larger than any stored canonical schematic may be (the POST limit is smaller). */
const MAX_STORED_BYTES = 64 * 1024 * 1024;

export interface StoredSchematic {
  id: string;
  schematic: Schematic;
  /** The canonical YAML (the bytes whose SHA-256 is `id`). */
  canonical: string;
}

export class SchematicStore {
  private readonly memory = new Map<string, StoredSchematic>();

  constructor(
    readonly dir: string,
    private readonly capacity = 10_000,
  ) {}

  private path(id: string): string {
    return join(this.dir, id.slice(0, 2), `${id}.yaml`);
  }

  private remember(entry: StoredSchematic): void {
    if (this.capacity <= 0) return;
    this.memory.delete(entry.id);
    this.memory.set(entry.id, entry);
    while (this.memory.size > this.capacity) this.memory.delete(this.memory.keys().next().value!);
  }

  /** Store a decoded schematic; returns its ID and canonical YAML. Nothing is written when it exists. */
  async put(schematic: Schematic): Promise<StoredSchematic> {
    const canonical = canonicalYaml(schematic);
    const id = schematicId(schematic);
    const entry: StoredSchematic = { id, schematic, canonical };
    const path = this.path(id);
    const exists = await stat(path).then((s) => s.isFile(), () => false);
    if (!exists) {
      try {
        await mkdir(join(this.dir, id.slice(0, 2)), { recursive: true });
      } catch (err) {
        throw ioError('E_SCHEMATIC_STORE', `cannot create ${this.dir}: ${(err as Error).message}`, err);
      }
      await writeFileAtomic(path, canonical);
    }
    this.remember(entry);
    return entry;
  }

  /** The stored schematic, or null when the ID is malformed or unknown. */
  async get(id: string): Promise<StoredSchematic | null> {
    if (!SCHEMATIC_ID_RE.test(id)) return null;
    const cached = this.memory.get(id);
    if (cached) {
      this.remember(cached);
      return cached;
    }
    const path = this.path(id);
    let bytes: Buffer;
    try {
      const fh = await open(path, 'r');
      try {
        const st = await fh.stat();
        if (!st.isFile() || st.size > MAX_STORED_BYTES) throw ioError('E_SCHEMATIC_STORE', `${path}: not a schematic file`);
        bytes = await fh.readFile();
      } finally {
        await fh.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== id) throw ioError('E_SCHEMATIC_CORRUPT', `${path}: content does not match its ID (sha256 ${digest})`);
    // Re-decoded and re-serialized, as upstream does on GET (old blobs come back in today's form).
    const schematic = decodeSchematic(bytes);
    const entry: StoredSchematic = { id, schematic, canonical: canonicalYaml(schematic) };
    this.remember(entry);
    return entry;
  }
}
