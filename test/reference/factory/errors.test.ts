/**
 * Bad input and routing through curl: every malformed request gets the status and body upstream's
 * Image Factory answers (image-factory.md §2.1–§2.6, §4.1), and nothing is built or fetched for a
 * request that fails validation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceDir } from '../../helpers/tools.js';
import { TALOS } from './factory-world.js';
import { harnessMissing, startHarness, type Harness } from './harness.js';
import { curl } from './run.js';

const skip = harnessMissing('curl');
let h: Harness;
let base: string;
let id: string;
let withUnknownExtension: string;
const MAX_BODY = 4096;

beforeAll(async () => {
  if (skip) return;
  h = await startHarness((c) => (c.http.maxSchematicBytes = MAX_BODY));
  base = h.base;
  id = JSON.parse((await curl(['-X', 'POST', '--data-binary', '@-', `${base}/schematics`], 'customization: {}\n')).text).id;
  withUnknownExtension = JSON.parse((await curl(['-X', 'POST', '--data-binary', '@-', `${base}/schematics`], 'customization:\n  systemExtensions:\n    officialExtensions: [siderolabs/nope, evil.example.com/steal/me]\n')).text).id;
});

afterAll(async () => {
  await h?.stop();
});

async function expectAnswer(args: string[], status: number, body: string | RegExp, input?: string): Promise<Record<string, string>> {
  const r = await curl(args, input);
  expect(r.status, `${args.join(' ')} → ${r.text}`).toBe(status);
  if (typeof body === 'string') expect(r.text).toBe(body);
  else expect(r.text).toMatch(body);
  if (status >= 400) {
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  }
  return r.headers;
}

const post = (body: string) => ['-X', 'POST', '--data-binary', '@-', `${base}/schematics`];

describe.skipIf(skip)('POST /schematics refuses bad schematics with the decoder text', () => {
  it('empty body → 400 EOF (conformance vector 58)', async () => {
    await expectAnswer(post(''), 400, 'EOF\n', '');
    await expectAnswer(post('# only a comment\n'), 400, 'EOF\n', '# only a comment\n');
  });

  it('conformance error vectors give their exact text', async () => {
    const dir = conformanceDir();
    if (!dir) return;
    const vectors = JSON.parse(readFileSync(join(dir, 'schematics.json'), 'utf8')) as Array<{ name: string; input: string; error?: string }>;
    for (const v of vectors.filter((x) => x.error !== undefined)) {
      if (v.input === '') continue;
      await expectAnswer(post(v.input), 400, `${v.error}\n`, v.input);
    }
  });

  it('unknown fields, malformed YAML and JSON, wrong types, owner', async () => {
    await expectAnswer(post(''), 400, 'yaml: construct errors:\n  line 1: field something not found in type schematic.Schematic\n', 'something: 1\n');
    await expectAnswer(post(''), 400, /^yaml: construct errors:\n {2}line 2: field extraKernelArg not found in type schematic\.Customization\n$/, 'customization:\n  extraKernelArg: [a]\n');
    await expectAnswer(post(''), 400, /^yaml: /, 'customization: [\n');
    await expectAnswer(post(''), 400, /^yaml: /, '{"customization": {"extraKernelArgs": ["a"]');
    await expectAnswer(post(''), 400, /^yaml: construct errors:\n {2}line 1: /, '["not", "a", "mapping"]');
    await expectAnswer(post(''), 400, 'yaml: construct errors:\n  line 1: cannot construct !!str `true` into bool\n', '{"customization":{"secureboot":{"includeWellKnownCertificates":"true"}}}');
    await expectAnswer(post(''), 400, 'yaml: construct errors:\n  line 3: cannot construct !!str `512` into uint\n', 'customization:\n  diskImage:\n    sectorSize: "512"\n');
    await expectAnswer(post(''), 400, 'owner field is only supported in Enterprise edition\n', 'owner: me\ncustomization: {}\n');
  });

  it('oversized bodies → 413 before decoding', async () => {
    const big = `customization:\n  extraKernelArgs:\n${'    - x\n'.repeat(MAX_BODY / 8 + 1)}`;
    await expectAnswer(post(''), 413, `request body too large (limit ${MAX_BODY} bytes)\n`, big);
    // Chunked (no Content-Length): refused while reading.
    await expectAnswer(['-H', 'Transfer-Encoding: chunked', ...post('')], 413, `request body too large (limit ${MAX_BODY} bytes)\n`, big);
  });
});

describe.skipIf(skip)('schematic IDs, versions and asset paths are validated before any work', () => {
  it('bad or unknown schematic IDs → 404', async () => {
    for (const bad of ['xyz', id.toUpperCase(), id.slice(1), `${id}0`, '0'.repeat(64)]) {
      await expectAnswer([`${base}/schematics/${bad}`], 404, 'schematic not found\n');
      await expectAnswer([`${base}/image/${bad}/${TALOS}/kernel-amd64`], 404, `schematic ID "${bad}" not found\n`);
      await expectAnswer([`${base}/pxe/${bad}/${TALOS}/metal-amd64`], 404, `schematic ID "${bad}" not found\n`);
    }
  });

  it('malformed versions → 500 (upstream: untagged semver error), unknown ones → 404', async () => {
    for (const bad of ['1.11', 'v1', 'latest', 'v1.11.0.0', 'v01.11.0']) {
      await expectAnswer([`${base}/image/${id}/${bad}/kernel-amd64`], 500, 'internal server error\n');
      await expectAnswer([`${base}/version/${bad}/extensions/official`], 500, 'internal server error\n');
    }
    await expectAnswer([`${base}/image/${id}/v1.99.0/kernel-amd64`], 404, 'version 1.99.0 is not available\n');
    await expectAnswer([`${base}/image/${id}/1.11.0-rc.1/kernel-amd64`], 404, 'version 1.11.0-rc.1 is not available\n');
    await expectAnswer([`${base}/version/v1.99.0/extensions/official`], 404, 'version 1.99.0 is not available\n');
    await expectAnswer([`${base}/version/v1.99.0/overlays/official`], 404, 'version 1.99.0 is not available\n');
    await expectAnswer([`${base}/pxe/${id}/v1.99.0/metal-amd64`], 404, 'version 1.99.0 is not available\n');
  });

  it('bad asset names → 400 with upstream texts', async () => {
    const table: Array<[string, string]> = [
      ['metal-amd64.ssd', 'error parsing profile from path: invalid profile path: "metal-amd64.ssd"'],
      ['kernel-foo', 'error parsing profile from path: invalid architecture: "foo"'],
      ['metal-rpi_generic-arm64.raw.xz', 'error parsing profile from path: invalid architecture: "rpi_generic-arm64"'],
      ['cmdline-metal', 'error parsing profile from path: invalid platform-arch: "metal"'],
      ['initramfs-riscv64.xz', 'error parsing profile from path: invalid architecture: "riscv64"'],
    ];
    for (const [path, text] of table) await expectAnswer([`${base}/image/${id}/${TALOS}/${path}`], 400, `${text}\n`);
    await expectAnswer([`${base}/pxe/${id}/${TALOS}/metal-sparc`], 400, 'error parsing profile from path: invalid architecture: "sparc"\n');
  });

  it('schematic enhancement errors → 400 (unknown extension, SecureBoot disabled); no foreign host is contacted', async () => {
    await expectAnswer([`${base}/image/${withUnknownExtension}/${TALOS}/initramfs-amd64.xz`], 400, `error enhancing profile from schematic: official extension "siderolabs/nope" is not available for Talos version ${TALOS}\n`);
    await expectAnswer([`${base}/image/${id}/${TALOS}/metal-amd64-secureboot.iso`], 400, 'error enhancing profile from schematic: secure boot is disabled\n');
    const overlay = JSON.parse((await curl(post(''), 'overlay:\n  image: siderolabs/sbc-nope\n  name: nope\n')).text).id;
    await expectAnswer([`${base}/image/${overlay}/${TALOS}/metal-arm64.raw.xz`], 400, `error enhancing profile from schematic: official overlay "nope" is not available for Talos version ${TALOS}\n`);
    const embedded = JSON.parse((await curl(post(''), 'customization:\n  embeddedMachineConfiguration: "version: v1alpha1\\n"\n')).text).id;
    await expectAnswer([`${base}/image/${embedded}/${TALOS}/metal-amd64.raw.zst`], 400, `error enhancing profile from schematic: embedding configuration is not supported for Talos version ${TALOS}\n`);
    expect([...h.contacted]).toEqual([h.world.registry.host]);
  });

  it('kinds the pipeline cannot build yet → 400 naming them, never 500', async () => {
    const table: Array<[string, RegExp]> = [
      ['metal-amd64.iso', /^error building asset "metal-amd64\.iso": output kind iso is not supported yet/],
      ['metal-amd64.qcow2', /^error building asset "metal-amd64\.qcow2": disk format qcow2 is not supported yet/],
      ['vmware-amd64.ova', /disk format ova is not supported yet/],
      ['azure-amd64.vhd.xz', /disk format vhd is not supported yet/],
    ];
    for (const [path, text] of table) await expectAnswer([`${base}/image/${id}/${TALOS}/${path}`], 400, text);
    const rpi = JSON.parse((await curl(post(''), 'overlay:\n  image: siderolabs/sbc-raspberrypi\n  name: rpi_generic\n')).text).id;
    await expectAnswer([`${base}/image/${rpi}/${TALOS}/metal-arm64.raw.xz`], 400, /overlays are not supported yet/);
    const grub = JSON.parse((await curl(post(''), 'customization:\n  bootloader: grub\n')).text).id;
    await expectAnswer([`${base}/image/${grub}/${TALOS}/metal-amd64.raw.xz`], 400, /bootloader "grub"/);
    // Nothing above started a build.
    expect(h.server.stats().builds).toBe(0);
  });

  it('Enterprise-only signatures → 402', async () => {
    await expectAnswer([`${base}/image/${id}/${TALOS}/kernel-amd64.sigstore.json`], 402, 'enterprise signing is not enabled: signature endpoint is not available\n');
  });
});

describe.skipIf(skip)('routing as httprouter + rs/cors', () => {
  it('unknown paths, wrong methods, trailing slashes', async () => {
    await expectAnswer([`${base}/v1/extensions?talos_version=1.11.0`], 404, '404 page not found\n');
    await expectAnswer([`${base}/talosctl/${TALOS}`], 404, '404 page not found\n');
    const h1 = await expectAnswer(['-X', 'POST', `${base}/versions`], 405, 'Method Not Allowed\n');
    expect(h1.allow).toBe('GET, OPTIONS');
    const h2 = await expectAnswer([`${base}/schematics`], 405, 'Method Not Allowed\n');
    expect(h2.allow).toBe('OPTIONS, POST');
    await expectAnswer(['-X', 'HEAD', '-o', '/dev/null', `${base}/pxe/${id}/${TALOS}/metal-amd64`], 405, '');
    const redirect = await curl([`${base}/versions/`]);
    expect([redirect.status, redirect.headers.location]).toEqual([301, '/versions']);
    const redirect2 = await curl(['-X', 'POST', `${base}/schematics/`]);
    expect([redirect2.status, redirect2.headers.location]).toEqual([308, '/schematics']);
  });

  it('health, readiness, request IDs', async () => {
    const r = await curl(['-H', 'X-Request-ID: abc-123', `${base}/healthz`]);
    expect([r.status, r.text, r.headers['x-request-id'], r.headers.server]).toEqual([200, '', 'abc-123', 'imagekit-serve']);
    const ready = await curl([`${base}/readyz`]);
    expect(ready.status).toBe(200);
    expect(ready.headers['x-request-id']).toMatch(/^imagekit-[0-9a-f]{8}$/);
    expect((await curl(['-I', '-o', '/dev/null', `${base}/healthz`])).status).toBe(200);
  });

  it('CORS: simple requests expose the download headers, preflights allow GET/HEAD only', async () => {
    const simple = await curl(['-H', 'Origin: https://ui.example', `${base}/versions`]);
    expect(simple.headers['access-control-allow-origin']).toBe('*');
    expect(simple.headers['access-control-expose-headers']).toBe('Content-Disposition, Content-Length, Content-Type');
    const pre = await curl(['-X', 'OPTIONS', '-H', 'Origin: https://ui.example', '-H', 'Access-Control-Request-Method: GET', '-H', 'Access-Control-Request-Headers: cache-control', `${base}/versions`]);
    expect([pre.status, pre.headers['access-control-allow-origin'], pre.headers['access-control-allow-methods'], pre.headers['access-control-allow-headers']]).toEqual([204, '*', 'GET', 'cache-control']);
    const refused = await curl(['-X', 'OPTIONS', '-H', 'Origin: https://ui.example', '-H', 'Access-Control-Request-Method: POST', `${base}/schematics`]);
    expect([refused.status, refused.headers['access-control-allow-origin']]).toEqual([204, undefined]);
  });

  it('the /v2 registry front is routed but answers not-found / unavailable for now', async () => {
    await expectAnswer([`${base}/v2`], 200, '');
    await expectAnswer([`${base}/v2/`], 200, '');
    await expectAnswer([`${base}/v2/metal-installer/${id}/manifests/${TALOS}`], 404, /^installer image metal-installer\/[0-9a-f]{64} \(manifests\/v1\.11\.0\) is not available/);
    await expectAnswer([`${base}/v2/installer/${id}/blobs/sha256:${'0'.repeat(64)}`], 404, /is not available/);
    await expectAnswer([`${base}/v2/nonsense/${id}/manifests/${TALOS}`], 400, 'invalid image: nonsense\n');
    await expectAnswer([`${base}/v2/metal-installer/${'f'.repeat(64)}/manifests/${TALOS}`], 404, `schematic ID "${'f'.repeat(64)}" not found\n`);
    await expectAnswer([`${base}/v2/siderolabs/imager/manifests/${TALOS}`], 503, /^proxying to the backing registry is not available/);
    await expectAnswer([`${base}/v2/a/b`], 404, 'unknown registry path: "/a/b"\n');
    await expectAnswer([`${base}/v2/a/b/c/tags/list`], 404, 'unknown registry path: "/a/b/c/tags/list"\n');
  });
});
