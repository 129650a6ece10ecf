/**
 * Synthetic, deterministic inputs for the golden builds: made by code from fixed seeds, no
 * downloads, no native tools. Nothing here boots — the bytes only have to be what the pipeline
 * reads: a bzImage-shaped kernel (version string found through the setup header), an initramfs
 * (a newc cpio, zstd-compressed like Talos's), a PE32+ systemd-stub with a `.sbat` section, a
 * systemd-boot stand-in, two extension trees (one with firmware and CPU microcode) and a one-layer
 * base installer image in an OCI layout.
 *
 * Files are written with explicit modes (chmod, so the umask does not matter) under a directory
 * the caller owns.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { zstdCompress } from '../src/compress/index.js';
import { fileFromBytes, dirEntry } from '../src/core/file-tree.js';
import { newcArchive } from '../src/formats/cpio/index.js';
import { BlobCache } from '../src/oci/blob-cache.js';
import { buildImage } from '../src/oci/image-builder.js';
import { refNameAnnotation, writeLayoutIndex } from '../src/oci/layout.js';
import { parsePlatform } from '../src/oci/platform.js';

/** Deterministic pseudo-random bytes (SHA-256 counter stream) for a label. */
export function seeded(label: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0, off = 0; off < length; i++) {
    const h = createHash('sha256').update(`imagekit-golden:${label}:${i}`).digest();
    off += h.copy(out, off);
  }
  return out;
}

/** Compressible filler: words from a small vocabulary chosen by the seeded stream. */
function text(label: string, length: number): Buffer {
  const words = ['talos', 'kernel', 'squashfs', 'initramfs', 'extension', 'systemd', 'boot', 'disk', 'meta', 'uki'];
  const r = seeded(label, length);
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < length; i++) {
    const w = words[r[i % r.length]! % words.length]!;
    parts.push(w);
    n += w.length + 1;
  }
  return Buffer.from(parts.join(' ')).subarray(0, length);
}

export const GOLDEN_KERNEL_RELEASE = '6.6.66-talos-golden';

/** A bzImage-shaped kernel: boot sector + setup header (`HdrS`, kernel_version) + payload. */
export function syntheticKernel(): Buffer {
  const setupSects = 4;
  const k = Buffer.concat([Buffer.alloc((setupSects + 1) * 512), seeded('kernel-payload', 200_000), text('kernel-text', 100_000)]);
  k[0x1f1] = setupSects;
  k.writeUInt16LE(0xaa55, 0x1fe);
  k.write('HdrS', 0x202, 'latin1');
  k.writeUInt16LE(0x020f, 0x206); // boot protocol 2.15
  const versionOffset = 0x400; // relative to 0x200
  k.writeUInt16LE(versionOffset, 0x20e);
  k.write(`${GOLDEN_KERNEL_RELEASE} (imagekit@golden) #1 SMP PREEMPT_DYNAMIC\0`, versionOffset + 0x200, 'latin1');
  return k;
}

/** A Talos-shaped base initramfs: zstd(newc cpio of `init` and `rootfs.sqsh` stand-ins). */
export async function syntheticInitramfs(): Promise<Buffer> {
  const tree = [
    fileFromBytes('init', text('init', 20_000), { mode: 0o755 }),
    fileFromBytes('rootfs.sqsh', seeded('rootfs', 150_000), { mode: 0o644 }),
  ];
  const parts: Uint8Array[] = [];
  for await (const c of newcArchive(tree, { owner: { uid: 0, gid: 0 }, mtime: 0 })) parts.push(c);
  return Buffer.from(await zstdCompress(Buffer.concat(parts), { level: 3 }));
}

const up = (n: number, a: number) => Math.ceil(n / a) * a;

/**
 * A minimal PE32+ EFI application (x86-64, subsystem 10) laid out from the PE/COFF spec: `.text`,
 * `.data` and `.sbat` sections, SectionAlignment 0x1000, FileAlignment 0x200.
 */
export function syntheticPe(label: string, sbat: string): Buffer {
  const sections = [
    { name: '.text', data: seeded(`${label}-text`, 6000), characteristics: 0x60000020 },
    { name: '.data', data: text(`${label}-data`, 3000), characteristics: 0xc0000040 },
    { name: '.sbat', data: Buffer.from(sbat), characteristics: 0x40000040 },
  ];
  const lfanew = 0x80;
  const optOff = lfanew + 24;
  const optSize = 240;
  const tableOff = optOff + optSize;
  const headers = up(tableOff + 40 * sections.length, 0x200);
  let raw = headers;
  let va = 0x1000;
  const placed = sections.map((s) => {
    const p = { ...s, ptr: raw, rawSize: up(s.data.length, 0x200), va, vsize: s.data.length };
    raw += p.rawSize;
    va += up(s.data.length, 0x1000);
    return p;
  });
  const out = Buffer.alloc(raw);
  out.writeUInt16LE(0x5a4d, 0); // MZ
  out.writeUInt32LE(lfanew, 0x3c);
  out.writeUInt32LE(0x4550, lfanew); // PE\0\0
  const coff = lfanew + 4;
  out.writeUInt16LE(0x8664, coff); // AMD64
  out.writeUInt16LE(sections.length, coff + 2);
  out.writeUInt16LE(optSize, coff + 16);
  out.writeUInt16LE(0x0206, coff + 18); // executable, large-address aware, line numbers stripped
  out.writeUInt16LE(0x20b, optOff); // PE32+
  out.writeUInt32LE(placed[0]!.rawSize, optOff + 4); // SizeOfCode
  out.writeUInt32LE(placed[0]!.va, optOff + 16); // AddressOfEntryPoint
  out.writeUInt32LE(placed[0]!.va, optOff + 20); // BaseOfCode
  out.writeBigUInt64LE(0n, optOff + 24); // ImageBase
  out.writeUInt32LE(0x1000, optOff + 32); // SectionAlignment
  out.writeUInt32LE(0x200, optOff + 36); // FileAlignment
  out.writeUInt32LE(va, optOff + 56); // SizeOfImage
  out.writeUInt32LE(headers, optOff + 60); // SizeOfHeaders
  out.writeUInt16LE(10, optOff + 68); // EFI application
  out.writeUInt32LE(16, optOff + 108); // NumberOfRvaAndSizes
  placed.forEach((s, i) => {
    const at = tableOff + 40 * i;
    out.write(s.name, at, 8, 'latin1');
    out.writeUInt32LE(s.vsize, at + 8);
    out.writeUInt32LE(s.va, at + 12);
    out.writeUInt32LE(s.rawSize, at + 16);
    out.writeUInt32LE(s.ptr, at + 20);
    out.writeUInt32LE(s.characteristics, at + 36);
    s.data.copy(out, s.ptr);
  });
  return out;
}

export interface GoldenInputs {
  dir: string;
  kernel: string;
  initramfs: string;
  sdStub: string;
  sdBoot: string;
  /** Unpacked extension directories (`manifest.yaml` + `rootfs/`). */
  extensions: string[];
  /** OCI layout of the base installer image. */
  installerBase: string;
}

function put(path: string, data: string | Buffer, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  chmodSync(path, mode);
}

function manifest(name: string): string {
  return `version: v1alpha1\nmetadata:\n  name: ${name}\n  version: 1.0.0\n  author: imagekit golden\n  description: golden extension ${name}\n  compatibility:\n    talos:\n      version: ">= v1.0.0"\n`;
}

/** Directories get 0755 whatever the umask (walk from `root` down to each file). */
function fixDirModes(root: string, rel: string): void {
  let p = root;
  for (const seg of rel.split('/').slice(0, -1)) {
    p = join(p, seg);
    chmodSync(p, 0o755);
  }
}

/** Write every golden input under `dir`. */
export async function writeGoldenInputs(dir: string): Promise<GoldenInputs> {
  const boot = join(dir, 'usr/install/amd64');
  const inputs: GoldenInputs = {
    dir,
    kernel: join(boot, 'vmlinuz'),
    initramfs: join(boot, 'initramfs.xz'),
    sdStub: join(boot, 'systemd-stub.efi'),
    sdBoot: join(boot, 'systemd-boot.efi'),
    extensions: [join(dir, 'ext/hello'), join(dir, 'ext/firmware')],
    installerBase: join(dir, 'installer-base'),
  };
  put(inputs.kernel, syntheticKernel());
  put(inputs.initramfs, await syntheticInitramfs());
  put(inputs.sdStub, syntheticPe('stub', 'sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\nsystemd-stub,1,The systemd Developers,systemd,256,https://systemd.io/\n'));
  put(inputs.sdBoot, syntheticPe('sdboot', 'sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\nsystemd-boot,1,The systemd Developers,systemd,256,https://systemd.io/\n'));

  const files: Array<[string, Record<string, Buffer | string>]> = [
    ['hello', { 'usr/local/share/golden/hello.txt': text('hello', 5000), 'usr/local/bin/hello': seeded('hello-bin', 40_000) }],
    ['firmware', {
      'usr/lib/firmware/golden/fw.bin': seeded('fw', 70_000),
      'usr/lib/firmware/intel-ucode/06-8f-08': seeded('intel', 3000),
      'usr/lib/firmware/amd-ucode/microcode_amd_fam19h.bin': seeded('amd', 2000),
      'usr/local/share/golden/firmware.txt': 'firmware extension\n',
    }],
  ];
  for (const [i, [name, content]] of files.entries()) {
    const root = inputs.extensions[i]!;
    put(join(root, 'manifest.yaml'), manifest(name));
    for (const [rel, data] of Object.entries(content)) {
      put(join(root, 'rootfs', rel), data, rel.includes('/bin/') ? 0o755 : 0o644);
      fixDirModes(join(root, 'rootfs'), rel);
    }
    chmodSync(join(root, 'rootfs'), 0o755);
    chmodSync(root, 0o755);
  }

  // Base installer image (OCI layout, blobs under <layout>/blobs).
  const store = new BlobCache(inputs.installerBase, join(dir, 'installer-base-tmp'));
  const image = await buildImage(store, {
    platform: parsePlatform('linux/amd64'),
    layers: [{ entries: [dirEntry('bin'), fileFromBytes('bin/installer', '#!/bin/sh\necho golden installer\n', { mode: 0o755 })], compression: 'none' }],
    runtimeConfig: { Entrypoint: ['/bin/installer'], Env: ['VERSION=v1.11.0'] },
  });
  await writeLayoutIndex(inputs.installerBase, [{ ...image.descriptor, annotations: { [refNameAnnotation]: 'v1.11.0' } }]);
  return inputs;
}
