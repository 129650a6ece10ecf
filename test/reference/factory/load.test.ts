/**
 * Bounded load on loopback (curl --parallel): 200 concurrent schematic reads, 20 concurrent
 * downloads of one uncached asset (exactly one build, identical bytes, checked with sha256sum), a
 * full build queue answering 503, and a shutdown in the middle of a build that leaves no partial
 * cache entry behind.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TALOS } from './factory-world.js';
import { harnessMissing, startHarness, type Harness } from './harness.js';
import { curl, run } from './run.js';

const skip = harnessMissing('curl', 'sha256sum', 'zstd');
let h: Harness;

beforeAll(async () => {
  if (skip) return;
  h = await startHarness((c) => {
    c.build.maxConcurrency = 1;
    c.build.queueLimit = 1;
    c.http.requestTimeoutMs = 1500;
  });
});

afterAll(async () => {
  await h?.stop();
});

async function post(body: string): Promise<string> {
  const r = await curl(['-X', 'POST', '--data-binary', '@-', `${h.base}/schematics`], body);
  expect(r.status, r.text).toBe(201);
  return JSON.parse(r.text).id as string;
}

/** `curl --parallel` over `count` transfers of `url`; returns the per-transfer status codes and files. */
async function parallel(url: string, count: number, name: string): Promise<{ codes: string[]; files: string[] }> {
  const files = Array.from({ length: count }, (_, i) => join(h.tmp, `${name}-${i}`));
  const cfg = join(h.tmp, `${name}.curlrc`);
  writeFileSync(cfg, files.map((f) => `url = "${url}"\noutput = "${f}"\n`).join(''));
  const r = await run('curl', ['-sS', '--parallel', '--parallel-immediate', '--parallel-max', String(count), '-K', cfg, '-w', '%{http_code}\\n'], { timeoutMs: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return { codes: r.text.trim().split('\n'), files };
}

async function sha256s(files: string[]): Promise<string[]> {
  const r = await run('sha256sum', files);
  return r.text.trim().split('\n').map((l) => l.split(' ')[0]!);
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function partials(): string[] {
  const root = join(h.config.cache.dir, 'assets');
  const out: string[] = [];
  for (const shard of existsSync(root) ? readdirSync(root) : []) {
    for (const name of readdirSync(join(root, shard))) if (name.includes('.partial-')) out.push(`${shard}/${name}`);
  }
  return out;
}

describe.skipIf(skip)('imagekit serve under bounded load', () => {
  it('200 concurrent GET /schematics/:id answer the same canonical YAML', async () => {
    const id = await post('customization:\n  extraKernelArgs: [load=1]\n');
    const { codes, files } = await parallel(`${h.base}/schematics/${id}`, 200, 'schematic');
    expect(codes).toEqual(Array(200).fill('200'));
    const sums = new Set(await sha256s(files));
    expect(sums.size).toBe(1);
    expect(readFileSync(files[0]!, 'utf8')).toBe('customization:\n    extraKernelArgs:\n        - load=1\n');
  });

  it('20 concurrent requests for one uncached disk image: exactly one build, identical bytes', async () => {
    const id = await post('customization:\n  extraKernelArgs: [concurrent=20]\n');
    const before = h.server.stats();
    const url = `${h.base}/image/${id}/${TALOS}/metal-amd64.raw.zst`;
    const { codes, files } = await parallel(url, 20, 'disk');
    const after = h.server.stats();
    expect(codes).toEqual(Array(20).fill('200'));
    expect(after.builds - before.builds).toBe(1);
    expect(after.buildsFailed).toBe(before.buildsFailed);
    const sums = new Set(await sha256s(files));
    expect(sums.size).toBe(1);
    const sidecar = await curl([`${url}.sha256`]);
    expect(sidecar.text).toBe(`${[...sums][0]}  metal-amd64.raw.zst\n`);
    expect((await run('zstd', ['-t', files[0]!])).status).toBe(0);
    expect(h.server.stats().builds).toBe(after.builds);
  });

  it('a client that sends its body too slowly is answered 408 and disconnected (http.requestTimeout)', async () => {
    const { port } = new URL(h.base);
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(port), '127.0.0.1');
      let got = '';
      sock.on('data', (c) => (got += c.toString()));
      sock.on('close', () => resolve(got));
      sock.on('error', reject);
      sock.write('POST /schematics HTTP/1.1\r\nHost: factory\r\nContent-Length: 100\r\n\r\ncustomization:');
      setTimeout(() => sock.destroy(), 20_000).unref();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    // The service is fine afterwards.
    expect((await curl([`${h.base}/healthz`])).status).toBe(200);
  });

  it('a full build queue answers 503 without starting anything', async () => {
    const a = await post('customization:\n  extraKernelArgs: [queue=a]\n');
    const b = await post('customization:\n  extraKernelArgs: [queue=b]\n');
    const c = await post('customization:\n  extraKernelArgs: [queue=c]\n');
    const before = h.server.stats().builds;
    // A: an xz disk image (seconds of work) holds the only slot; B waits in the only queue place.
    const running = curl(['-o', join(h.tmp, 'queue-a'), `${h.base}/image/${a}/${TALOS}/nocloud-amd64.raw.xz`]);
    await until(() => h.server.stats().running >= 1, 'build A to start');
    const queued = curl(['-o', join(h.tmp, 'queue-b'), `${h.base}/image/${b}/${TALOS}/metal-amd64-uki.efi`]);
    await until(() => h.server.stats().queued >= 1, 'build B to queue');
    const refused = await curl([`${h.base}/image/${c}/${TALOS}/metal-amd64-uki.efi`]);
    expect([refused.status, refused.text]).toEqual([503, 'service temporarily unavailable\n']);
    expect((await running).status).toBe(200);
    expect((await queued).status).toBe(200);
    expect(h.server.stats().builds - before).toBe(2);
  });

  it('shutdown in the middle of a build: no clean 200, no partial or complete cache entry remains', async () => {
    const id = await post('customization:\n  extraKernelArgs: [shutdown=1]\n');
    const entries = () => readdirSync(join(h.config.cache.dir, 'assets')).flatMap((s) => readdirSync(join(h.config.cache.dir, 'assets', s)).filter((n) => !n.includes('.partial-')));
    const before = entries().length;
    const out = join(h.tmp, 'cut.raw.xz');
    const download = curl(['-o', out, `${h.base}/image/${id}/${TALOS}/metal-amd64.raw.xz`]);
    await until(() => partials().length > 0, 'the build to start');
    await h.server.close();
    const r = await download;
    // Either the body was cut (curl 18/56: never a clean exit with a truncated file) or the
    // build failed before the first byte (an error status).
    expect(r.exit !== 0 || r.status !== 200, `curl exit ${r.exit}, status ${r.status}`).toBe(true);
    expect(partials()).toEqual([]);
    expect(entries().length).toBe(before);
    expect(h.server.stats().buildsFailed).toBeGreaterThan(0);
    // The service no longer listens.
    expect((await curl([`${h.base}/healthz`])).exit).not.toBe(0);
  });
});
