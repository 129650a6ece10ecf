/**
 * Authenticode and PE layout checked by tools nobody here wrote: sbverify, osslsigncode, pesign,
 * sbsign (as a second signer computing the digest), objdump.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendSections,
  authenticodeDigest,
  parsePe,
  peAssemblyBytes,
  pemSigner,
  signPe,
  signPeAssembly,
  type CertificateSigner,
} from '../../../src/formats/pe/index.js';
import { missingTools, runTool, tempDir } from '../../helpers/tools.js';
import { debianSdBoot, debianStub } from '../../unit/pe/debian-efi.js';
import { makeTestKeyPair, type TestKeyPair } from '../../unit/pe/test-keys.js';

const skip = missingTools('openssl', 'sbverify', 'sbsign', 'osslsigncode', 'pesign', 'objdump') || !debianStub() || !debianSdBoot();

const pesignHash = (path: string) => /hash:\s*([0-9a-f]{64})/i.exec(runTool('pesign', ['-h', '-i', path]).stdout)?.[1]?.toLowerCase();
const ossl = (args: string[]) => runTool('osslsigncode', args);
const osslDigest = (out: string, which: 'Current' | 'Calculated') =>
  new RegExp(`${which} message digest\\s*:\\s*([0-9A-F]{64})`).exec(out)?.[1]?.toLowerCase();

describe.skipIf(skip)('Authenticode with reference tools', () => {
  let t: ReturnType<typeof tempDir>;
  let keys: TestKeyPair;
  let signer: CertificateSigner;
  let ukiUnsigned: string;
  let ukiSigned: string;
  let sdbSigned: string;
  beforeAll(async () => {
    t = tempDir('imagekit-pe-ref-');
    keys = makeTestKeyPair(t.dir, 'sb', 'imagekit SecureBoot test');
    signer = pemSigner(keys.cert, keys.key);
    const asm = appendSections(debianStub()!, [
      { name: '.osrel', content: new TextEncoder().encode('NAME="Talos"\nID=talos\n') },
      { name: '.cmdline', content: new TextEncoder().encode('console=ttyS0') },
      { name: '.linux', content: new Uint8Array(300_001).fill(0x5a) },
      { name: '.initrd', content: new Uint8Array(70_000).fill(0x17) },
    ], { timeDateStamp: 0 });
    ukiUnsigned = join(t.dir, 'uki.efi');
    writeFileSync(ukiUnsigned, await peAssemblyBytes(asm));
    ukiSigned = join(t.dir, 'uki.efi.signed');
    writeFileSync(ukiSigned, await peAssemblyBytes(await signPeAssembly(asm, signer, { signingTime: 0 })));
    sdbSigned = join(t.dir, 'systemd-boot.efi.signed');
    writeFileSync(sdbSigned, await signPe(debianSdBoot()!, signer, { signingTime: 0 }));
  });
  afterAll(() => t?.cleanup());

  it('sbverify, osslsigncode and pesign accept the signed UKI and systemd-boot', () => {
    for (const file of [ukiSigned, sdbSigned]) {
      const sb = runTool('sbverify', ['--cert', keys.certPath, file]);
      expect(sb.stdout + sb.stderr).toContain('Signature verification OK');
      expect(sb.status).toBe(0);
      const os = ossl(['verify', '-CAfile', keys.certPath, '-in', file]);
      expect(os.stdout).toContain('Succeeded');
      expect(os.stdout).not.toMatch(/gaps between PE\/COFF sections|MISMATCH/);
      expect(os.status).toBe(0);
      const list = runTool('pesign', ['-S', '-i', file]);
      expect(list.status).toBe(0);
      expect(list.stdout).toContain("The signer's common name is imagekit SecureBoot test");
      expect(list.stdout).toContain('Signing time: Thu Jan 01, 1970');
      const listed = runTool('sbverify', ['--list', file]);
      expect(listed.stdout).toMatch(/signature 1[\s\S]*CN=imagekit SecureBoot test/);
    }
  });

  it('our digest equals pesign -h and osslsigncode, and sbsign signs the same digest', () => {
    for (const file of [ukiSigned, sdbSigned, ukiUnsigned]) {
      expect(pesignHash(file)).toBe(authenticodeDigest(parsePe(readFileSync(file))).toString('hex'));
    }
    for (const file of [ukiSigned, sdbSigned]) {
      const out = ossl(['verify', '-in', file]).stdout;
      const ours = authenticodeDigest(parsePe(readFileSync(file))).toString('hex');
      expect(osslDigest(out, 'Calculated')).toBe(ours);
      expect(osslDigest(out, 'Current')).toBe(ours);
    }
    // sbsign computes the digest of the unsigned inputs on its own; it must equal ours.
    for (const [input, bytes] of [[ukiUnsigned, readFileSync(ukiUnsigned)], [join(t.dir, 'sdb.efi'), Buffer.from(debianSdBoot()!)]] as const) {
      writeFileSync(input, bytes);
      const out = `${input}.sbsign`;
      const r = runTool('sbsign', ['--key', keys.keyPath, '--cert', keys.certPath, '--output', out, input]);
      expect(r.status).toBe(0);
      expect(osslDigest(ossl(['verify', '-in', out]).stdout, 'Current')).toBe(authenticodeDigest(parsePe(bytes)).toString('hex'));
    }
  });

  it('a tampered byte makes every verifier fail', () => {
    for (const file of [ukiSigned, sdbSigned]) {
      const bytes = readFileSync(file);
      const pe = parsePe(bytes);
      const text = pe.sections.find((s) => s.name === '.text')!;
      const bad = Buffer.from(bytes);
      bad[text.pointerToRawData + 100]! ^= 0x01;
      const badPath = `${file}.tampered`;
      writeFileSync(badPath, bad);
      expect(runTool('sbverify', ['--cert', keys.certPath, badPath]).status).not.toBe(0);
      const os = ossl(['verify', '-CAfile', keys.certPath, '-in', badPath]);
      expect(os.status).not.toBe(0);
      expect(os.stdout).not.toContain('Succeeded');
      expect(pesignHash(badPath)).not.toBe(pesignHash(file));
    }
  });

  it('a signature by another key is refused by sbverify and osslsigncode', () => {
    const other = makeTestKeyPair(t.dir, 'other', 'someone else');
    expect(runTool('sbverify', ['--cert', other.certPath, ukiSigned]).status).not.toBe(0);
    expect(ossl(['verify', '-CAfile', other.certPath, '-in', ukiSigned]).status).not.toBe(0);
  });

  it('objdump -h shows every section at the VMA, size and file offset we wrote', () => {
    const pe = parsePe(readFileSync(ukiUnsigned));
    const out = runTool('objdump', ['-h', ukiUnsigned]);
    expect(out.status).toBe(0);
    expect(out.stdout).toContain('file format pei-x86-64');
    const rows = [...out.stdout.matchAll(/^\s*\d+\s+(\S+)\s+([0-9a-f]{8})\s+([0-9a-f]{16})\s+[0-9a-f]{16}\s+([0-9a-f]{8})/gm)].map((m) => ({
      name: m[1], size: parseInt(m[2]!, 16), vma: Number(BigInt(`0x${m[3]}`)), fileOff: parseInt(m[4]!, 16),
    }));
    expect(rows.map((r) => r.name)).toEqual(pe.sections.map((s) => s.name));
    rows.forEach((r, i) => {
      const s = pe.sections[i]!;
      expect(r.vma).toBe(s.virtualAddress + Number(pe.optional.imageBase));
      expect(r.size).toBe(s.virtualSize);
      expect(r.fileOff).toBe(s.pointerToRawData);
    });
    const osrel = rows.find((r) => r.name === '.osrel')!;
    expect(osrel.vma).toBe(0x19200); // after .sdmagic 0x19100+0x34, SectionAlignment 0x200
    const x = runTool('objdump', ['-x', ukiUnsigned]).stdout;
    expect(x).toMatch(/SizeOfImage\s+0*([0-9a-f]+)/);
    const last = pe.sections[pe.sections.length - 1]!;
    expect(parseInt(/SizeOfImage\s+([0-9a-f]+)/.exec(x)![1]!, 16)).toBe(Math.ceil((last.virtualAddress + last.virtualSize) / 0x200) * 0x200);
    expect(/CheckSum\s+([0-9a-f]+)/.exec(x)![1]).toMatch(/^0+$/);
  });
});
