/**
 * Authentication against a real registry: the Bearer token flow (docker-registry `auth.token`
 * with our token server), Basic (htpasswd), credentials from a docker config.json, unsupported
 * credential helpers, and credentials never following a redirect to another host.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobCache } from '../../../src/oci/blob-cache.js';
import { defaultKeychain, staticKeychain } from '../../../src/oci/credentials.js';
import { parsePlatform } from '../../../src/oci/platform.js';
import { pullImage } from '../../../src/oci/remote.js';
import { RegistryClient } from '../../../src/oci/registry-client.js';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.js';
import { basicPassword, basicUser, pushTestImage, startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { startTokenServer, type TokenServer } from '../../helpers/token-server.js';
import { missingTools } from '../../helpers/tools.js';

const skip = missingTools('docker-registry', 'openssl');
const tmp = mkdtempSync(join(tmpdir(), 'imagekit-auth-'));
let n = 0;
const freshCache = () => new BlobCache(join(tmp, `cache${n++}`));
const amd64 = parsePlatform('linux/amd64');
const layers = [{ entries: [{ name: 'secret.txt', type: 'file' as const, data: Buffer.from('s3cr3t content') }] }];

function dockerConfig(auths: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const dir = join(tmp, `docker${n++}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths, ...extra }));
  return dir;
}
const b64 = (s: string) => Buffer.from(s).toString('base64');

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(skip)('Bearer token flow', () => {
  let tokens: TokenServer;
  let reg: TestRegistry;
  beforeAll(async () => {
    tokens = await startTokenServer({ users: { alice: 'wonderland' }, anonymousPull: ['public/img'] });
    reg = await startRegistry({ auth: { token: tokens } });
    const alice = staticKeychain({ [reg.host]: { username: 'alice', password: 'wonderland' } });
    await pushTestImage(reg.host, 'public/img:v1', { platforms: ['linux/amd64'], layers, keychain: alice });
    await pushTestImage(reg.host, 'private/img:v1', { platforms: ['linux/amd64'], layers, keychain: alice });
  });
  afterAll(async () => {
    await reg?.stop();
    await tokens?.stop();
  });

  it('anonymous pull of a public repository gets a pull-scoped token', async () => {
    const before = tokens.requests.length;
    const img = await pullImage(`${reg.host}/public/img:v1`, { platform: amd64, cache: freshCache(), client: new RegistryClient() });
    expect(img.layers).toHaveLength(1);
    const mine = tokens.requests.slice(before);
    expect(mine.length).toBeGreaterThanOrEqual(1);
    expect(mine[0]).toMatchObject({ user: null, scopes: ['repository:public/img:pull'], service: 'imagekit-test-registry', authorization: false });
    // One token serves every request of the pull (cached per scope).
    expect(mine).toHaveLength(1);
  });

  it('anonymous pull of a private repository fails with a clear 401 naming the missing credentials', async () => {
    const err = await pullImage(`${reg.host}/private/img:v1`, { platform: amd64, cache: freshCache(), client: new RegistryClient({ keychain: defaultKeychain({ env: {}, home: tmp }) }) }).catch((e) => e);
    expect(err.code).toBe('E_REGISTRY_UNAUTHORIZED');
    expect(err.exitCode).toBe(5);
    expect(err.message).toMatch(/returned 401 Unauthorized .*no credentials found/);
  });

  it('credentials from $DOCKER_CONFIG/config.json unlock the private repository', async () => {
    const dir = dockerConfig({ [`http://${reg.host}`]: { auth: b64('alice:wonderland') } });
    const keychain = defaultKeychain({ env: { DOCKER_CONFIG: dir }, home: tmp });
    const img = await pullImage(`${reg.host}/private/img:v1`, { platform: amd64, cache: freshCache(), client: new RegistryClient({ keychain }) });
    expect(img.layers).toHaveLength(1);
    expect(tokens.requests.at(-1)).toMatchObject({ user: 'alice', granted: true });
  });

  it('wrong credentials are reported with their source, never their value', async () => {
    const dir = dockerConfig({ [reg.host]: { username: 'alice', password: 'not-the-password' } });
    const keychain = defaultKeychain({ env: { DOCKER_CONFIG: dir }, home: tmp });
    const err = await pullImage(`${reg.host}/private/img:v1`, { platform: amd64, cache: freshCache(), client: new RegistryClient({ keychain, retries: 0 }) }).catch((e) => e);
    expect(err.code).toBe('E_REGISTRY_UNAUTHORIZED');
    expect(err.message).toContain(join(dir, 'config.json'));
    expect(err.message).not.toContain('not-the-password');
    expect(err.message).not.toContain(b64('alice:not-the-password'));
  });

  it('a credential helper is reported as unsupported (and never run)', async () => {
    const dir = dockerConfig({}, { credHelpers: { [reg.host]: 'imagekit-must-not-run' } });
    const warnings: string[] = [];
    const keychain = defaultKeychain({ env: { DOCKER_CONFIG: dir }, home: tmp });
    const err = await pullImage(`${reg.host}/private/img:v1`, { platform: amd64, cache: freshCache(), client: new RegistryClient({ keychain, progress: (e) => e.type === 'warning' && warnings.push(e.message) }) }).catch((e) => e);
    expect(err.message).toMatch(/docker-credential-imagekit-must-not-run .* is a credential helper, which imagekit never runs/);
    expect(warnings.join()).toMatch(/is not supported \(imagekit never runs external programs\); trying anonymous access/);
  });

  it('push needs push scope: the token request asks for pull,push', async () => {
    const alice = staticKeychain({ [reg.host]: { username: 'alice', password: 'wonderland' } });
    const before = tokens.requests.length;
    const p = await pushTestImage(reg.host, 'private/pushed:v2', { platforms: ['linux/amd64'], layers, keychain: alice });
    p.cleanup();
    expect(tokens.requests.slice(before).some((r) => r.scopes.includes('repository:private/pushed:pull,push') && r.user === 'alice')).toBe(true);
    const anon = await pushTestImage(reg.host, 'public/img:v2', { platforms: ['linux/amd64'], layers }).catch((e) => e);
    expect(anon.code).toBe('E_REGISTRY_UNAUTHORIZED');
  });
});

describe.skipIf(skip)('Basic auth (htpasswd)', () => {
  let reg: TestRegistry;
  let cdn: FaultProxy;
  let front: FaultProxy;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'basic' });
    await pushTestImage(reg.host, 'basic/img:v1', { platforms: ['linux/amd64'], layers, keychain: staticKeychain({ [reg.host]: { username: basicUser, password: basicPassword } }) });
    // A "CDN" on another origin (localhost vs 127.0.0.1) that has its own access to the registry.
    cdn = await startFaultProxy(reg.url, { hostName: 'localhost', upstreamAuthorization: 'Basic ' + b64(`${basicUser}:${basicPassword}`) });
    front = await startFaultProxy(reg.url);
    front.faults.push({ method: 'GET', match: /\/blobs\/sha256:/, fault: { redirect: (path) => `${cdn.url}${path}` } });
  });
  afterAll(async () => {
    await front?.stop();
    await cdn?.stop();
    await reg?.stop();
  });

  it('credentials from a podman auth.json (REGISTRY_AUTH_FILE) are sent as Basic', async () => {
    const file = join(tmp, 'auth.json');
    writeFileSync(file, JSON.stringify({ auths: { [reg.host]: { auth: b64(`${basicUser}:${basicPassword}`) } } }));
    const keychain = defaultKeychain({ env: { REGISTRY_AUTH_FILE: file }, home: tmp });
    const img = await pullImage(`${reg.host}/basic/img:v1`, { platform: amd64, cache: freshCache(), client: new RegistryClient({ keychain }) });
    expect(img.layers).toHaveLength(1);
  });

  it('without credentials: 401 with the Basic challenge explained', async () => {
    const err = await pullImage(`${reg.host}/basic/img:v1`, { platform: amd64, cache: freshCache(), client: new RegistryClient({ retries: 0 }) }).catch((e) => e);
    expect(err.code).toBe('E_REGISTRY_UNAUTHORIZED');
  });

  it('credentials never follow a redirect to another host', async () => {
    const keychain = staticKeychain({ [front.host]: { username: basicUser, password: basicPassword } });
    const cache = freshCache();
    const img = await pullImage(`${front.host}/basic/img:v1`, { platform: amd64, cache, client: new RegistryClient({ keychain }) });
    expect(img.layers).toHaveLength(1);
    const blobGets = cdn.log.filter((l) => l.method === 'GET' && l.path.includes('/blobs/'));
    expect(blobGets.length).toBeGreaterThanOrEqual(2); // config + layer went through the CDN
    expect(blobGets.every((l) => !l.authorization)).toBe(true);
    // …while the registry's own origin did get them.
    expect(front.log.some((l) => l.path.includes('/manifests/') && l.authorization)).toBe(true);
  });
});
