#!/usr/bin/env node
// The test command (README, .ci/run): build, type-check, then every vitest suite (unit, property,
// reference-tool, golden, native-free guard). Prints a closing line "N passed, N failed, N skipped".
// Extra arguments go to vitest (e.g. `npm test -- test/unit/oci`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status ?? 1;
const bin = (name) => join(root, 'node_modules', '.bin', name);

if (run(bin('tsc'), ['-p', 'tsconfig.build.json']) !== 0) process.exit(1);
if (run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']) !== 0) process.exit(1);
if (run(process.execPath, [join(root, 'native-free/check.mjs'), root]) !== 0) process.exit(1);

const out = mkdtempSync(join(tmpdir(), 'imagekit-test-'));
const report = join(out, 'vitest.json');
const status = run(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)]);
let passed = 0, failed = 0, skipped = 0;
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests ?? 0;
  failed = (r.numFailedTests ?? 0) + (r.numFailedTestSuites ?? 0 ? 0 : 0);
  skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  if (r.numFailedTestSuites && !failed) failed = r.numFailedTestSuites;
}
rmSync(out, { recursive: true, force: true });
if (status !== 0 && failed === 0) failed = 1;
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status === 0 && failed === 0 && passed > 0 ? 0 : 1);
