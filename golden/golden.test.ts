/**
 * Golden outputs: every output kind built from synthetic inputs (golden/inputs.ts) must have the
 * SHA-256 recorded in golden/expected.json — on every machine and on Node 20 and 24 (.ci/run runs
 * this file under both). The inputs are hashed too, so a changed generator is told apart from a
 * changed pipeline.
 *
 * An intentional format change updates the file with `node scripts/golden-update.mjs`, which
 * rebuilds with IMAGEKIT_GOLDEN_UPDATE=1 and prints the diff for review.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers/tools.js';
import { buildGolden, GOLDEN_CASES, type GoldenResult } from './cases.js';
import { writeGoldenInputs, type GoldenInputs } from './inputs.js';

const expectedPath = join(import.meta.dirname, 'expected.json');
const update = process.env.IMAGEKIT_GOLDEN_UPDATE === '1';

interface Expected {
  inputs: Record<string, string>;
  outputs: Record<string, GoldenResult>;
}

const expected: Expected = (() => {
  try {
    return JSON.parse(readFileSync(expectedPath, 'utf8')) as Expected;
  } catch {
    return { inputs: {}, outputs: {} };
  }
})();
const actual: Expected = { inputs: {}, outputs: {} };

let inputs: GoldenInputs;
let scratch = '';
let cleanup = () => {};

beforeAll(async () => {
  ({ dir: scratch, cleanup } = tempDir('imagekit-golden-'));
  inputs = await writeGoldenInputs(join(scratch, 'inputs'));
});

afterAll(() => {
  cleanup();
  if (update) {
    const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
    writeFileSync(expectedPath, JSON.stringify({ inputs: sorted(actual.inputs), outputs: actual.outputs }, null, 2) + '\n');
  }
});

describe('golden', () => {
  it('synthetic inputs are what expected.json was made from', () => {
    for (const path of [inputs.kernel, inputs.initramfs, inputs.sdStub, inputs.sdBoot]) {
      actual.inputs[relative(inputs.dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
    for (const key of ['uki-signing-key.pem', 'uki-signing-cert.pem', 'pcr-signing-key.pem']) {
      actual.inputs[`keys/${key}`] = createHash('sha256').update(readFileSync(join(import.meta.dirname, 'keys', key))).digest('hex');
    }
    if (!update) expect(actual.inputs).toEqual(expected.inputs);
  });

  it.each(GOLDEN_CASES.map((c) => [c.id, c] as const))('%s', async (id, c) => {
    const r = await buildGolden(c, inputs, join(scratch, id));
    actual.outputs[id] = r;
    if (!update) expect(r, `${id}: run "node scripts/golden-update.mjs" if this change is intended`).toEqual(expected.outputs[id]);
  });
});
