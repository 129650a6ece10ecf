#!/usr/bin/env node
// The native-free guard, part 1 (static): the production dependency tree ships no native addon,
// no prebuilt `.node` file, no `binding.gyp` and no install script, and `src/` spawns no process.
// Usage: node native-free/check.mjs [projectDir]   (exit 1 and one line per finding on failure)
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];
const SPAWN_PATTERNS = [
  /\bfrom\s+['"](node:)?child_process['"]/,
  /\brequire\(\s*['"](node:)?child_process['"]\s*\)/,
  /\bimport\(\s*['"](node:)?child_process['"]\s*\)/,
  /\bprocess\.dlopen\b/,
  /\bprocess\.binding\b/,
  /\.node['"]\s*\)/,
];

/** Resolve a dependency the way Node does: walk up node_modules folders from `fromDir`. */
function resolvePackageDir(name, fromDir, root) {
  let dir = fromDir;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return null;
    dir = dirname(dir);
    // Stop climbing past the project root.
    if (relative(root, dir).startsWith('..')) return null;
  }
}

function walkFiles(dir, visit) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      // Nested packages are checked only if they are in the production tree themselves.
      if (e.name === 'node_modules') continue;
      walkFiles(p, visit);
    } else visit(p, e.name);
  }
}

export function checkProductionTree(projectDir) {
  const findings = [];
  const rootPkg = JSON.parse(readFileSync(join(projectDir, 'package.json'), 'utf8'));
  const seen = new Set();
  const queue = Object.keys(rootPkg.dependencies ?? {}).map((n) => [n, projectDir, false]);
  for (const n of Object.keys(rootPkg.optionalDependencies ?? {})) queue.push([n, projectDir, true]);
  while (queue.length) {
    const [name, from, optional] = queue.shift();
    const dir = resolvePackageDir(name, from, projectDir);
    if (!dir) {
      if (!optional) findings.push(`${name}: production dependency not installed (run npm ci)`);
      continue;
    }
    if (seen.has(dir)) continue;
    seen.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const where = relative(projectDir, dir);
    for (const s of INSTALL_SCRIPTS) {
      if (pkg.scripts && pkg.scripts[s]) findings.push(`${where}: has an "${s}" script (${pkg.scripts[s]})`);
    }
    if (pkg.gypfile) findings.push(`${where}: package.json sets gypfile`);
    walkFiles(dir, (p, base) => {
      if (base.endsWith('.node')) findings.push(`${relative(projectDir, p)}: prebuilt native addon`);
      else if (base === 'binding.gyp') findings.push(`${relative(projectDir, p)}: native build file`);
    });
    for (const n of Object.keys(pkg.dependencies ?? {})) queue.push([n, dir, false]);
    // Optional dependencies count when installed: they would load on a user's machine.
    for (const n of Object.keys(pkg.optionalDependencies ?? {})) queue.push([n, dir, true]);
  }
  return { findings, packages: seen.size };
}

export function checkSourceSpawns(srcDir) {
  const findings = [];
  walkFiles(srcDir, (p, base) => {
    if (!/\.(ts|mts|cts|js|mjs|cjs)$/.test(base)) return;
    const text = readFileSync(p, 'utf8');
    text.split('\n').forEach((line, i) => {
      for (const re of SPAWN_PATTERNS) {
        if (re.test(line)) findings.push(`${relative(dirname(srcDir), p)}:${i + 1}: ${line.trim()}`);
      }
    });
  });
  return findings;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const projectDir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..');
  const { findings, packages } = checkProductionTree(projectDir);
  const src = existsSync(join(projectDir, 'src')) && statSync(join(projectDir, 'src')).isDirectory() ? checkSourceSpawns(join(projectDir, 'src')) : [];
  const all = [...findings, ...src];
  if (all.length) {
    for (const f of all) process.stderr.write(`native-free: ${f}\n`);
    process.exit(1);
  }
  process.stdout.write(`native-free: ${packages} production packages, no addon, no install script, no spawn in src/\n`);
}
