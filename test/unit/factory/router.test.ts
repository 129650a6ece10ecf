import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Router } from '../../../src/factory/router.js';

const router = new Router<string>()
  .add(['GET', 'HEAD'], '/healthz', 'health')
  .add('POST', '/schematics', 'create')
  .add('GET', '/schematics/:schematic', 'get')
  .add(['GET', 'HEAD'], '/image/:schematic/:version/:path', 'image')
  .add('GET', '/version/:version/extensions/official', 'extensions')
  .add(['GET', 'HEAD'], '/v2', 'ping')
  .add(['GET', 'HEAD'], '/v2/*path', 'registry');

describe('router (httprouter semantics)', () => {
  it('matches parameters and catch-alls', () => {
    expect(router.match('GET', '/image/abc/v1.11.0/metal-amd64.raw.xz')).toEqual({ type: 'found', handler: 'image', params: { schematic: 'abc', version: 'v1.11.0', path: 'metal-amd64.raw.xz' }, pattern: '/image/:schematic/:version/:path' });
    expect(router.match('GET', '/v2')).toMatchObject({ handler: 'ping' });
    expect(router.match('GET', '/v2/')).toMatchObject({ handler: 'registry', params: { path: '/' } });
    expect(router.match('HEAD', '/v2/a/b/manifests/v1')).toMatchObject({ handler: 'registry', params: { path: '/a/b/manifests/v1' } });
  });

  it('404 for unknown paths and empty segments, 405 with Allow for other methods', () => {
    expect(router.match('GET', '/image/abc/v1.11.0')).toEqual({ type: 'not-found' });
    expect(router.match('GET', '/image/abc//x')).toEqual({ type: 'not-found' });
    expect(router.match('GET', '/image/a/b/c/d')).toEqual({ type: 'not-found' });
    expect(router.match('GET', '/schematics')).toEqual({ type: 'method-not-allowed', allow: ['OPTIONS', 'POST'] });
    expect(router.match('DELETE', '/healthz')).toEqual({ type: 'method-not-allowed', allow: ['GET', 'HEAD', 'OPTIONS'] });
  });

  it('redirects trailing-slash variants: 301 for GET, 308 otherwise, keeping the query', () => {
    expect(router.match('GET', '/healthz/', '?a=1')).toEqual({ type: 'redirect', location: '/healthz?a=1', status: 301 });
    expect(router.match('POST', '/schematics/')).toEqual({ type: 'redirect', location: '/schematics', status: 308 });
    expect(router.match('GET', '/schematics/abc/')).toEqual({ type: 'redirect', location: '/schematics/abc', status: 301 });
    expect(router.match('GET', '/')).toEqual({ type: 'not-found' });
  });

  it('never matches a path with more or fewer segments than a non-catch-all pattern', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9.]{0,6}$/), { maxLength: 6 }), (segs) => {
        const path = '/' + segs.join('/');
        const m = router.match('GET', path);
        if (m.type === 'found' && m.pattern.startsWith('/image/')) expect(segs.length).toBe(4);
        if (m.type === 'found' && m.pattern === '/schematics/:schematic') expect(segs).toHaveLength(2);
      }),
      { seed: 42, numRuns: 500 },
    );
  });
});
