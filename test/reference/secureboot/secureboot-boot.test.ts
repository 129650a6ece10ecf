/**
 * Secure Boot end to end under OVMF (secboot build, TCG): systemd-boot enrolls our PK/KEK/db `.auth`
 * files from loader/keys/auto (setup mode), then the next boot runs with Secure Boot enforced and
 * boots our Authenticode-signed systemd-boot and signed UKI; an unsigned UKI, a signed UKI with one
 * byte changed and an unsigned systemd-boot are refused by the firmware.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEnrollmentDatabase, pcrSignerFromPem } from '../../../src/boot/secureboot/index.js';
import { buildUki, fileSource } from '../../../src/boot/uki/index.js';
import { parsePe, peAssemblyBytes, pemSigner, signPe } from '../../../src/formats/pe/index.js';
import { buildFixtureWorld, type FixtureWorld } from '../../fixtures/world.js';
import { e2eAssets, missingTools, tempDir } from '../../helpers/tools.js';
import { makeTestKeyPair, makeTestRsaKey } from '../../unit/pe/test-keys.js';
import { ESP_DISK_TOOLS, makeEspDisk } from '../uki/esp-disk.js';
import { bootSecure, freshVars, OVMF_SECBOOT_CODE } from './ovmf-secboot.js';

const skip =
  missingTools('qemu-system-x86_64', 'openssl', 'cpio', 'zstd', 'xz', 'busybox', ...ESP_DISK_TOOLS) || !e2eAssets() ||
  (!existsSync(OVMF_SECBOOT_CODE) && (process.env.CI ? (() => { throw new Error(`${OVMF_SECBOOT_CODE} missing under CI`); })() : true));
const EPOCH = 1700000000;
const CMDLINE = 'console=ttyS0 panic=-1 imagekit.secureboot=on';

describe.skipIf(skip)('Secure Boot chain in OVMF', () => {
  let t: ReturnType<typeof tempDir>;
  let world: FixtureWorld;
  let enrolledVars: string;
  let signedSdBoot: Uint8Array;
  let signedUki: Uint8Array;
  let unsignedUki: Uint8Array;
  beforeAll(async () => {
    t = tempDir('imagekit-secboot-');
    world = buildFixtureWorld(process.env.IMAGEKIT_FIXTURE_CACHE ?? join(homedir(), '.cache/imagekit-fixtures'));
    const keys = makeTestKeyPair(t.dir, 'uki-signing', 'imagekit SecureBoot signer');
    const pcr = makeTestRsaKey(t.dir, 'pcr-signing');
    const signer = pemSigner(keys.cert, keys.key);
    const uki = async (secure: boolean) =>
      peAssemblyBytes((await buildUki({
        stub: readFileSync(world.stub),
        kernel: await fileSource(world.vmlinuz),
        initrd: await fileSource(world.initramfs),
        cmdline: CMDLINE,
        version: 'v1.11.0',
        sourceDateEpoch: EPOCH,
        ...(secure ? { secureBoot: { signer, pcrSigner: pcrSignerFromPem(pcr.key) } } : {}),
      })).image);
    signedUki = await uki(true);
    unsignedUki = await uki(false);
    signedSdBoot = await signPe(readFileSync(world.sdboot), signer, { signingTime: EPOCH });
    const auth = await generateEnrollmentDatabase({ enrolledCertificatePem: keys.cert, signer, timestamp: EPOCH });
    const disk = makeEspDisk(t.dir, 'enroll', {
      'EFI/BOOT/BOOTX64.EFI': signedSdBoot,
      'EFI/Linux/talos.efi': signedUki,
      'loader/loader.conf': 'timeout 0\nsecure-boot-enroll force\n',
      ...Object.fromEntries(auth.map((f) => [`loader/keys/auto/${f.name}`, f.contents])),
    });
    // Boot 1: setup mode; sd-boot enrolls db, KEK, PK and resets (QEMU exits: -no-reboot).
    enrolledVars = freshVars(t.dir, 'enrolled.fd');
    const enroll = await bootSecure(disk, enrolledVars, join(t.dir, 'enroll.log'), { timeoutSec: 120, until: /IMAGEKIT-INIT: done/ });
    expect(enroll.log).toContain('Enrolling secure boot keys from directory: \\loader\\keys\\auto');
    expect(enroll.timedOut).toBe(false);
  });
  afterAll(() => t?.cleanup());

  const withVars = (name: string) => {
    const copy = join(t.dir, `${name}.fd`);
    copyFileSync(enrolledVars, copy);
    return copy;
  };

  it('boots the signed sd-boot + signed UKI with Secure Boot enforced', async () => {
    const disk = makeEspDisk(t.dir, 'signed', { 'EFI/BOOT/BOOTX64.EFI': signedSdBoot, 'EFI/Linux/talos.efi': signedUki, 'loader/loader.conf': 'timeout 0\n' });
    const r = await bootSecure(disk, withVars('signed'), join(t.dir, 'signed.log'), { timeoutSec: 150, until: /IMAGEKIT-INIT: done/ });
    expect(r.log).toContain('secureboot: Secure boot enabled');
    expect(r.log).toContain("Loaded X.509 cert 'imagekit SecureBoot signer");
    expect(r.log).toContain(`IMAGEKIT-CMDLINE: ${CMDLINE}`);
    expect(r.log).toContain('IMAGEKIT-INIT: done');
  });

  it('refuses an unsigned UKI, a signed UKI with one byte changed and an unsigned systemd-boot', async () => {
    const tampered = Uint8Array.from(signedUki);
    const linux = parsePe(tampered).sections.find((s) => s.name === '.linux')!;
    tampered[linux.pointerToRawData + 4096]! ^= 0x01;
    const cases = [
      { name: 'unsigned-uki', sdboot: signedSdBoot, uki: unsignedUki, denied: 'Error loading \\EFI\\Linux\\talos.efi: Access Denied' },
      { name: 'tampered-uki', sdboot: signedSdBoot, uki: tampered, denied: 'Error loading \\EFI\\Linux\\talos.efi: Access Denied' },
      { name: 'unsigned-sdboot', sdboot: readFileSync(world.sdboot), uki: signedUki, denied: 'BdsDxe: failed to load Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0): Access Denied' },
    ];
    // Each refusal is reported within seconds; boot the three at once.
    const runs = await Promise.all(cases.map((c) => {
      const disk = makeEspDisk(t.dir, c.name, { 'EFI/BOOT/BOOTX64.EFI': c.sdboot, 'EFI/Linux/talos.efi': c.uki, 'loader/loader.conf': 'timeout 0\n' });
      return bootSecure(disk, withVars(c.name), join(t.dir, `${c.name}.log`), { timeoutSec: 120, until: /Access Denied|IMAGEKIT-INIT/ });
    }));
    runs.forEach((r, i) => {
      expect(r.timedOut, cases[i]!.name).toBe(false);
      expect(r.log, cases[i]!.name).toContain(cases[i]!.denied);
      expect(r.log, cases[i]!.name).not.toContain('IMAGEKIT-INIT');
      expect(r.log, cases[i]!.name).not.toContain('Linux version');
    });
  });
});
