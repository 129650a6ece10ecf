import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module without types
import { checkProductionTree, checkSourceSpawns } from './check.mjs';

const root = resolve(import.meta.dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'imagekit-native-free-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fakeProject(deps: Record<string, { files?: Record<string, string>; scripts?: Record<string, string>; deps?: string[] }>) {
  const dir = mkdtempSync(join(tmp, 'proj-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'p', dependencies: Object.fromEntries(Object.keys(deps).filter((n) => !n.startsWith('_')).map((n) => [n, '*'])) }));
  for (const [name, spec] of Object.entries(deps)) {
    const pkgName = name.replace(/^_/, '');
    const pdir = join(dir, 'node_modules', pkgName);
    mkdirSync(pdir, { recursive: true });
    writeFileSync(join(pdir, 'package.json'), JSON.stringify({ name: pkgName, scripts: spec.scripts, dependencies: Object.fromEntries((spec.deps ?? []).map((d) => [d.replace(/^_/, ''), '*'])) }));
    for (const [f, body] of Object.entries(spec.files ?? { 'index.js': 'module.exports = 1' })) {
      mkdirSync(join(pdir, f, '..'), { recursive: true });
      writeFileSync(join(pdir, f), body);
    }
  }
  return dir;
}

describe('native-free guard', () => {
  it('the real production tree has no addon, no binding.gyp, no install script', () => {
    const { findings, packages } = checkProductionTree(root);
    expect(findings).toEqual([]);
    expect(packages).toBeGreaterThan(3);
  });

  it('src/ never imports child_process or loads an addon', () => {
    expect(checkSourceSpawns(join(root, 'src'))).toEqual([]);
  });

  it('fails when a production dependency ships a .node prebuild (also transitively)', () => {
    const dir = fakeProject({ good: { deps: ['_evil'] }, _evil: { files: { 'prebuilds/linux-x64/evil.node': 'x' } } });
    const { findings } = checkProductionTree(dir);
    expect(findings.join('\n')).toMatch(/evil\.node: prebuilt native addon/);
  });

  it('fails on binding.gyp and on install scripts', () => {
    const dir = fakeProject({ gyp: { files: { 'binding.gyp': '{}' } }, scripted: { scripts: { install: 'node-gyp-build' } } });
    const text = checkProductionTree(dir).findings.join('\n');
    expect(text).toMatch(/binding\.gyp: native build file/);
    expect(text).toMatch(/scripted: has an "install" script/);
  });

  it('fails when src/ spawns a process', () => {
    const dir = mkdtempSync(join(tmp, 'src-'));
    writeFileSync(join(dir, 'x.ts'), "import { spawn } from 'node:child_process';\n");
    expect(checkSourceSpawns(dir)).toHaveLength(1);
  });

  it('the CLI runs under node --no-addons with process spawning disabled', () => {
    const out = execFileSync(
      process.execPath,
      ['--no-addons', '--import', join(root, 'native-free/no-spawn.mjs'), join(root, 'bin/imagekit.js'), '--help'],
      { encoding: 'utf8' },
    );
    expect(out).toMatch(/Usage: imagekit/);
  });

  it('the whole library loads under node --no-addons with process spawning disabled', () => {
    const out = execFileSync(
      process.execPath,
      ['--no-addons', '--import', join(root, 'native-free/no-spawn.mjs'), '--input-type=module', '-e',
        `const m = await import(${JSON.stringify(join(root, 'dist/index.js'))}); console.log(Object.keys(m).length);`],
      { encoding: 'utf8' },
    );
    expect(Number(out.trim())).toBeGreaterThan(5);
  });

  it('the runtime guard really blocks spawning (the guard can fail)', () => {
    const r = spawnSync(
      process.execPath,
      ['--no-addons', '--import', join(root, 'native-free/no-spawn.mjs'), '-e', "require('node:child_process').execSync('true')"],
      { encoding: 'utf8' },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/native-free: child_process\.execSync was called/);
  });

  it('the standalone checker exits 1 on a project with a native dependency', () => {
    const dir = fakeProject({ addon: { files: { 'build/Release/a.node': 'x' } } });
    cpSync(join(root, 'native-free/check.mjs'), join(dir, 'check.mjs'));
    const r = spawnSync(process.execPath, [join(dir, 'check.mjs'), dir], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/a\.node/);
  });
});
