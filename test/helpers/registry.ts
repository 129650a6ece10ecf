/**
 * A real registry for tests: Debian's `docker-registry` (CNCF distribution 2.8) on 127.0.0.1 with a
 * free port, filesystem storage in a temp dir, optionally behind htpasswd (Basic) or token (Bearer)
 * auth. Plus helpers to build small images with imagekit's own OCI writer and push them.
 *
 *   const reg = await startRegistry();                 // reg.host = '127.0.0.1:PORT'
 *   const ref = await pushTestImage(reg, 'ext/demo:v1', { platforms: ['linux/amd64'], layers: [...] });
 *   ...
 *   await reg.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobCache } from '../../src/oci/blob-cache.js';
import { anonymousKeychain, type Keychain } from '../../src/oci/credentials.js';
import { buildImage, buildIndex, type BuiltImage, type LayerSpec } from '../../src/oci/image-builder.js';
import { directoryBlobSource } from '../../src/oci/image.js';
import { parsePlatform } from '../../src/oci/platform.js';
import { pushManifest } from '../../src/oci/push.js';
import { RegistryClient } from '../../src/oci/registry-client.js';
import { hasTool } from './tools.js';
import type { TokenServer } from './token-server.js';

/** The password the htpasswd registry accepts for user `imagekit` (bcrypt, cost 4, in `htpasswdLine`). */
export const basicUser = 'imagekit';
export const basicPassword = 'imagekit-test-password';
// bcrypt("imagekit-test-password"), cost 4 so the registry answers quickly.
const htpasswdLine = `${basicUser}:$2b$04$hAsrUH2qf4XBWaZQfOaKFunMR3KD8/eUE.dce8Y1z2d297tt1dPG6\n`;

export const registryBinary = 'docker-registry';

export function hasRegistry(): boolean {
  return hasTool(registryBinary);
}

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  url: string;
  dataDir: string;
  /** The registry's own log (stderr), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** `basic`: htpasswd with `basicUser`/`basicPassword`. */
  auth?: 'basic' | { token: TokenServer };
}

/** A free TCP port on 127.0.0.1 (bound and released; a tiny race is accepted in tests). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${log()}`);
    try {
      const r = await fetch(`${url}/v2/`);
      await r.body?.cancel();
      if (r.status === 200 || r.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not start: ${log()}`);
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'imagekit-registry-'));
  const dataDir = join(dir, 'data');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const lines = [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${dataDir}`,
      '  delete:',
      '    enabled: true',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '  secret: imagekit-test-secret',
    ];
    if (opts.auth === 'basic') {
      writeFileSync(join(dir, 'htpasswd'), htpasswdLine);
      lines.push('auth:', '  htpasswd:', '    realm: imagekit-test', `    path: ${join(dir, 'htpasswd')}`);
    } else if (opts.auth && 'token' in opts.auth) {
      const t = opts.auth.token;
      lines.push('auth:', '  token:', `    realm: ${t.realm}`, `    service: ${t.service}`, `    issuer: ${t.issuer}`, `    rootcertbundle: ${t.certPath}`);
    }
    const configPath = join(dir, 'config.yml');
    writeFileSync(configPath, lines.join('\n') + '\n');
    const child = spawn(registryBinary, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (c) => (output = (output + c).slice(-20000)));
    child.stderr!.on('data', (c) => (output = (output + c).slice(-20000)));
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, child, () => output);
    } catch (err) {
      child.kill('SIGKILL');
      if (attempt < 3 && /address already in use/.test(output)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return {
      host: `127.0.0.1:${port}`,
      port,
      url,
      dataDir,
      log: () => output,
      stop: async () => {
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
          if (child.exitCode === null) child.kill('SIGKILL');
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

export interface TestImageSpec {
  /** One image per platform; the same layers unless `layersFor` is given. */
  platforms: string[];
  layers?: LayerSpec[];
  layersFor?: (platform: string) => LayerSpec[];
  /** Push a single manifest (no index) when there is one platform (default: index always). */
  single?: boolean;
  format?: 'oci' | 'docker';
  /** Chunked upload size (default monolithic). */
  chunkSize?: number;
  keychain?: Keychain;
}

export interface PushedTestImage {
  /** Full reference `127.0.0.1:PORT/repo:tag`. */
  ref: string;
  /** Digest of the root (index or manifest). */
  digest: string;
  images: BuiltImage[];
  /** Where the blobs were built (a BlobCache dir; removed by `cleanup`). */
  storeDir: string;
  cleanup(): void;
}

/** Build an image with imagekit's writer and push it to `registryHost` under `repoTag`. */
export async function pushTestImage(registryHost: string, repoTag: string, spec: TestImageSpec): Promise<PushedTestImage> {
  const storeDir = mkdtempSync(join(tmpdir(), 'imagekit-testimg-'));
  const store = new BlobCache(storeDir);
  const images: BuiltImage[] = [];
  for (const p of spec.platforms) {
    const layers = spec.layersFor ? spec.layersFor(p) : (spec.layers ?? []);
    images.push(await buildImage(store, { platform: parsePlatform(p), layers, format: spec.format ?? 'oci' }));
  }
  const ref = `${registryHost}/${repoTag}`;
  const client = new RegistryClient({ keychain: spec.keychain ?? anonymousKeychain, retries: 1, backoffMs: 10 });
  const source = directoryBlobSource(storeDir, 'test image store', true);
  let digest: string;
  const pushOpts = spec.chunkSize ? { client, chunkSize: spec.chunkSize } : { client };
  if (spec.single && images.length === 1) {
    digest = await pushManifest(ref, source, { raw: images[0]!.rawManifest, mediaType: images[0]!.descriptor.mediaType }, pushOpts);
  } else {
    const idx = await buildIndex(store, images, { format: spec.format ?? 'oci' });
    digest = await pushManifest(ref, source, { raw: idx.rawIndex, mediaType: idx.descriptor.mediaType }, pushOpts);
  }
  return { ref, digest, images, storeDir, cleanup: () => rmSync(storeDir, { recursive: true, force: true }) };
}
