/**
 * `imagekit schematic id|show`: every conformance vector through the CLI in this process (from a
 * file), and the installed binary (bin/imagekit.js → dist/, built by the test command) for stdin,
 * files, errors and exit codes.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { conformanceDir, tempDir } from '../helpers/tools.js';

const bin = join(import.meta.dirname, '../../bin/imagekit.js');
const built = existsSync(join(import.meta.dirname, '../../dist/cli/main.js'));
if (!built && process.env.CI) throw new Error('dist/ missing: run `npx tsc -p tsconfig.build.json` (the test command does)');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolveRun, rejectRun) => {
    const child = execFile(process.execPath, [bin, ...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') rejectRun(error);
      else resolveRun({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
    child.stdin!.end(stdin ?? '');
  });
}

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

const tmp = tempDir('imagekit-schematic-cli-');
afterAll(() => tmp.cleanup());

describe.skipIf(!built)('imagekit schematic', () => {
  it('reads standard input', async () => {
    const v = '{"customization": {"extraKernelArgs": ["noapic", "nolapic"]}}';
    expect(await run(['schematic', 'id', '-'], v)).toEqual({
      code: 0,
      stdout: '9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c\n',
      stderr: '',
    });
    expect(await run(['schematic', 'show', '-'], v)).toEqual({
      code: 0,
      stdout: 'customization:\n    extraKernelArgs:\n        - noapic\n        - nolapic\n',
      stderr: '',
    });
  });

  it('reads a file; the Talos docs schematic gives b8e8fbbe…', async () => {
    const file = join(tmp.dir, 'docs.yaml');
    writeFileSync(file, 'customization:\n  extraKernelArgs:\n    - net.ifnames=0\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/gvisor\n      - siderolabs/intel-ucode\n');
    expect(await run(['schematic', 'id', file])).toEqual({
      code: 0,
      stdout: 'b8e8fbbe1b520989e6c52c8dc8303070cb42095997e76e812fa8892393e1d176\n',
      stderr: '',
    });
    const json = join(tmp.dir, 'gvisor.json');
    writeFileSync(json, '{"customization":{"systemExtensions":{"officialExtensions":["siderolabs/gvisor"]}}}');
    expect((await run(['schematic', 'id', json])).stdout).toBe('d9ff89777e246792e7642abd3220a616afb4e49822382e4213a2e528ab826fe5\n');
  });

  it('--quoting rc6 single-quotes YAML 1.1 look-alikes', async () => {
    const r = await run(['schematic', 'show', '--quoting', 'rc6', '-'], 'customization: {secureboot: {enrollKeys: "off"}}');
    expect(r).toEqual({ code: 0, stdout: "customization:\n    secureboot:\n        enrollKeys: 'off'\n", stderr: '' });
    expect((await run(['schematic', 'id', '--quoting', 'rc5', '-'], '{}')).code).toBe(2);
  });

  it('bad input: exit 2 and one line naming the input', async () => {
    const cases: [string[], string | undefined, RegExp][] = [
      [['schematic', 'id', '-'], 'customization:\n  bootloader: auto\n', /^imagekit: stdin: yaml: construct errors: line 2: auto does not belong to BootloaderKind values\n$/],
      [['schematic', 'id', '-'], '', /^imagekit: stdin: EOF\n$/],
      [['schematic', 'id', '-'], 'owner: me\n', /^imagekit: stdin: owner field is only supported in Enterprise edition\n$/],
      [['schematic', 'show', '-'], 'customization: [\n', /^imagekit: stdin: yaml: line \d+, column \d+: .+\n$/],
      [['schematic', 'id', join(tmp.dir, 'missing.yaml')], undefined, /^imagekit: .*missing\.yaml: no such schematic file\n$/],
      [['schematic', 'id', tmp.dir], undefined, /^imagekit: .*: is a directory, not a schematic file\n$/],
    ];
    const runs = await Promise.all(cases.map(([args, stdin]) => run(args, stdin)));
    for (const [i, [args, , re]] of cases.entries()) {
      const r = runs[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(re);
    }
  });

  it('--help lists both subcommands', async () => {
    const r = await run(['schematic', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/id \[options\] <file>/);
    expect(r.stdout).toMatch(/show \[options\] <file>/);
  });
});

describe.skipIf(!dir)('imagekit schematic id|show on every conformance vector (in process)', () => {
  it.each(vectors)('$name', async (v) => {
    const file = join(tmp.dir, `${v.name}.yaml`);
    writeFileSync(file, v.input);
    const id = await runInProcess(['schematic', 'id', '--enterprise', file]);
    const show = await runInProcess(['schematic', 'show', '--enterprise', file]);
    if (v.error !== undefined) {
      expect(id).toEqual({ code: 2, stdout: '', stderr: `imagekit: ${file}: ${v.error.replace(/\s*\n\s*/g, ' ')}\n` });
      expect(show.code).toBe(2);
      return;
    }
    expect(id).toEqual({ code: 0, stdout: `${v.id}\n`, stderr: '' });
    expect(show).toEqual({ code: 0, stdout: v.canonical, stderr: '' });
  });
});

/** Run the CLI in this process, capturing what it writes (exit code as `main` returns it). */
async function runInProcess(args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true));
  try {
    const code = await main(['node', 'imagekit', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
