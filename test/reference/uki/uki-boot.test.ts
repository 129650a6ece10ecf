/**
 * Our UKI (Debian systemd-stub + Debian kernel + the fixture busybox initramfs, assembled by our PE
 * writer) boots under OVMF via systemd-boot from an ESP, and the stub hands over our .cmdline and
 * .initrd. Sections are also checked with objcopy --dump-section.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUki, fileSource, TALOS_SPLASH_SHA256, talosUkiProfiles } from '../../../src/boot/uki/index.js';
import { peAssemblyBytes } from '../../../src/formats/pe/index.js';
import { buildFixtureWorld, type FixtureWorld } from '../../fixtures/world.js';
import { bootDisk } from '../../helpers/qemu.js';
import { e2eAssets, missingTools, runTool, tempDir } from '../../helpers/tools.js';
import { ESP_DISK_TOOLS, makeEspDisk } from './esp-disk.js';

const skip = missingTools('qemu-system-x86_64', 'cpio', 'zstd', 'xz', 'busybox', 'objcopy', ...ESP_DISK_TOOLS) || !e2eAssets();
const CMDLINE = 'console=ttyS0 panic=-1 imagekit.uki=boot-7f3a';

describe.skipIf(skip)('UKI boot (QEMU + OVMF + systemd-boot)', () => {
  let t: ReturnType<typeof tempDir>;
  let world: FixtureWorld;
  let ukiPath: string;
  beforeAll(async () => {
    t = tempDir('imagekit-uki-boot-');
    world = buildFixtureWorld(process.env.IMAGEKIT_FIXTURE_CACHE ?? join(homedir(), '.cache/imagekit-fixtures'));
    const build = await buildUki({
      stub: readFileSync(world.stub),
      kernel: await fileSource(world.vmlinuz),
      initrd: await fileSource(world.initramfs),
      cmdline: CMDLINE,
      version: 'v1.11.0',
      profiles: talosUkiProfiles('uki', CMDLINE),
      sourceDateEpoch: 1700000000,
    });
    ukiPath = join(t.dir, 'imagekit.efi');
    writeFileSync(ukiPath, await peAssemblyBytes(build.image));
  });
  afterAll(() => t?.cleanup());

  it('objcopy extracts our sections unchanged; .uname matches the kernel modules directory', () => {
    const dump = (section: string) => {
      const out = join(t.dir, `dump${section}`);
      const r = runTool('objcopy', ['-O', 'binary', `--dump-section=${section}=${out}`, ukiPath, join(t.dir, 'discard.bin')]);
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(out);
    };
    expect(dump('.cmdline').toString()).toBe(CMDLINE);
    expect(dump('.osrel').toString()).toContain('VERSION_ID=v1.11.0\n');
    expect(dump('.uname').toString()).toBe(world.kernelVersion);
    expect(dump('.profile').toString()).toBe('ID=main');
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha(dump('.linux'))).toBe(sha(readFileSync(world.vmlinuz)));
    expect(sha(dump('.initrd'))).toBe(sha(readFileSync(world.initramfs)));
    expect(sha(dump('.splash'))).toBe(TALOS_SPLASH_SHA256);
  });

  it('boots: the kernel sees our command line and the initramfs /init runs', async () => {
    const disk = makeEspDisk(t.dir, 'esp', {
      'EFI/BOOT/BOOTX64.EFI': readFileSync(world.sdboot),
      'EFI/Linux/imagekit.efi': readFileSync(ukiPath),
      'loader/loader.conf': 'timeout 0\n',
    });
    const r = await bootDisk(disk, { until: 'IMAGEKIT-INIT: done', timeoutSec: 150 });
    expect(r.log).toContain(`IMAGEKIT-CMDLINE: ${CMDLINE}`);
    expect(r.log).toContain('IMAGEKIT-INIT: done');
    expect(r.log).toMatch(/IMAGEKIT-EFIVAR: StubInfo=systemd-stub/);
    expect(r.log).toMatch(/IMAGEKIT-EFIVAR: LoaderEntrySelected=imagekit\.efi/);
  });
});
