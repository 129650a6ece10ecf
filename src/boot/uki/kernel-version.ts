/**
 * Kernel release for the `.uname` section, read from an x86 bzImage header (talos-imager.md §6.1,
 * Linux boot protocol): `HdrS` at 0x202, `setup_sects` at 0x1F1, `kernel_version` (u16) at 0x20E
 * pointing at a NUL-terminated string 0x200 bytes further. Like upstream, any failure means
 * "unknown" (the section is left out); arm64 Image files have no such header.
 */
import { sourceChunks, sourceSize, type ByteSource } from '../../formats/pe/byte-source.js';

/** Bytes of the kernel needed to find its version string: the largest setup area plus the string. */
export const KERNEL_VERSION_PROBE_BYTES = 255 * 512 + 0x200 + 256;

export function kernelVersionFromBzImage(head: Uint8Array): string | undefined {
  if (head.byteLength < 1024) return undefined;
  if (String.fromCharCode(...head.subarray(0x202, 0x206)) !== 'HdrS') return undefined;
  const setupSects = head[0x1f1]!;
  const offset = head[0x20e]! | (head[0x20f]! << 8);
  if (offset === 0 || offset > setupSects * 0x200) return undefined;
  const start = offset + 0x200;
  if (start + 256 > head.byteLength) return undefined;
  const field = head.subarray(start, start + 256);
  const nul = field.indexOf(0);
  if (nul < 0) return undefined;
  const text = Buffer.from(field.subarray(0, nul)).toString('latin1');
  const release = text.split(' ')[0]!;
  return release === '' ? undefined : release;
}

/** Read the first bytes of a kernel source and discover its release (undefined when unknown). */
export async function discoverKernelVersion(kernel: ByteSource): Promise<string | undefined> {
  const want = Math.min(KERNEL_VERSION_PROBE_BYTES, sourceSize(kernel));
  if (kernel instanceof Uint8Array) return kernelVersionFromBzImage(kernel.subarray(0, want));
  const head = new Uint8Array(want);
  let have = 0;
  const it = sourceChunks(kernel, 'kernel')[Symbol.asyncIterator]();
  try {
    while (have < want) {
      const r = await it.next();
      if (r.done) break;
      const n = Math.min(r.value.byteLength, want - have);
      head.set(r.value.subarray(0, n), have);
      have += n;
    }
  } finally {
    await it.return?.(undefined);
  }
  return kernelVersionFromBzImage(head.subarray(0, have));
}
