/**
 * OCI pull benchmark against a local docker-registry (started here on 127.0.0.1): a ~200 MB
 * multi-layer image is generated with imagekit's writer and pushed once; then, min of 3 runs each,
 *  - "pull": ours (fresh cache + OCI layout) vs `skopeo copy docker://… oci:DIR`;
 *  - "pull + flatten": ours (pull, then decompress and index every layer into a FileTree) vs
 *    `skopeo copy` + `umoci unpack --rootless` (extracts the rootfs to disk).
 * Ours runs in a fresh node process per measurement so its peak RSS is its own.
 *
 *   npm run bench -- oci
 */
import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BlobCache } from '../src/oci/blob-cache.js';
import { flattenImage } from '../src/oci/flatten.js';
import { buildImage, buildIndex, type LayerSpec } from '../src/oci/image-builder.js';
import { directoryBlobSource } from '../src/oci/image.js';
import { writeImageToLayout } from '../src/oci/layout.js';
import { parsePlatform } from '../src/oci/platform.js';
import { pushManifest } from '../src/oci/push.js';
import { pullImage } from '../src/oci/remote.js';
import { RegistryClient } from '../src/oci/registry-client.js';
import type { TarWriteEntry } from '../src/oci/tar-writer.js';

const LAYERS = 5;
const FILES_PER_LAYER = 12;
const FILE_BYTES = 4 * 1024 * 1024; // 5 × 12 × 4 MiB = 240 MiB uncompressed

/** Deterministic content: AES-CTR keystream (incompressible) with a compressible text tail. */
function content(layer: number, file: number): () => Readable {
  return () => {
    const key = Buffer.alloc(16, layer + 1);
    const iv = Buffer.alloc(16, file + 1);
    const random = createCipheriv('aes-128-ctr', key, iv).update(Buffer.alloc(Math.floor(FILE_BYTES * 0.8)));
    const text = Buffer.alloc(FILE_BYTES - random.length);
    const line = Buffer.from(`layer ${layer} file ${file}: the quick brown fox jumps over the lazy dog\n`);
    for (let i = 0; i < text.length; i += line.length) line.copy(text, i);
    return Readable.from([random, text]);
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function startRegistry(dir: string): Promise<{ host: string; stop: () => void }> {
  const port = await freePort();
  const cfg = join(dir, 'registry.yml');
  writeFileSync(cfg, `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'registry')}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const child = spawn('docker-registry', ['serve', cfg], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v2/`);
      await r.body?.cancel();
      if (r.ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { host: `127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

async function oursCase(name: string, ref: string, dir: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  const cache = new BlobCache(join(dir, 'cache'));
  const image = await pullImage(ref, { platform: parsePlatform('linux/amd64'), cache, client: new RegistryClient() });
  await writeImageToLayout(join(dir, 'layout'), image, { refName: 'bench' });
  if (name === 'pull-flatten') {
    const tree = await flattenImage(image, { cache });
    if (tree.length < LAYERS * FILES_PER_LAYER) throw new Error('flatten lost files');
  }
  const inProcess = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, inProcess }));
}

interface Measure {
  seconds: number;
  rssMiB: number;
  /** Ours only: time inside the process (without node start-up and module loading). */
  inProcess?: number;
}

function ours(name: string, ref: string, base: string): Measure {
  const dir = mkdtempSync(join(base, 'ours-'));
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--case', name, ref, dir], { encoding: 'utf8' });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`ours ${name} failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { maxRssKiB: number; inProcess: number };
    return { seconds, rssMiB: out.maxRssKiB / 1024, inProcess: out.inProcess };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function timed(cmd: string, args: string[]): Measure {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const [sec, kib] = r.stderr.trim().split('\n').pop()!.split(' ');
  return { seconds: Number(sec), rssMiB: Number(kib) / 1024 };
}

function native(name: string, ref: string, base: string): Measure {
  const dir = mkdtempSync(join(base, 'native-'));
  try {
    const a = timed('skopeo', ['--insecure-policy', 'copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(dir, 'layout')}:bench`]);
    if (name === 'pull') return a;
    const b = timed('umoci', ['unpack', '--rootless', '--image', `${join(dir, 'layout')}:bench`, join(dir, 'bundle')]);
    return { seconds: a.seconds + b.seconds, rssMiB: Math.max(a.rssMiB, b.rssMiB) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function best(f: () => Measure): Measure {
  const runs = [f(), f(), f()];
  const m: Measure = { seconds: Math.min(...runs.map((r) => r.seconds)), rssMiB: Math.max(...runs.map((r) => r.rssMiB)) };
  if (runs[0]!.inProcess !== undefined) m.inProcess = Math.min(...runs.map((r) => r.inProcess!));
  return m;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--case') return oursCase(process.argv[3]!, process.argv[4]!, process.argv[5]!);
  const base = mkdtempSync(join(tmpdir(), 'imagekit-bench-oci-'));
  const reg = await startRegistry(base);
  try {
    const store = new BlobCache(join(base, 'store'));
    const layers: LayerSpec[] = [];
    for (let l = 0; l < LAYERS; l++) {
      const entries: TarWriteEntry[] = [{ name: `layer${l}/`, type: 'dir' }];
      for (let f = 0; f < FILES_PER_LAYER; f++) entries.push({ name: `layer${l}/file${f}.bin`, type: 'file', size: FILE_BYTES, data: content(l, f) });
      layers.push({ entries, compression: 'gzip', level: 1 });
    }
    const img = await buildImage(store, { platform: parsePlatform('linux/amd64'), layers });
    const idx = await buildIndex(store, [img]);
    const ref = `${reg.host}/bench/image:v1`;
    await pushManifest(ref, directoryBlobSource(store.dir, 'bench store', true), { raw: idx.rawIndex, mediaType: idx.descriptor.mediaType }, { client: new RegistryClient() });
    const compressed = img.layers.reduce((s, l) => s + l.size, 0) / (1 << 20);
    const rows: Array<[string, Measure, Measure, string]> = [
      [`pull (${LAYERS} layers, ${compressed.toFixed(0)} MiB compressed)`, best(() => ours('pull', ref, base)), best(() => native('pull', ref, base)), 'skopeo copy docker:// oci:'],
      [`pull + flatten (${(LAYERS * FILES_PER_LAYER * FILE_BYTES) / (1 << 20)} MiB uncompressed)`, best(() => ours('pull-flatten', ref, base)), best(() => native('pull-flatten', ref, base)), 'skopeo copy + umoci unpack --rootless'],
    ];
    console.log('| case | ours s | native s | ratio | peak RSS MiB (ours / native) | native tool |');
    console.log('|---|---|---|---|---|---|');
    for (const [name, o, n, tool] of rows) {
      console.log(`| ${name} | ${o.seconds.toFixed(2)} (${o.inProcess!.toFixed(2)} in-process) | ${n.seconds.toFixed(2)} | ${(o.seconds / Math.max(n.seconds, 0.01)).toFixed(2)} | ${o.rssMiB.toFixed(0)} / ${n.rssMiB.toFixed(0)} | ${tool} |`);
    }
  } finally {
    reg.stop();
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
