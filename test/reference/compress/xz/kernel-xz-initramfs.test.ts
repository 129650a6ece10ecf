/**
 * The Linux kernel as the judge of our xz: an initramfs compressed by us with the imager's
 * settings for Talos < 1.8 (`xz -C crc32 -0 -e -T0`, several blocks) boots the Debian kernel and
 * /init sees every file intact. Control: the same archive with a CRC64 check (xz's default) is
 * refused by the kernel's xz unpacker, which is why CRC32 is the initramfs default.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { xzEncode, XZ_INITRAMFS } from '../../../../src/compress/xz/xz.js';
import { buildPayloadCpio } from '../../../helpers/payload-initramfs.js';
import { bootKernel } from '../../../helpers/qemu.js';
import { e2eAssets, missingTools, runTool, tempDir } from '../../../helpers/tools.js';
import { mixed, randomBytes, textLike } from '../../../unit/compress/xz/data.js';

const skip = missingTools('qemu-system-x86_64', 'cpio', 'busybox') || !e2eAssets();
const { dir, cleanup } = tempDir('imagekit-xz-kernel-');
afterAll(cleanup);

const FILES: Array<[string, Uint8Array]> = [
  ['a-text', textLike(500_000, 1)],
  ['b-random', randomBytes(300_000, 2)],
  ['c-zeros', new Uint8Array(1_200_000)],
  ['d-mixed', mixed(400_000, 3)],
];

describe('kernel initramfs unpacker (xz)', () => {
  it.skipIf(skip)('boots our CRC32 multi-block xz initramfs; refuses the CRC64 one', async () => {
    const assets = e2eAssets()!;
    const { cpio, sums } = buildPayloadCpio(dir, FILES, 'XZ-INITRAMFS-DONE');
    const good = join(dir, 'initrd.xz');
    const bad = join(dir, 'initrd-crc64.xz');
    writeFileSync(good, await xzEncode(cpio, XZ_INITRAMFS));
    writeFileSync(bad, await xzEncode(cpio, { ...XZ_INITRAMFS, check: 'crc64' }));
    expect(runTool('xz', ['-lvv', good]).stdout).toMatch(/Blocks:\s+[3-9]/);

    const ok = await bootKernel(assets.vmlinuz, good, 'console=ttyS0 panic=-1', { until: 'XZ-INITRAMFS-DONE', timeoutSec: 120, memoryMiB: 512 });
    expect(ok.log).not.toMatch(/Initramfs unpacking failed/);
    expect(ok.log).toContain('XZ-INITRAMFS-DONE');
    for (const [name, md5] of sums) expect(ok.log).toContain(`PAYLOAD ${name} ${md5}`);

    const refused = await bootKernel(assets.vmlinuz, bad, 'console=ttyS0 panic=-1', { until: 'XZ-INITRAMFS-DONE', timeoutSec: 120, memoryMiB: 512 });
    expect(refused.log).toMatch(/Initramfs unpacking failed/);
  });
});
