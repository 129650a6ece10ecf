import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../src/core/errors.js';
import { assetContentType, checkInstallerImageName, contentDisposition, goJson, guardedFetch, joinUrlPath, routeRegistryPath, secureBootIpxe, standardIpxe } from '../../../src/factory/index.js';
import { parseVersionSegment } from '../../../src/factory/assets.js';
import { HttpError } from '../../../src/factory/http-error.js';
import { validateHeaderValue } from 'node:http';

describe('Go JSON encoding (§2.1)', () => {
  it('escapes <, >, & and U+2028/2029, one value then a newline', () => {
    expect(goJson({ schematic: 'a<b>&c\u2028' })).toBe('{"schematic":"a\\u003cb\\u003e\\u0026c\\u2028"}\n');
    expect(goJson([])).toBe('[]\n');
  });
  it('round-trips any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      expect(JSON.parse(goJson(v))).toEqual(JSON.parse(JSON.stringify(v)));
    }), { seed: 42, numRuns: 300 });
  });
});

describe('asset Content-Type and Content-Disposition (§2.5, §2.8)', () => {
  it('maps the last extension', () => {
    const table: Record<string, string> = {
      'metal-amd64-uki.efi': 'application/efi',
      'metal-amd64.iso': 'application/x-iso9660-image',
      'metal-amd64.raw.xz': 'application/x-xz',
      'initramfs-amd64.xz': 'application/x-xz',
      'gcp-amd64.raw.tar.gz': 'application/gzip',
      'metal-amd64.qcow2': 'application/x-qemu-disk',
      'metal-amd64.raw.zst': 'application/zstd',
      'installer-amd64.tar': 'application/x-tar',
      'metal-amd64.raw': 'application/octet-stream',
      'vmware-amd64.ova': 'application/octet-stream',
      'kernel-amd64': 'application/octet-stream',
      'cmdline-metal-amd64': 'application/octet-stream',
    };
    for (const [path, type] of Object.entries(table)) expect(assetContentType(path), path).toBe(type);
  });
  it('writes upstream\'s form for plain names and a safe RFC 6266 form otherwise', () => {
    expect(contentDisposition('metal-amd64.raw.xz')).toBe('attachment; filename="metal-amd64.raw.xz"');
    expect(contentDisposition('a"b\\c')).toBe('attachment; filename="a\\"b\\\\c"; filename*=UTF-8\'\'a%22b%5Cc');
    expect(contentDisposition('tälos\r\n.raw')).toBe('attachment; filename="t_los__.raw"; filename*=UTF-8\'\'t%C3%A4los%0D%0A.raw');
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (name) => {
      validateHeaderValue('content-disposition', contentDisposition(name));
    }), { seed: 42, numRuns: 500 });
  });
});

describe('PXE (§3)', () => {
  it('joins URL paths as Go url.JoinPath', () => {
    expect(joinUrlPath('http://h:8080/', 'image', 'abc', 'v1.11.0', 'kernel-amd64')).toBe('http://h:8080/image/abc/v1.11.0/kernel-amd64');
    expect(joinUrlPath('https://pxe.lan/factory/', 'image', 'x')).toBe('https://pxe.lan/factory/image/x');
    expect(joinUrlPath('https://pxe.lan/factory', '/image/', '../x')).toBe('https://pxe.lan/factory/x');
    expect(joinUrlPath('https://h/', 'a b', 'c?d')).toBe('https://h/a%20b/c%3Fd');
  });
  it('renders the two templates byte for byte', () => {
    expect(standardIpxe({ kernelUrl: 'K', initramfsUrl: 'I', cmdline: 'a b' })).toBe('#!ipxe\n\nimgfree\nkernel K a b\ninitrd I\nboot\n');
    expect(secureBootIpxe({ ukiUrl: 'U', cmdline: 'c' })).toBe('#!ipxe\n\nimgfree\nkernel U c\nboot\n');
  });
});

describe('registry front routing (§4.1)', () => {
  it('routes as upstream RouteV2', () => {
    expect(routeRegistryPath('/')).toEqual({ target: 'ping' });
    expect(routeRegistryPath('/siderolabs/imager/manifests/v1.11.0')).toEqual({ target: 'proxy', image: 'imager', resource: 'manifests', reference: 'v1.11.0' });
    expect(routeRegistryPath('/siderolabs/imager/tags/list')).toMatchObject({ target: 'proxy', resource: 'tags' });
    expect(routeRegistryPath('/siderolabs/manifests/x')).toEqual({ target: 'unknown' });
    expect(routeRegistryPath('/metal-installer/abc/manifests/v1.11.0')).toEqual({ target: 'schematic', image: 'metal-installer', schematic: 'abc', resource: 'manifests', reference: 'v1.11.0' });
    expect(routeRegistryPath('/a/b/c/manifests/x')).toEqual({ target: 'unknown' });
    expect(routeRegistryPath('/a/b/tags/list')).toEqual({ target: 'unknown' });
    expect(routeRegistryPath('/a/b')).toEqual({ target: 'unknown' });
  });
  it('accepts installer image names as upstream getRequestedImage', () => {
    for (const ok of ['installer', 'installer-secureboot', 'metal-installer', 'digital-ocean-installer', 'aws-installer-secureboot']) expect(() => checkInstallerImageName(ok)).not.toThrow();
    expect(() => checkInstallerImageName('imager')).toThrow(/invalid image: imager/);
  });
});

describe('version segments', () => {
  it('optional v, strict semver; anything else is upstream\'s 500', () => {
    expect(parseVersionSegment('1.11.0')).toEqual({ tag: 'v1.11.0', version: '1.11.0' });
    expect(parseVersionSegment('v1.12.0-beta.1')).toEqual({ tag: 'v1.12.0-beta.1', version: '1.12.0-beta.1' });
    for (const bad of ['1.11', 'vv1.11.0', 'v1.11.0.1', '01.1.0', '']) {
      try {
        parseVersionSegment(bad);
        throw new Error(`accepted ${bad}`);
      } catch (err) {
        expect(err).toBeInstanceOf(HttpError);
        expect([(err as HttpError).status, (err as HttpError).body]).toEqual([500, 'internal server error']);
      }
    }
  });
});

describe('the registry host guard (no SSRF)', () => {
  it('passes the configured registry and refuses every other host without calling fetch', async () => {
    const seen: string[] = [];
    const inner = (async (input: string | URL | Request) => {
      seen.push(String(input));
      return new Response('ok');
    }) as typeof fetch;
    const f = guardedFetch(['127.0.0.1:5000', 'cdn.example'], inner);
    expect(await (await f('http://127.0.0.1:5000/v2/')).text()).toBe('ok');
    expect(await (await f('https://cdn.example/blob')).text()).toBe('ok');
    for (const bad of ['http://127.0.0.1:5001/v2/', 'http://169.254.169.254/latest/meta-data', 'https://ghcr.io/v2/', 'http://cdn.example.evil/']) {
      const err = await f(bad).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(ImagekitError);
      expect((err as ImagekitError).code).toBe('E_SERVE_HOST_REFUSED');
    }
    expect(seen).toEqual(['http://127.0.0.1:5000/v2/', 'https://cdn.example/blob']);
  });
});
