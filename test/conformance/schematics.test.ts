/**
 * Every vector of ../shared/conformance/schematics.json (image-factory.md §1.7–§1.8): the input as
 * POSTed decodes to exactly the canonical bytes and ID upstream computed, or fails with upstream's
 * error text. Vectors are decoded as the Enterprise edition would (one carries an `owner`); the
 * community-edition owner check has its own unit test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalYaml, decodeSchematic, schematicId, upstreamMessage } from '../../src/schematic/index.js';
import { conformanceDir } from '../helpers/tools.js';

interface Vector {
  name: string;
  input: string;
  canonical?: string;
  id?: string;
  error?: string;
}

const dir = conformanceDir();
if (!dir && process.env.CI) throw new Error('conformance data missing under CI (../shared/conformance)');
const vectors: Vector[] = dir ? (JSON.parse(readFileSync(join(dir, 'schematics.json'), 'utf8')) as Vector[]) : [];

describe.skipIf(!dir)('schematic conformance vectors', () => {
  it('has vectors', () => {
    expect(vectors.length).toBeGreaterThan(20);
  });
  for (const v of vectors) {
    it(v.name, () => {
      if (v.error !== undefined) {
        let thrown: unknown;
        try {
          decodeSchematic(v.input, { enterprise: true });
        } catch (e) {
          thrown = e;
        }
        expect(thrown, 'input must be rejected').toBeDefined();
        expect(upstreamMessage(thrown)).toBe(v.error);
        expect((thrown as { exitCode: number }).exitCode).toBe(2);
        return;
      }
      const s = decodeSchematic(v.input, { enterprise: true });
      expect(canonicalYaml(s)).toBe(v.canonical);
      expect(schematicId(s)).toBe(v.id);
      // Bytes in (UTF-8) decode the same as text in.
      expect(schematicId(decodeSchematic(Buffer.from(v.input, 'utf8'), { enterprise: true }))).toBe(v.id);
      // The canonical form is a fixed point — except where go-yaml writes U+2028/U+2029 raw inside a
      // single-quoted scalar (§1.5.3 step C), which no YAML reader gives back unchanged.
      if (/[\u2028\u2029]/.test(v.canonical!)) return;
      expect(canonicalYaml(decodeSchematic(v.canonical!, { enterprise: true }))).toBe(v.canonical);
    });
  }
});
