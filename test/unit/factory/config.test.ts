import { describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../src/core/errors.js';
import { defaultFactoryConfig, parseConfigText, parseGoDuration, parseListenAddr, validateFactoryConfig } from '../../../src/factory/index.js';

const parse = (text: string) => parseConfigText(text, 'cfg.yaml', defaultFactoryConfig({ XDG_CACHE_HOME: '/cache' }));

function fails(text: string, message: RegExp): void {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ImagekitError);
    expect((err as ImagekitError).code).toBe('E_SERVE_CONFIG');
    expect((err as ImagekitError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error(`accepted: ${text}`);
}

describe('serve configuration', () => {
  it('defaults: loopback listener, ghcr.io, upstream build limits, cache under XDG_CACHE_HOME', () => {
    const c = defaultFactoryConfig({ XDG_CACHE_HOME: '/cache' });
    expect(c.http.listenAddr).toBe('127.0.0.1:8080');
    expect(c.artifacts.registry).toBe('ghcr.io');
    expect(c.artifacts.components.imager).toBe('siderolabs/imager');
    expect(c.build.minTalosVersion).toBe('1.2.0');
    expect(c.build.timeoutMs).toBe(20 * 60_000);
    expect(c.cache.dir).toBe('/cache/imagekit/serve');
  });

  it('reads an upstream-shaped air-gapped config, reporting the keys it ignores', () => {
    const { config, ignored } = parse(`
http:
  httpListenAddr: ":8080"
  externalURL: https://factory.lan
  allowedOrigins: ["https://ui.lan"]
artifacts:
  core:
    registry: 127.0.0.1:5000
    namespace: ghcrio/
    insecure: true
    components:
      imager: mirror/imager
  talosVersionRecheckInterval: 1m30s
build:
  minTalosVersion: v1.8.0
  brokenTalosVersions: [1.9.1]
  maxConcurrency: 3
  queueLimit: 5
  timeout: 45m
cache:
  dir: /var/cache/factory
  schematic:
    capacity: 50
    negativeTTL: 30s
  s3:
    enabled: false
containerSignature:
  disabled: true
secureBoot:
  enabled: false
  file:
    signingKeyPath: /keys/uki.pem
metrics:
  addr: ":2122"
`);
    expect(config.http.listenAddr).toBe(':8080');
    expect(config.http.externalURL).toBe('https://factory.lan/');
    expect(config.http.allowedOrigins).toEqual(['https://ui.lan']);
    expect(config.artifacts).toMatchObject({ registry: '127.0.0.1:5000', namespace: 'ghcrio', insecure: true, talosVersionRecheckIntervalMs: 90_000 });
    expect(config.artifacts.components.imager).toBe('mirror/imager');
    expect(config.artifacts.components.extensionManifest).toBe('siderolabs/extensions');
    expect(config.build).toMatchObject({ minTalosVersion: '1.8.0', brokenTalosVersions: ['1.9.1'], maxConcurrency: 3, queueLimit: 5, timeoutMs: 45 * 60_000 });
    expect(config.cache).toMatchObject({ dir: '/var/cache/factory', schematicCapacity: 50 });
    expect(ignored.sort()).toEqual(['cache.s3', 'cache.schematic.negativeTTL', 'containerSignature', 'metrics', 'secureBoot.file.signingKeyPath']);
  });

  it('refuses unknown keys, TLS, enabled SecureBoot/auth, and bad values, naming the key', () => {
    fails('http:\n  listenAddr: ":80"\n', /cfg\.yaml: http\.listenAddr: unknown configuration key/);
    fails('htpp: {}\n', /htpp: unknown configuration key/);
    fails('http:\n  certFile: /tls.pem\n', /TLS is not supported/);
    fails('secureBoot:\n  enabled: true\n', /SecureBoot assets are not supported/);
    fails('authentication:\n  enabled: true\n', /authentication is not supported/);
    fails('build:\n  maxConcurrency: 0\n', /build\.maxConcurrency: expected an integer from 1/);
    fails('build:\n  maxConcurrency: "2"\n', /expected an integer/);
    fails('build:\n  timeout: 20\n', /build\.timeout: expected a string/);
    fails('build:\n  timeout: 20 minutes\n', /is not a duration/);
    fails('artifacts:\n  core:\n    registry: https://ghcr.io/siderolabs\n', /is not a registry host/);
    fails('artifacts:\n  core:\n    components:\n      imager: Bad Name\n', /is not a repository path/);
    fails('http:\n  externalURL: ftp://x\n', /must be an http/);
    fails('http:\n  httpListenAddr: localhost\n', /is not host:port/);
    fails('http: [1]\n', /http: unknown configuration key/);
    fails('- a\n', /expected a mapping at the top level/);
    fails('http: {a: 1, a: 2}\n', /not valid YAML/);
  });

  it('parses Go durations and listen addresses', () => {
    expect(parseGoDuration('1h30m', 'x')).toBe(5_400_000);
    expect(parseGoDuration('250ms', 'x')).toBe(250);
    expect(parseGoDuration('1.5s', 'x')).toBe(1500);
    expect(parseGoDuration('0', 'x')).toBe(0);
    expect(() => parseGoDuration('', 'x')).toThrow(/not a duration/);
    expect(() => parseGoDuration('10d', 'x')).toThrow(/not a duration/);
    expect(parseListenAddr(':8080')).toEqual({ host: undefined, port: 8080 });
    expect(parseListenAddr('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListenAddr('127.0.0.1:5000')).toEqual({ host: '127.0.0.1', port: 5000 });
    expect(() => parseListenAddr('127.0.0.1:70000')).toThrow(/out of range/);
    expect(() => validateFactoryConfig({ ...defaultFactoryConfig(), cache: { dir: '', schematicsDir: '', schematicCapacity: 1 } })).toThrow(/cache\.dir/);
  });
});
