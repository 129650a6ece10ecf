#!/usr/bin/env node
// Rebuild the golden outputs and rewrite golden/expected.json (an intentional format change), then
// show what changed for review. Commit the new expected.json with a message saying why the bytes moved.
//   node scripts/golden-update.mjs
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, env = {}) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;

if (run(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json']) !== 0) process.exit(1);
if (run(join(root, 'node_modules/.bin/vitest'), ['run', 'golden/'], { IMAGEKIT_GOLDEN_UPDATE: '1' }) !== 0) process.exit(1);
// The same inputs must give the same bytes without the update flag (and on Node 24 in CI).
if (run(join(root, 'node_modules/.bin/vitest'), ['run', 'golden/']) !== 0) process.exit(1);
run('git', ['--no-pager', 'diff', '--stat', '--', 'golden/expected.json']);
run('git', ['--no-pager', 'diff', '--', 'golden/expected.json']);
console.log('\nReview the diff above; commit golden/expected.json only if every change is intended.');
