import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  digestForBanks,
  encodePcrSignature,
  MEASURED_SECTION_ORDER,
  pcrPublicKeyFingerprint,
  pcrPublicKeyPem,
  pcrSelection,
  pcrSignerFromPem,
  policyPcrDigest,
  predictPcr11,
  signPcrPolicy,
  type BankDigests,
} from '../../../src/boot/secureboot/index.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

async function sectionsNamedAfterThemselves(): Promise<Map<string, BankDigests>> {
  const m = new Map<string, BankDigests>();
  for (const name of MEASURED_SECTION_ORDER) m.set(name, await digestForBanks(new TextEncoder().encode(name), name));
  return m;
}

describe('.pcrsig (talos-imager.md §7.2)', () => {
  it('reproduces upstream Talos/systemd-measure output byte for byte', async () => {
    const signer = pcrSignerFromPem(fixture('talos-pcr-signing-key.pem'));
    const json = encodePcrSignature(await signPcrPolicy(await sectionsNamedAfterThemselves(), signer));
    expect(new TextDecoder().decode(json)).toBe(fixture('talos-measure-expected.json').toString('utf8'));
  });

  it('policy digests equal an independent recomputation, and signatures verify with .pcrpkey', async () => {
    const signer = pcrSignerFromPem(fixture('talos-pcr-signing-key.pem'));
    const sections = new Map<string, BankDigests>();
    const contents: Record<string, Buffer> = {
      '.linux': Buffer.alloc(100_000, 7), '.osrel': Buffer.from('NAME="Talos"\n'), '.cmdline': Buffer.from('console=ttyS0'),
      '.initrd': Buffer.alloc(5000, 3), '.sbat': Buffer.from('sbat,1\n'), '.pcrpkey': Buffer.from(pcrPublicKeyPem(signer)),
    };
    for (const [n, c] of Object.entries(contents)) sections.set(n, await digestForBanks(c, n));
    const data = await signPcrPolicy(sections, signer);
    const pub = createPublicKey(pcrPublicKeyPem(signer));
    const pkcs1 = pub.export({ type: 'pkcs1', format: 'der' });
    for (const [bank, alg] of [['sha256', 0x0b], ['sha384', 0x0c], ['sha512', 0x0d]] as const) {
      // Written from the spec, without the module's helpers.
      const H = (...p: Buffer[]) => p.reduce((h, x) => h.update(x), createHash(bank)).digest();
      let pcr = Buffer.alloc(H().length);
      for (const n of ['.linux', '.osrel', '.cmdline', '.initrd', '.sbat', '.pcrpkey']) {
        pcr = H(pcr, H(Buffer.from(n + '\0')));
        pcr = H(pcr, H(contents[n]!));
      }
      for (const p of ['enter-initrd', 'leave-initrd', 'enter-machined']) pcr = H(pcr, H(Buffer.from(p)));
      const sel = Buffer.from([0, 0, 0, 1, 0, alg, 3, 0, 8, 0]);
      const pol = createHash('sha256').update(Buffer.alloc(32)).update(Buffer.from([0, 0, 1, 0x7f])).update(sel).update(createHash('sha256').update(pcr).digest()).digest();
      const entry = data[bank]![0]!;
      expect(data[bank]).toHaveLength(1);
      expect(entry.pcrs).toEqual([11]);
      expect(entry.pol).toBe(pol.toString('hex'));
      expect(entry.pkfp).toBe(createHash('sha256').update(pkcs1).digest('hex'));
      expect(verify(bank, pol, pub, Buffer.from(entry.sig, 'base64'))).toBe(true);
      expect(verify(bank, Buffer.from(pol).fill(1, 0, 1), pub, Buffer.from(entry.sig, 'base64'))).toBe(false);
    }
    const text = new TextDecoder().decode(encodePcrSignature(data));
    expect(text).toMatch(/^\{"sha256":\[\{"pcrs":\[11\],"pkfp":"[0-9a-f]{64}","pol":"[0-9a-f]{64}","sig":"[A-Za-z0-9+/=]+"\}\],"sha384":\[.*\],"sha512":\[.*\]\}$/);
  });

  it('absent sections are skipped and order is fixed, not input order', async () => {
    const a = new Map<string, BankDigests>([['.cmdline', await digestForBanks(Buffer.from('x'), 'c')], ['.linux', await digestForBanks(Buffer.from('k'), 'l')]]);
    const b = new Map([...a].reverse());
    expect(predictPcr11(a, 'sha256').afterSections).toEqual(predictPcr11(b, 'sha256').afterSections);
    expect(predictPcr11(new Map(), 'sha256').afterSections).toEqual(Buffer.alloc(32));
  });

  it('PCR selection bitmap and .pcrpkey format', () => {
    expect(pcrSelection('sha256', [11]).toString('hex')).toBe('00000001000b03000800');
    expect(pcrSelection('sha512', [0, 23]).toString('hex')).toBe('00000001000d03010080');
    expect(() => pcrSelection('sha256', [24])).toThrow(/0\.\.23/);
    expect(policyPcrDigest(Buffer.alloc(32), 'sha256', [11])).toHaveLength(32);
    const signer = pcrSignerFromPem(fixture('talos-pcr-signing-key.pem'));
    const pem = pcrPublicKeyPem(signer);
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n([A-Za-z0-9+/=]{64}\n)+[A-Za-z0-9+/=]{1,64}\n-----END PUBLIC KEY-----\n$/);
    expect(pcrPublicKeyFingerprint(signer)).toBe('58f58f625bd8a8b6681e4b40688cf99b26419b6b2c5f6e14a2c7c67a3b0b1620');
  });
});
