import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildUki, kernelVersionFromBzImage, osReleaseText, talosSplashBmp, talosUkiProfiles, type UkiInputs } from '../../../src/boot/uki/index.js';
import { pcrSignerFromPem } from '../../../src/boot/secureboot/index.js';
import { ImagekitError } from '../../../src/core/errors.js';
import { findSection, parsePe, peAssemblyBytes, pemSigner, sectionData, type CertificateSigner, type PeFile } from '../../../src/formats/pe/index.js';
import { missingTools, tempDir } from '../../helpers/tools.js';
import { debianStub } from '../pe/debian-efi.js';
import { upstreamLikeStub } from '../pe/synthetic-pe.js';
import { makeTestKeyPair } from '../pe/test-keys.js';

const pcrKeyPem = readFileSync(new URL('../secureboot/fixtures/talos-pcr-signing-key.pem', import.meta.url));
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const appendedNames = (pe: PeFile, stubSections: number) => pe.sections.slice(stubSections).map((s) => s.name);
const sectionsNamed = (pe: PeFile, name: string) => pe.sections.filter((s) => s.name === name).map((s) => text(sectionData(pe, s, true)));

/** A fake bzImage: boot-protocol header with a version string (x86 boot protocol, offsets by hand). */
function fakeBzImage(release: string, size = 70_000): Uint8Array {
  const k = new Uint8Array(size).fill(0x90);
  k[0x1f1] = 4; // setup_sects
  k.set(Buffer.from('HdrS'), 0x202);
  const off = 0x300;
  k[0x20e] = off & 0xff;
  k[0x20f] = off >> 8;
  k.set(Buffer.from(`${release} (builder@host) #1 SMP\0`), off + 0x200);
  return k;
}

const stub = debianStub() ?? upstreamLikeStub();
const stubSectionCount = parsePe(stub).sections.length;
const base = (): UkiInputs => ({
  stub,
  kernel: fakeBzImage('6.18.45-talos'),
  initrd: new Uint8Array(12345).fill(7),
  cmdline: 'talos.platform=metal console=ttyS0',
  version: 'v1.11.0',
  splash: new Uint8Array([0x42, 0x4d, 1, 2, 3]),
  sourceDateEpoch: 1700000000,
});

describe('UKI sections (talos-imager.md §6.1-6.2)', () => {
  it('os-release text', () => {
    expect(osReleaseText({ version: 'v1.14.0' })).toBe(
      'NAME="Talos"\nID=talos\nVERSION_ID=v1.14.0\nPRETTY_NAME="Talos (v1.14.0)"\nHOME_URL="https://www.talos.dev/"\n' +
        'BUG_REPORT_URL="https://github.com/siderolabs/talos/issues"\nVENDOR_NAME="Sidero Labs"\nVENDOR_URL="https://www.siderolabs.com/"\n',
    );
    expect(osReleaseText({ version: 'v1.9.0', name: 'My Talos' })).toMatch(/^NAME="My Talos"\nID=my_talos\n/);
  });

  it('bundles the Talos splash BMP intact', () => {
    const bmp = talosSplashBmp();
    expect(bmp.length).toBe(640138);
    expect(Buffer.from(bmp.subarray(0, 2)).toString()).toBe('BM');
    const v = Buffer.from(bmp.buffer, bmp.byteOffset, bmp.byteLength);
    expect([v.readUInt32LE(2), v.readInt32LE(18), v.readInt32LE(22), v.readUInt16LE(28)]).toEqual([640138, 400, 400, 32]);
    expect(createHash('sha256').update(bmp).digest('hex')).toBe('db736eb8a5f1f2b59f9140378a47d14383d5b49ab3704c7ab2042017d5097365');
  });

  it('kernel release from a bzImage header, undefined otherwise', () => {
    expect(kernelVersionFromBzImage(fakeBzImage('6.18.45-talos'))).toBe('6.18.45-talos');
    const noMagic = fakeBzImage('x');
    noMagic[0x202] = 0;
    expect(kernelVersionFromBzImage(noMagic)).toBeUndefined();
    const badOffset = fakeBzImage('x');
    badOffset[0x1f1] = 1; // 0x300 > 1*512
    expect(kernelVersionFromBzImage(badOffset)).toBeUndefined();
    expect(kernelVersionFromBzImage(new Uint8Array(100))).toBeUndefined();
  });

  it('unsigned, >= 1.10 (image): .osrel .cmdline .uname .splash .linux .initrd .profile .profile .cmdline', async () => {
    const inputs = { ...base(), profiles: talosUkiProfiles('image', base().cmdline) };
    const build = await buildUki(inputs);
    const pe = parsePe(await peAssemblyBytes(build.image));
    expect(appendedNames(pe, stubSectionCount)).toEqual(['.osrel', '.cmdline', '.uname', '.splash', '.linux', '.initrd', '.profile', '.profile', '.cmdline']);
    expect(build.sections.map((s) => s.name)).toEqual(['.sbat', '.osrel', '.cmdline', '.uname', '.splash', '.linux', '.initrd', '.profile', '.profile', '.cmdline']);
    expect(build.sections[0]!.appended).toBe(false);
    expect(sectionsNamed(pe, '.osrel')[0]).toBe(osReleaseText({ version: 'v1.11.0' }));
    expect(sectionsNamed(pe, '.cmdline')).toEqual(['talos.platform=metal console=ttyS0', 'talos.platform=metal console=ttyS0 talos.experimental.wipe=system:EPHEMERAL,STATE']);
    expect(sectionsNamed(pe, '.uname')).toEqual(['6.18.45-talos']);
    expect(sectionsNamed(pe, '.profile')).toEqual(['ID=main', 'ID=reset-maintenance\nTITLE=Reset to maintenance mode']);
    expect(Buffer.from(sectionData(pe, findSection(pe, '.linux')!, true))).toEqual(Buffer.from(inputs.kernel as Uint8Array));
    expect(pe.coff.timeDateStamp).toBe(1700000000);
    expect(pe.certificateTable).toBeNull();
    expect(build.pcrSignatures).toEqual([]);
  });

  it('embeds the Talos splash unless told otherwise', async () => {
    const pe = parsePe(await peAssemblyBytes((await buildUki({ ...base(), splash: undefined })).image));
    expect(Buffer.from(sectionData(pe, findSection(pe, '.splash')!, true))).toEqual(Buffer.from(talosSplashBmp()));
  });

  it('iso profiles, uki kind has only main, < 1.10 has none; uname omitted when unknown or null', async () => {
    expect(talosUkiProfiles('iso', 'a')).toEqual([{ id: 'main' }, { id: 'reset', title: 'Reset system disk', cmdline: 'a talos.experimental.wipe=system' }]);
    expect(talosUkiProfiles('uki', 'a')).toEqual([{ id: 'main' }]);
    const old = parsePe(await peAssemblyBytes((await buildUki({ ...base(), kernel: new Uint8Array(5000), splash: null })).image));
    expect(appendedNames(old, stubSectionCount)).toEqual(['.osrel', '.cmdline', '.linux', '.initrd']);
    const nul = parsePe(await peAssemblyBytes((await buildUki({ ...base(), uname: null })).image));
    expect(findSection(nul, '.uname')).toBeUndefined();
  });

  it('rejects bad profiles and multi-line command lines', async () => {
    await expect(buildUki({ ...base(), profiles: [{ id: 'reset' }] })).rejects.toThrow(/first UKI profile must be "main"/);
    await expect(buildUki({ ...base(), profiles: [{ id: 'main' }, { id: 'main' }] })).rejects.toThrow(/used twice/);
    await expect(buildUki({ ...base(), cmdline: 'a\nb' })).rejects.toBeInstanceOf(ImagekitError);
  });
});

describe.skipIf(missingTools('openssl'))('signed UKI (talos-imager.md §6.2, §7.2)', () => {
  const t = tempDir('imagekit-uki-');
  let signer: CertificateSigner;
  const pcrSigner = pcrSignerFromPem(pcrKeyPem);
  afterAll(() => t.cleanup());
  const getSigner = () => (signer ??= (() => {
    const k = makeTestKeyPair(t.dir, 'sb');
    return pemSigner(k.cert, k.key);
  })());

  /** PCR 11 policy for a set of (name, bytes), recomputed here from the spec. */
  function expectedPolicy(sections: Map<string, Uint8Array>, bank: 'sha256' | 'sha384' | 'sha512'): Buffer {
    const H = (...p: Uint8Array[]) => p.reduce((h, x) => h.update(x), createHash(bank)).digest();
    let pcr = Buffer.alloc(H().length);
    for (const n of ['.linux', '.osrel', '.cmdline', '.initrd', '.ucode', '.splash', '.dtb', '.uname', '.sbat', '.pcrpkey', '.profile', '.dtbauto', '.hwids']) {
      const c = sections.get(n);
      if (!c) continue;
      pcr = H(pcr, H(Buffer.from(`${n}\0`)));
      pcr = H(pcr, H(c));
    }
    for (const p of ['enter-initrd', 'leave-initrd', 'enter-machined']) pcr = H(pcr, H(Buffer.from(p)));
    const sel = Buffer.from([0, 0, 0, 1, 0, { sha256: 0x0b, sha384: 0x0c, sha512: 0x0d }[bank], 3, 0, 8, 0]);
    return createHash('sha256').update(Buffer.alloc(32)).update(Buffer.from([0, 0, 1, 0x7f])).update(sel).update(createHash('sha256').update(pcr).digest()).digest();
  }

  it('>= 1.10: one .pcrsig after each profile, each verifying for its own sections', async () => {
    const inputs: UkiInputs = { ...base(), profiles: talosUkiProfiles('iso', base().cmdline), secureBoot: { signer: getSigner(), pcrSigner } };
    const bytes = await peAssemblyBytes((await buildUki(inputs)).image);
    const pe = parsePe(bytes);
    expect(appendedNames(pe, stubSectionCount)).toEqual(['.osrel', '.cmdline', '.uname', '.splash', '.pcrpkey', '.linux', '.initrd', '.profile', '.pcrsig', '.profile', '.cmdline', '.pcrsig']);
    expect(pe.certificates).toHaveLength(1);
    const appended = pe.sections.slice(stubSectionCount).map((s) => ({ name: s.name, data: sectionData(pe, s, true) }));
    const pcrpkey = text(appended.find((s) => s.name === '.pcrpkey')!.data);
    const pub = createPublicKey(pcrpkey);
    const baseMap = new Map<string, Uint8Array>(appended.slice(0, 7).map((s) => [s.name, s.data]));
    baseMap.set('.sbat', sectionData(pe, findSection(pe, '.sbat')!, true));
    const mainMap = new Map(baseMap).set('.profile', appended[7]!.data);
    const resetMap = new Map(baseMap).set('.profile', appended[9]!.data).set('.cmdline', appended[10]!.data);
    for (const [map, sig] of [[mainMap, appended[8]!.data], [resetMap, appended[11]!.data]] as const) {
      const json = JSON.parse(text(sig));
      expect(Object.keys(json)).toEqual(['sha256', 'sha384', 'sha512']);
      for (const bank of ['sha256', 'sha384', 'sha512'] as const) {
        const pol = expectedPolicy(map, bank);
        expect(json[bank][0].pol).toBe(pol.toString('hex'));
        expect(verify(bank, pol, pub, Buffer.from(json[bank][0].sig, 'base64'))).toBe(true);
      }
    }
    expect(text(appended[8]!.data)).not.toBe(text(appended[11]!.data));
  });

  it('< 1.10: a single .pcrsig at the end; output is reproducible', async () => {
    const inputs: UkiInputs = { ...base(), secureBoot: { signer: getSigner(), pcrSigner } };
    const a = await peAssemblyBytes((await buildUki(inputs)).image);
    const b = await peAssemblyBytes((await buildUki(inputs)).image);
    expect(createHash('sha256').update(a).digest('hex')).toBe(createHash('sha256').update(b).digest('hex'));
    const pe = parsePe(a);
    expect(appendedNames(pe, stubSectionCount)).toEqual(['.osrel', '.cmdline', '.uname', '.splash', '.pcrpkey', '.linux', '.initrd', '.pcrsig']);
    const later = await peAssemblyBytes((await buildUki({ ...inputs, sourceDateEpoch: 1700000001 })).image);
    expect(Buffer.from(later)).not.toEqual(Buffer.from(a));
  });
});
