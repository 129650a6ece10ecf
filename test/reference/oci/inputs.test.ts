/**
 * Inputs without a registry: OCI archives and docker-save archives written by skopeo, OCI layouts,
 * and plain filesystem tarballs (tarballPath) written by GNU tar / bsdtar, gzip and zstd compressed.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEntry, type FileTree } from '../../../src/core/file-tree.js';
import { BlobCache } from '../../../src/oci/blob-cache.js';
import { parsePlatform } from '../../../src/oci/platform.js';
import { extractImage, openImage } from '../../../src/oci/source.js';
import { pushTestImage, startRegistry, type PushedTestImage, type TestRegistry } from '../../helpers/registry.js';
import { missingTools, runTool } from '../../helpers/tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'imagekit-inputs-'));
let n = 0;
const fresh = (p: string) => join(tmp, `${p}${n++}`);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 16);
const amd64 = parsePlatform('linux/amd64');
const arm64 = parsePlatform('linux/arm64');

async function summary(tree: FileTree): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of tree) out[e.path] = e.type === 'file' ? `file ${sha(await readEntry(e))}` : e.type === 'symlink' ? `symlink ${e.linkTarget}` : e.type;
  return out;
}

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(missingTools('docker-registry', 'skopeo'))('archives written by skopeo', () => {
  let reg: TestRegistry;
  let img: PushedTestImage;
  let expected: Record<string, string>;
  beforeAll(async () => {
    reg = await startRegistry();
    img = await pushTestImage(reg.host, 'inputs/img:v1', {
      platforms: ['linux/amd64', 'linux/arm64'],
      layersFor: (p) => [
        { entries: [{ name: 'etc/arch', type: 'file', data: Buffer.from(p) }, { name: 'etc/x', type: 'file', data: Buffer.from('x') }] },
        { entries: [{ name: 'etc/.wh.x', type: 'file', data: Buffer.alloc(0) }, { name: 'bin/tool', type: 'file', data: Buffer.from('tool'), mode: 0o755 }], compression: 'none' },
      ],
    });
    expected = await summary(await extractImage({ imageRef: img.ref }, { platform: arm64, cache: new BlobCache(fresh('cache')) }));
    expect(expected['etc/arch']).toBe(`file ${sha(Buffer.from('linux/arm64'))}`);
  });
  afterAll(async () => {
    await reg?.stop();
    img?.cleanup();
  });

  it('OCI archive (skopeo oci-archive:)', async () => {
    const file = fresh('oci') + '.tar';
    const r = runTool('skopeo', ['--insecure-policy', 'copy', '--src-tls-verify=false', '--override-arch', 'arm64', `docker://${img.ref}`, `oci-archive:${file}:v1`]);
    expect(r.status, r.stderr).toBe(0);
    const tree = await extractImage({ archivePath: file }, { platform: arm64, cache: new BlobCache(fresh('cache')) });
    expect(await summary(tree)).toEqual(expected);
    await expect(openImage({ archivePath: file }, { platform: amd64, cache: new BlobCache(fresh('cache')) })).rejects.toThrow(/has no image for platform linux\/amd64 \(available: linux\/arm64\)/);
  });

  it('docker-save archive (skopeo docker-archive:), also gzip-compressed', async () => {
    const file = fresh('docker') + '.tar';
    const r = runTool('skopeo', ['--insecure-policy', 'copy', '--src-tls-verify=false', '--override-arch', 'arm64', `docker://${img.ref}`, `docker-archive:${file}:inputs/img:v1`]);
    expect(r.status, r.stderr).toBe(0);
    const image = await openImage({ archivePath: file, refName: 'v1' }, { platform: arm64, cache: new BlobCache(fresh('cache')) });
    expect(image.platform).toMatchObject({ architecture: 'arm64' });
    expect(await summary(await extractImage({ archivePath: file }, { platform: arm64, cache: new BlobCache(fresh('cache')) }))).toEqual(expected);
    const gz = runTool('sh', ['-c', `gzip -c '${file}' > '${file}.gz'`]);
    expect(gz.status).toBe(0);
    expect(await summary(await extractImage({ archivePath: `${file}.gz` }, { platform: arm64, cache: new BlobCache(fresh('cache')) }))).toEqual(expected);
    await expect(openImage({ archivePath: file }, { platform: amd64, cache: new BlobCache(fresh('cache')) })).rejects.toThrow(/no image for platform linux\/amd64 \(available: linux\/arm64\)/);
  });

  it('OCI layout directory (ociPath), first matching platform', async () => {
    const dir = fresh('layout');
    for (const arch of ['amd64', 'arm64']) {
      const r = runTool('skopeo', ['--insecure-policy', 'copy', '--src-tls-verify=false', '--override-arch', arch, `docker://${img.ref}`, `oci:${dir}:${arch}`]);
      expect(r.status, r.stderr).toBe(0);
    }
    // skopeo writes no platform on the descriptors: imagekit reads the configs.
    const tree = await extractImage({ ociPath: dir }, { platform: arm64, cache: new BlobCache(fresh('cache')) });
    expect(await summary(tree)).toEqual(expected);
    await expect(extractImage({ ociPath: dir }, { platform: parsePlatform('linux/riscv64'), cache: new BlobCache(fresh('cache')) })).rejects.toThrow(/no image for platform linux\/riscv64 \(available: linux\/amd64, linux\/arm64\)/);
    await expect(extractImage({ ociPath: dir, refName: 'nope' }, { platform: arm64 })).rejects.toThrow(/no image named "nope" \(available: amd64, arm64\)/);
  });

  it('a tampered blob in an OCI layout is caught (E_DIGEST_MISMATCH), nothing is cached from it', async () => {
    const dir = fresh('layout');
    const r = runTool('skopeo', ['--insecure-policy', 'copy', '--src-tls-verify=false', '--override-arch', 'arm64', `docker://${img.ref}`, `oci:${dir}:v1`]);
    expect(r.status, r.stderr).toBe(0);
    const cache = new BlobCache(fresh('cache'));
    const image = await openImage({ ociPath: dir }, { platform: arm64, cache });
    const layer = image.manifest.layers[0]!;
    const path = join(dir, 'blobs/sha256', layer.digest.slice(7));
    const bytes = (await import('node:fs')).readFileSync(path);
    bytes[bytes.length - 9] ^= 1; // inside the gzip trailer region: still the same size
    chmodSync(path, 0o644);
    writeFileSync(path, bytes);
    const err = await extractImage({ ociPath: dir }, { platform: arm64, cache }).catch((e) => e);
    expect(err.code).toBe('E_DIGEST_MISMATCH');
    expect(err.message).toMatch(/in OCI layout .*: digest mismatch \(expected sha256:/);
    const fs = await import('node:fs');
    expect(fs.existsSync(cache.tmpDir) ? fs.readdirSync(cache.tmpDir) : []).toEqual([]);
    expect(fs.existsSync(join(cache.dir, 'layers'))).toBe(false);
  });
});

describe.skipIf(missingTools('tar', 'zstd', 'gzip'))('plain filesystem tarballs (tarballPath)', () => {
  it('GNU tar, gzip and zstd compressed, give the same tree as the directory', async () => {
    const src = fresh('src');
    mkdirSync(join(src, 'usr/lib/x'), { recursive: true });
    writeFileSync(join(src, 'usr/lib/x/a.so'), Buffer.alloc(100_000, 3));
    writeFileSync(join(src, 'usr/lib/x/' + 'long-'.repeat(30) + 'name'), 'long');
    symlinkSync('x/a.so', join(src, 'usr/lib/a.so'));
    const base = fresh('tarball');
    for (const [flags, file] of [['-cf', `${base}.tar`], ['-czf', `${base}.tar.gz`], ['--zstd -cf', `${base}.tar.zst`]] as const) {
      const r = runTool('sh', ['-c', `tar ${flags} '${file}' -C '${src}' .`]);
      expect(r.status, r.stderr).toBe(0);
    }
    const want = {
      usr: 'dir', 'usr/lib': 'dir', 'usr/lib/a.so': 'symlink x/a.so', 'usr/lib/x': 'dir',
      'usr/lib/x/a.so': `file ${sha(Buffer.alloc(100_000, 3))}`, ['usr/lib/x/' + 'long-'.repeat(30) + 'name']: `file ${sha(Buffer.from('long'))}`,
    };
    for (const f of [`${base}.tar`, `${base}.tar.gz`, `${base}.tar.zst`]) {
      const tree = await extractImage({ tarballPath: f }, { platform: amd64, cache: new BlobCache(fresh('cache')) });
      expect(await summary(tree)).toEqual(want);
    }
  });

  it('a missing or corrupt tarball is a clear error', async () => {
    await expect(extractImage({ tarballPath: join(tmp, 'absent.tar') }, { platform: amd64, cache: new BlobCache(fresh('cache')) })).rejects.toThrow(/cannot open tarball .*absent\.tar: ENOENT/);
    const bad = fresh('bad') + '.tar.gz';
    writeFileSync(bad, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(100, 1)]));
    await expect(extractImage({ tarballPath: bad }, { platform: amd64, cache: new BlobCache(fresh('cache')) })).rejects.toThrow(/cannot decompress \(gzip\)/);
    const notTar = fresh('nottar') + '.tar';
    writeFileSync(notTar, Buffer.alloc(2048, 0x41));
    await expect(extractImage({ tarballPath: notTar }, { platform: amd64, cache: new BlobCache(fresh('cache')) })).rejects.toThrow(/checksum mismatch|not octal/);
  });
});
