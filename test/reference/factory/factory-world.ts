/**
 * A small Talos-shaped registry for `imagekit serve` tests, pushed to Debian's docker-registry on
 * 127.0.0.1 with imagekit's own image writer:
 *
 * - `siderolabs/imager:<tags>`: `usr/install/amd64/{vmlinuz,initramfs.xz,systemd-stub.efi,systemd-boot.efi}`
 *   — a synthetic kernel and initramfs (deterministic bytes: assets that build but do not boot) and
 *   Debian's real systemd stub and systemd-boot (the UKI writer needs a PE stub);
 * - four extension images (`manifest.yaml` + `rootfs/`) and `siderolabs/extensions:v1.11.0` whose
 *   `image-digests` / `descriptions.yaml` name them by digest, as upstream's catalog does;
 * - `siderolabs/overlays:v1.11.0` (`overlays.yaml`) and `siderolabs/installer-base:v1.11.0`.
 *
 * The imager tags exercise the version filter: `v1.1.0` (below the minimum), `v1.11.0-rc.1` (a
 * pre-release of an older minor), `v1.12.0-custom` (one pre-release part), `latest` are dropped.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobCache } from '../../../src/oci/blob-cache.js';
import { anonymousKeychain } from '../../../src/oci/credentials.js';
import { buildImage, buildIndex, type LayerSpec } from '../../../src/oci/image-builder.js';
import { directoryBlobSource } from '../../../src/oci/image.js';
import { parsePlatform } from '../../../src/oci/platform.js';
import { pushManifest } from '../../../src/oci/push.js';
import { RegistryClient } from '../../../src/oci/registry-client.js';
import type { TarWriteEntry } from '../../../src/oci/tar-writer.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';

export const STUB = '/usr/lib/systemd/boot/efi/linuxx64.efi.stub';
export const SDBOOT = '/usr/lib/systemd/boot/efi/systemd-bootx64.efi';

/** The Talos version every catalog image is pushed for. */
export const TALOS = 'v1.11.0';
export const IMAGER_TAGS = ['v1.1.0', 'v1.9.5', 'v1.11.0-rc.1', 'v1.11.0', 'v1.12.0-alpha.1', 'v1.12.0-custom', 'latest'];
export const EXPECTED_VERSIONS = ['v1.9.5', 'v1.11.0', 'v1.12.0-alpha.1'];

export interface WorldExtension {
  /** Repository path, e.g. `siderolabs/gvisor`. */
  name: string;
  tag: string;
  digest: string;
  author: string;
  description: string;
  marker: string;
}

export interface FactoryWorld {
  registry: TestRegistry;
  extensions: WorldExtension[];
  /** The boot assets as pushed (to compare served kernels with). */
  kernel: Buffer;
  initramfs: Buffer;
  stop(): Promise<void>;
}

export function worldToolsMissing(): string | null {
  for (const f of [STUB, SDBOOT]) if (!existsSync(f)) return f;
  return null;
}

/** Deterministic filler bytes. */
export function filler(label: string, size: number): Buffer {
  const out: Buffer[] = [];
  let have = 0;
  for (let i = 0; have < size; i++) {
    const h = createHash('sha256').update(`${label}/${i}`).digest();
    out.push(h);
    have += h.length;
  }
  return Buffer.concat(out).subarray(0, size);
}

const file = (name: string, data: Buffer | string, mode = 0o644): TarWriteEntry => ({ name, type: 'file', mode, data: typeof data === 'string' ? Buffer.from(data) : data });
const dir = (name: string): TarWriteEntry => ({ name: `${name}/`, type: 'dir', mode: 0o755 });

function parents(path: string): TarWriteEntry[] {
  const parts = path.split('/').slice(0, -1);
  return parts.map((_, i) => dir(parts.slice(0, i + 1).join('/')));
}

async function push(host: string, store: BlobCache, storeDir: string, repoTags: string[], layers: LayerSpec[]): Promise<string> {
  const image = await buildImage(store, { platform: parsePlatform('linux/amd64'), layers });
  const index = await buildIndex(store, [image]);
  const client = new RegistryClient({ keychain: anonymousKeychain, retries: 1, backoffMs: 10 });
  const source = directoryBlobSource(storeDir, 'factory world store', true);
  let digest = '';
  for (const repoTag of repoTags) {
    digest = await pushManifest(`${host}/${repoTag}`, source, { raw: index.rawIndex, mediaType: index.descriptor.mediaType }, { client });
  }
  return digest;
}

function extensionLayer(name: string, version: string, marker: string): LayerSpec {
  const short = name.split('/').pop()!;
  const manifest = [
    'version: v1alpha1',
    'metadata:',
    `  name: ${short}`,
    `  version: ${version}`,
    '  author: imagekit tests',
    `  description: test extension ${short}`,
    '  compatibility:',
    '    talos:',
    '      version: ">= v1.0.0"',
    '',
  ].join('\n');
  const markerPath = `rootfs/usr/local/share/imagekit/${short}.marker`;
  return { entries: [file('manifest.yaml', manifest), ...parents(markerPath), file(markerPath, `${marker}\n`)], compression: 'gzip' };
}

export async function startFactoryWorld(): Promise<FactoryWorld> {
  const registry = await startRegistry();
  const storeDir = mkdtempSync(join(tmpdir(), 'imagekit-factory-world-'));
  const store = new BlobCache(storeDir);
  try {
    const kernel = filler('kernel', 96 * 1024);
    const initramfs = filler('initramfs', 48 * 1024);
    const install = 'usr/install/amd64';
    await push(registry.host, store, storeDir, IMAGER_TAGS.map((t) => `siderolabs/imager:${t}`), [
      {
        entries: [
          ...parents(`${install}/x`),
          dir(install),
          file(`${install}/vmlinuz`, kernel),
          file(`${install}/initramfs.xz`, initramfs),
          file(`${install}/systemd-stub.efi`, readFileSync(STUB)),
          file(`${install}/systemd-boot.efi`, readFileSync(SDBOOT)),
        ],
        compression: 'gzip',
      },
    ]);

    const defs: Array<[string, string, string]> = [
      ['siderolabs/gvisor', '20250505.0', 'gVisor runtime'],
      ['siderolabs/intel-ucode', '20250512', 'Intel microcode'],
      ['siderolabs/iscsi-tools', 'v0.2.0', 'iSCSI tools'],
      ['siderolabs/qemu-guest-agent', '10.0.2', 'QEMU guest agent <&> "quoted"'],
    ];
    const extensions: WorldExtension[] = [];
    for (const [name, tag, description] of defs) {
      const marker = `IMAGEKIT-FACTORY-${name.split('/')[1]}-OK`;
      const digest = await push(registry.host, store, storeDir, [`${name}:${tag}`], [extensionLayer(name, tag, marker)]);
      extensions.push({ name, tag, digest, author: 'Sidero Labs', description, marker });
    }
    // As upstream's catalog: the lines name ghcr.io; the service substitutes its own registry.
    const lines = extensions.map((e) => `ghcr.io/${e.name}:${e.tag}@${e.digest}`);
    const descriptions = extensions
      .map((e, i) => `${lines[i]}:\n  author: ${e.author}\n  description: ${JSON.stringify(e.description)}\n`)
      .join('');
    await push(registry.host, store, storeDir, [`siderolabs/extensions:${TALOS}`], [
      { entries: [file('image-digests', lines.join('\n') + '\n'), file('descriptions.yaml', descriptions)], compression: 'gzip' },
    ]);
    await push(registry.host, store, storeDir, [`siderolabs/overlays:${TALOS}`], [
      {
        entries: [
          file('overlays.yaml', `overlays:\n  - name: rpi_generic\n    image: ghcr.io/siderolabs/sbc-raspberrypi:v0.1.4\n    digest: sha256:${'ab'.repeat(32)}\n`),
        ],
        compression: 'gzip',
      },
    ]);
    await push(registry.host, store, storeDir, [`siderolabs/installer-base:${TALOS}`], [
      { entries: [...parents('usr/bin/installer'), file('usr/bin/installer', '#!/bin/sh\necho installer\n', 0o755)], compression: 'gzip' },
    ]);
    return {
      registry,
      extensions,
      kernel,
      initramfs,
      stop: async () => {
        await registry.stop();
        rmSync(storeDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await registry.stop();
    rmSync(storeDir, { recursive: true, force: true });
    throw err;
  }
}
