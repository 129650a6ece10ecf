/**
 * Push an image or an index from a `BlobSource` to a registry: every blob (skipped when the registry
 * has it), child manifests by digest, then the root under its tag. Blobs go monolithic by default,
 * or in PATCH chunks when `chunkSize` is set.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { silentProgress, type ProgressSink } from '../core/progress.js';
import { type BlobSource, readBlobBytes } from './image.js';
import { maxManifestBytes, parseManifest, type Descriptor } from './manifest.js';
import { formatReference, parseReference, type ImageReference } from './reference.js';
import { RegistryClient, type BlobOpener } from './registry-client.js';

export interface PushOptions {
  client: RegistryClient;
  /** Upload blobs larger than this in chunks of this size (default: monolithic). */
  chunkSize?: number;
  progress?: ProgressSink;
}

function opener(source: BlobSource, desc: Descriptor): BlobOpener {
  return async (start, end) => {
    const local = await source.local(desc);
    if (local && local.verified) {
      if (end <= start) return new Uint8Array(0);
      return Readable.toWeb(createReadStream(local.path, { start: local.start + start, end: local.start + end - 1 })) as unknown as ReadableStream<Uint8Array>;
    }
    const s = await source.open(desc);
    if (start !== 0 || end !== desc.size) {
      // Ranges of an unverified source: read through (verifying) and slice.
      const parts: Buffer[] = [];
      let pos = 0;
      for await (const c of s as AsyncIterable<Buffer>) {
        const a = Math.max(start, pos);
        const b = Math.min(end, pos + c.byteLength);
        if (b > a) parts.push(c.subarray(a - pos, b - pos));
        pos += c.byteLength;
      }
      return Buffer.concat(parts);
    }
    return Readable.toWeb(s) as unknown as ReadableStream<Uint8Array>;
  };
}

async function pushBlobs(ref: ImageReference, source: BlobSource, descs: Descriptor[], opts: PushOptions): Promise<void> {
  const progress = opts.progress ?? silentProgress;
  for (const d of descs) {
    const sent = await opts.client.pushBlob(ref, d, opener(source, d), opts.chunkSize ? { chunkSize: opts.chunkSize } : {});
    if (sent) progress({ type: 'info', message: `pushed ${d.digest} (${d.size} bytes) to ${formatReference(ref)}` });
  }
}

/**
 * Push the manifest (or index) `root` and everything it references. `ref` carries the tag to
 * push under (or none: by digest only). Returns the root digest.
 */
export async function pushManifest(reference: string | ImageReference, source: BlobSource, root: { raw: Uint8Array; mediaType: string }, opts: PushOptions): Promise<string> {
  const ref = typeof reference === 'string' ? parseReference(reference, { defaultTag: null }) : reference;
  const name = formatReference(ref);
  const parsed = parseManifest(root.raw, root.mediaType, `manifest to push to ${name}`);
  if (parsed.kind === 'index') {
    for (const child of parsed.index.manifests) {
      const raw = await readBlobBytes(source, child, maxManifestBytes, `manifest ${child.digest}`);
      await pushManifest({ registry: ref.registry, repository: ref.repository, digest: child.digest }, source, { raw, mediaType: child.mediaType }, opts);
    }
  } else {
    await pushBlobs(ref, source, [parsed.manifest.config, ...parsed.manifest.layers], opts);
  }
  const target: { registry: string; repository: string; tag?: string; digest?: string } = { registry: ref.registry, repository: ref.repository };
  if (ref.tag !== undefined) target.tag = ref.tag;
  else if (ref.digest !== undefined) target.digest = ref.digest;
  return opts.client.putManifest(target, root.raw, parsed.mediaType);
}
