/**
 * The Linux kernel as the judge of our zstd: an initramfs compressed by us at level 18 with small
 * segments (so several independently compressed segments are joined into one frame, and cpio
 * entries straddle the joins) boots the Debian kernel, and /init sees every file intact.
 *
 * The control case documents why the joiner exists: the same cpio as one frame per segment is
 * refused by the kernel's unpacker ("junk at the end of compressed archive"), because it stops at
 * the end of each frame and requires a complete cpio archive there.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { zstdCompress } from '../../../src/compress/zstd.js';
import { buildPayloadCpio } from '../../helpers/payload-initramfs.js';
import { bootKernel } from '../../helpers/qemu.js';
import { e2eAssets, missingTools, runTool, tempDir } from '../../helpers/tools.js';
import { randomBytes, textLike } from '../../unit/compress/data.js';

const skip = missingTools('qemu-system-x86_64', 'cpio', 'busybox') || !e2eAssets();
const { dir, cleanup } = tempDir('imagekit-zstd-kernel-');
afterAll(cleanup);

const FILES: Array<[string, Uint8Array]> = [
  ['a-text', textLike(600_000, 1)],
  ['b-random', randomBytes(300_000, 2)],
  ['c-zeros', new Uint8Array(500_000)],
  ['d-text', textLike(700_000, 3)],
];

describe('kernel initramfs unpacker', () => {
  it.skipIf(skip)('boots a zstd-18 initramfs made of joined segments; one frame per segment is refused', async () => {
    const assets = e2eAssets()!;
    const { cpio, sums } = buildPayloadCpio(dir, FILES, 'ZSTD-INITRAMFS-DONE');
    const single = await zstdCompress(cpio, { level: 18, segmentSize: 256 << 10 });
    const multi = await zstdCompress(cpio, { level: 3, segmentSize: 256 << 10, frames: 'multi' });
    const singlePath = join(dir, 'single.zst');
    const multiPath = join(dir, 'multi.zst');
    writeFileSync(singlePath, single);
    writeFileSync(multiPath, multi);

    const ok = await bootKernel(assets.vmlinuz, singlePath, 'console=ttyS0 panic=-1', { until: 'ZSTD-INITRAMFS-DONE', timeoutSec: 120, memoryMiB: 512 });
    expect(ok.log).not.toMatch(/Initramfs unpacking failed/);
    expect(ok.log).toContain('ZSTD-INITRAMFS-DONE');
    for (const [name, md5] of sums) expect(ok.log).toContain(`PAYLOAD ${name} ${md5}`);

    const bad = await bootKernel(assets.vmlinuz, multiPath, 'console=ttyS0 panic=-1', { until: 'ZSTD-INITRAMFS-DONE', timeoutSec: 120, memoryMiB: 512 });
    expect(bad.log).toMatch(/Initramfs unpacking failed: junk at the end of compressed archive/);
  });
});
