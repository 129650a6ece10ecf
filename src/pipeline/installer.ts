/**
 * The `installer` output (talos-imager.md §11): the base installer image's layers (the first only
 * when it has exactly two, a legacy installer) plus an artifacts layer, as a docker-save tarball
 * (go-containerregistry `tarball.Write`) that `docker load` / `skopeo copy docker-archive:` read.
 *
 * Artifacts layer (`filemap.Layer`): USTAR entries sorted by path, mode 0, uid/gid 0, mtime 0, no
 * directory entries, gzip. Config: the base's container `config`, `architecture`/`os`, one history
 * entry per layer and `created` = SOURCE_DATE_EPOCH (upstream: the clock; §13), so the tarball is
 * reproducible. Tarball entries, mode 0644: `sha256:<config hex>`, `<layer hex>.tar.gz` for each
 * layer, `manifest.json` (`RepoTags` = the base installer reference).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncoder } from '../compress/encoder.js';
import { invalidInput } from '../core/errors.js';
import type { ProgressSink } from '../core/progress.js';
import { sourceChunks, type ByteSource, sourceSize } from '../formats/pe/byte-source.js';
import { DigestingStream } from '../oci/digest.js';
import type { Image } from '../oci/image.js';
import type { Descriptor, ImageConfig } from '../oci/manifest.js';
import { encodeHeader, paddingFor, tarTrailer } from '../oci/tar-header.js';
import type { OutputPayload } from './output.js';

export interface InstallerArtifact {
  /** Path inside the image, e.g. `usr/install/amd64/vmlinuz.efi`. */
  path: string;
  content: ByteSource;
}

export interface InstallerOptions {
  /** The base installer image (`input.baseInstaller`), for the profile's architecture. */
  base: Image;
  /** The tag written to `RepoTags` (the base installer reference), or none. */
  repoTag?: string;
  arch: string;
  artifacts: InstallerArtifact[];
  sourceDateEpoch: number;
  /** Where the artifacts layer is built before its digest names it. */
  scratchDir: string;
  progress?: ProgressSink;
}

export interface InstallerBuild {
  payload: OutputPayload;
  configDigest: string;
  layers: Descriptor[];
  /** Remove the scratch files (after the payload was written). */
  dispose(): Promise<void>;
}

const BLOCK = 512;
const rfc3339 = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');

async function* artifactsTar(artifacts: InstallerArtifact[]): AsyncGenerator<Uint8Array> {
  const sorted = [...artifacts].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  for (const a of sorted) {
    const size = sourceSize(a.content);
    yield encodeHeader({ name: a.path, type: 'file', mode: 0, uid: 0, gid: 0, size, mtime: 0 });
    yield* sourceChunks(a.content, a.path);
    const pad = paddingFor(size);
    if (pad) yield new Uint8Array(pad);
  }
  yield tarTrailer;
}

/** A regular-file tar member (header + data + padding) as go-containerregistry writes it. */
function memberHeader(name: string, size: number): Uint8Array {
  return encodeHeader({ name, type: 'file', mode: 0o644, uid: 0, gid: 0, size, mtime: 0 });
}

export async function buildInstaller(o: InstallerOptions): Promise<InstallerBuild> {
  const base = o.base;
  let baseLayers = base.manifest.layers;
  let baseDiffIds = base.config.rootfs?.diff_ids ?? [];
  if (baseDiffIds.length !== baseLayers.length) {
    throw invalidInput('E_INSTALLER_BASE', `${base.name}: its config lists ${baseDiffIds.length} diff IDs for ${baseLayers.length} layers`);
  }
  if (baseLayers.length === 2) {
    // A legacy installer (base + old artifacts): keep only the base layer.
    baseLayers = baseLayers.slice(0, 1);
    baseDiffIds = baseDiffIds.slice(0, 1);
  }

  const scratch = await mkdtemp(join(o.scratchDir, 'installer-'));
  const dispose = () => rm(scratch, { recursive: true, force: true });
  try {
    o.progress?.({ type: 'step-start', step: 'installer-layer', detail: o.artifacts.map((a) => a.path).join(', ') });
    const layerPath = join(scratch, 'artifacts.tar.gz');
    const diff = new DigestingStream('sha256');
    const compressed = new DigestingStream('sha256');
    await pipeline(Readable.from(artifactsTar(o.artifacts), { objectMode: false }), diff, createEncoder({ format: 'gzip', level: 1 }), compressed, createWriteStream(layerPath));
    const layer: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: compressed.digest(), size: (await stat(layerPath)).size };
    const diffId = diff.digest();
    o.progress?.({ type: 'step-done', step: 'installer-layer', detail: `${layer.digest} (${layer.size} bytes)` });

    const created = rfc3339(o.sourceDateEpoch);
    const layers = [...baseLayers, layer];
    // Field order of go-containerregistry's ConfigFile.
    const config: ImageConfig = {
      architecture: o.arch,
      created,
      history: layers.map(() => ({ created })),
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [...baseDiffIds, diffId] },
      config: (base.config.config ?? {}) as Record<string, unknown>,
    };
    const rawConfig = Buffer.from(JSON.stringify(config));
    const configHex = createHash('sha256').update(rawConfig).digest('hex');

    // Members in order; a layer that appears twice is written once (tarball.Write dedupes).
    const seen = new Set<string>();
    const members: Array<{ name: string; size: number; open: () => AsyncIterable<Uint8Array> }> = [
      { name: `sha256:${configHex}`, size: rawConfig.byteLength, open: async function* () { yield rawConfig; } },
    ];
    const layerNames: string[] = [];
    for (const l of layers) {
      const hex = l.digest.slice(l.digest.indexOf(':') + 1);
      const name = `${hex}.tar.gz`;
      layerNames.push(name);
      if (seen.has(l.digest)) continue;
      seen.add(l.digest);
      if (l === layer) members.push({ name, size: layer.size, open: () => createReadStream(layerPath, { highWaterMark: 1 << 20 }) });
      else members.push({ name, size: l.size, open: () => openBlob(base, l) });
    }
    const manifest = Buffer.from(JSON.stringify([{ Config: `sha256:${configHex}`, RepoTags: o.repoTag ? [o.repoTag] : [], Layers: layerNames }]));
    members.push({ name: 'manifest.json', size: manifest.byteLength, open: async function* () { yield manifest; } });

    const size = members.reduce((n, m) => n + BLOCK + m.size + paddingFor(m.size), 0) + tarTrailer.byteLength;
    const payload: OutputPayload = {
      type: 'bytes',
      size,
      open: async function* () {
        for (const m of members) {
          yield memberHeader(m.name, m.size);
          let n = 0;
          for await (const c of m.open()) {
            n += c.byteLength;
            yield c;
          }
          if (n !== m.size) throw invalidInput('E_INSTALLER_BLOB', `${m.name}: ${n} bytes read, ${m.size} expected`);
          const pad = paddingFor(m.size);
          if (pad) yield new Uint8Array(pad);
        }
        yield tarTrailer;
      },
    };
    return { payload, configDigest: `sha256:${configHex}`, layers, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

async function* openBlob(image: Image, desc: Descriptor): AsyncGenerator<Uint8Array> {
  yield* (await image.blobs.open(desc)) as AsyncIterable<Uint8Array>;
}
