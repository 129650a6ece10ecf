import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defaultKeychain, findAuthFile, normaliseAuthKey, parseAuthFile } from '../../../src/oci/credentials.js';
import { parseMirrorSpec, parseRegistryConfig, registryConfigFromFlags, resolveEndpoint, endpointRepository } from '../../../src/oci/registry-config.js';
import { parseWwwAuthenticate } from '../../../src/oci/www-authenticate.js';
import { redactUrl, registryError } from '../../../src/oci/registry-error.js';

const tmp = mkdtempSync(join(tmpdir(), 'imagekit-auth-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const b64 = (s: string) => Buffer.from(s).toString('base64');

function write(rel: string, doc: unknown): string {
  const p = join(tmp, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, JSON.stringify(doc));
  return p;
}

describe('WWW-Authenticate', () => {
  it('parses the distribution Bearer challenge', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } },
    ]);
  });
  it('parses several challenges, unquoted values and escapes', () => {
    expect(parseWwwAuthenticate('Basic realm="a \\"q\\" b", Bearer realm=https://x/t, error="invalid_token"')).toEqual([
      { scheme: 'basic', params: { realm: 'a "q" b' } },
      { scheme: 'bearer', params: { realm: 'https://x/t', error: 'invalid_token' } },
    ]);
    expect(parseWwwAuthenticate(null)).toEqual([]);
  });
  it('never throws on junk (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => void parseWwwAuthenticate(s)), { seed: 42, numRuns: 2000 });
  });
});

describe('docker config.json / podman auth.json', () => {
  it('normalises keys as docker does', () => {
    expect(normaliseAuthKey('https://index.docker.io/v1/')).toBe('docker.io');
    expect(normaliseAuthKey('registry-1.docker.io')).toBe('docker.io');
    expect(normaliseAuthKey('http://127.0.0.1:5000')).toBe('127.0.0.1:5000');
    expect(normaliseAuthKey('GHCR.io/Org/Repo')).toBe('ghcr.io/org/repo');
  });

  it('decodes auth, username/password, identity and registry tokens; passwords may contain colons', () => {
    const f = parseAuthFile(JSON.stringify({ auths: { 'a.io': { auth: b64('u:p:with:colons') }, 'b.io': { username: 'x', password: 'y' }, 'c.io': { identitytoken: 'rt' }, 'd.io': {} } }), 'cfg');
    expect(f.auths.get('a.io')).toEqual({ username: 'u', password: 'p:with:colons' });
    expect(f.auths.get('b.io')).toEqual({ username: 'x', password: 'y' });
    expect(f.auths.get('c.io')).toEqual({ identityToken: 'rt' });
    expect(f.auths.has('d.io')).toBe(false);
    expect(() => parseAuthFile('{', 'cfg')).toThrow(/cfg: not valid JSON/);
    expect(() => parseAuthFile(JSON.stringify({ auths: { x: { auth: b64('nocolon') } } }), 'cfg')).toThrow(/not base64 of "user:password"/);
  });

  it('finds the file in go-containerregistry order', () => {
    const docker = write('dc/config.json', { auths: {} });
    const home = join(tmp, 'home');
    const homeCfg = write('home/.docker/config.json', { auths: {} });
    const podman = write('run/containers/auth.json', { auths: {} });
    expect(findAuthFile({ env: { DOCKER_CONFIG: join(tmp, 'dc') }, home })).toBe(docker);
    expect(findAuthFile({ env: {}, home })).toBe(homeCfg);
    expect(findAuthFile({ env: { XDG_RUNTIME_DIR: join(tmp, 'run') }, home: join(tmp, 'nohome') })).toBe(podman);
    expect(findAuthFile({ env: {}, home: join(tmp, 'nohome') })).toBeNull();
  });

  it('most specific podman key wins; Docker Hub keys match docker.io', () => {
    write('k1/config.json', { auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') }, 'q.io': { auth: b64('host:pw') }, 'q.io/team': { auth: b64('team:pw') } } });
    const k = defaultKeychain({ env: { DOCKER_CONFIG: join(tmp, 'k1') }, home: tmp });
    expect(k.lookup('docker.io', 'library/alpine').credential?.username).toBe('hub');
    expect(k.lookup('q.io', 'team/app').credential?.username).toBe('team');
    expect(k.lookup('q.io', 'other/app').credential?.username).toBe('host');
    expect(k.lookup('z.io', 'x').credential).toBeUndefined();
  });

  it('credential helpers are reported, never run; GITHUB_TOKEN serves ghcr.io only', () => {
    write('k2/config.json', { auths: { 'ghcr.io': {} }, credsStore: 'desktop', credHelpers: { 'gcr.io': 'gcloud' } });
    const k = defaultKeychain({ env: { DOCKER_CONFIG: join(tmp, 'k2'), GITHUB_TOKEN: 'ghp_x', GITHUB_ACTOR: 'octo' }, home: tmp });
    expect(k.lookup('gcr.io', 'p/i')).toEqual({ unsupportedHelper: `docker-credential-gcloud (from ${join(tmp, 'k2/config.json')})` });
    expect(k.lookup('quay.io', 'p/i').unsupportedHelper).toMatch(/docker-credential-desktop/);
    expect(k.lookup('ghcr.io', 'siderolabs/imager')).toEqual({ credential: { username: 'octo', password: 'ghp_x' }, source: 'GITHUB_TOKEN' });
    const noActor = defaultKeychain({ env: { GITHUB_TOKEN: 't' }, home: join(tmp, 'nohome') });
    expect(noActor.lookup('ghcr.io').credential).toEqual({ username: 'unset', password: 't' });
    expect(noActor.lookup('docker.io').credential).toBeUndefined();
  });
});

describe('registry config: mirrors and insecure registries', () => {
  it('parses flags and resolves endpoints', () => {
    const cfg = registryConfigFromFlags(['ghcr.io=127.0.0.1:5000', 'docker.io=mirror.example:5000/hub'], ['plain.example:80']);
    expect(resolveEndpoint('ghcr.io', cfg)).toEqual({ registry: 'ghcr.io', host: '127.0.0.1:5000', scheme: 'http', prefix: '', mirrored: true });
    const hub = resolveEndpoint('docker.io', cfg);
    expect(hub).toMatchObject({ host: 'mirror.example:5000', scheme: 'https', prefix: 'hub' });
    expect(endpointRepository(hub, 'library/alpine')).toBe('hub/library/alpine');
    expect(resolveEndpoint('docker.io')).toMatchObject({ host: 'registry-1.docker.io', scheme: 'https' });
    expect(resolveEndpoint('plain.example:80', cfg).scheme).toBe('http');
    expect(resolveEndpoint('localhost:5000').scheme).toBe('http');
    expect(resolveEndpoint('quay.io', cfg).scheme).toBe('https');
  });
  it('rejects malformed specs', () => {
    expect(() => parseMirrorSpec('ghcr.io')).toThrow(/expected REGISTRY=MIRROR/);
    expect(() => parseMirrorSpec('ghcr.io=bad host')).toThrow(/not host\[:port\]/);
    expect(() => parseMirrorSpec('ghcr.io=h:1/UP')).toThrow(/prefix/);
  });
  it('reads registries.yaml', () => {
    const cfg = parseRegistryConfig('mirrors:\n  ghcr.io: 127.0.0.1:5000\n  https://index.docker.io: m.example/hub\ninsecure:\n  - m.example\n', 'r.yaml');
    expect(cfg.mirrors.get('ghcr.io')).toEqual({ host: '127.0.0.1:5000' });
    expect(cfg.mirrors.get('docker.io')).toEqual({ host: 'm.example', prefix: 'hub' });
    expect(resolveEndpoint('docker.io', cfg).scheme).toBe('http');
    expect(() => parseRegistryConfig('mirrorz: {}', 'r.yaml')).toThrow(/r.yaml: unknown key "mirrorz"/);
    expect(() => parseRegistryConfig('mirrors: [1]', 'r.yaml')).toThrow(/mirrors must map/);
    expect(() => parseRegistryConfig(': : :', 'r.yaml')).toThrow(/r.yaml/);
  });
});

describe('registry errors', () => {
  it('redact URLs and keep the distribution codes', () => {
    expect(redactUrl('https://user:pw@cdn.example/blob?X-Amz-Signature=secret')).toBe('https://cdn.example/blob?…');
    const e = registryError({ what: 'manifest x', method: 'GET', url: 'https://r/v2/x/manifests/y', status: 404, statusText: 'Not Found', body: JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }) });
    expect(e.code).toBe('E_REGISTRY_NOT_FOUND');
    expect(e.exitCode).toBe(5);
    expect(e.message).toBe('manifest x: GET https://r/v2/x/manifests/y returned 404 Not Found (MANIFEST_UNKNOWN: manifest unknown)');
    expect(registryError({ what: 'w', method: 'HEAD', url: 'http://r/', status: 500 }).message).toMatch(/HEAD responses have no body/);
  });
});
