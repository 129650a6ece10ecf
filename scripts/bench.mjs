#!/usr/bin/env node
// `npm run bench [-- room …]`: compile src/ and bench/ to dist-all/, then run bench/<room>.ts for each
// room given (default: every bench/*.ts). Each bench prints table rows (ours, native, ratio, peak RSS);
// copy the table into bench/README.md with the date and machine.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', '.bin', 'tsc');
if (spawnSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);
if (spawnSync(tsc, ['-p', 'tsconfig.bench.json'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);
const rooms = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, ''));
let failed = 0;
for (const room of rooms) {
  console.log(`\n## bench/${room}`);
  const r = spawnSync(process.execPath, [join(root, 'dist-all', 'bench', `${room}.js`)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
