/**
 * PCR 11 prediction checked against systemd-measure (systemd 252, /usr/lib/systemd/systemd-measure
 * `calculate`): same values for every bank after each boot phase, for the sections 252 knows.
 * (`sign` needs libtss2-esys, not installed; the policy/signature half is pinned by upstream's
 * systemd-measure-generated vector in test/unit/secureboot.)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestForBanks, pcrPublicKeyPem, pcrSignerFromPem, predictPcr11, type BankDigests } from '../../../src/boot/secureboot/index.js';
import { talosSplashBmp } from '../../../src/boot/uki/index.js';
import { runTool, tempDir } from '../../helpers/tools.js';

const MEASURE = '/usr/lib/systemd/systemd-measure';
const present = existsSync(MEASURE);
if (!present && process.env.CI) throw new Error(`${MEASURE} missing under CI (Debian systemd package)`);

describe.skipIf(!present)('PCR 11 prediction vs systemd-measure calculate', () => {
  let t: ReturnType<typeof tempDir>;
  const sections = new Map<string, BankDigests>();
  const args: string[] = [];
  beforeAll(async () => {
    t = tempDir('imagekit-measure-');
    const signer = pcrSignerFromPem(readFileSync(new URL('../../unit/secureboot/fixtures/talos-pcr-signing-key.pem', import.meta.url)));
    const contents: Array<[string, Uint8Array]> = [
      ['linux', new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff)],
      ['osrel', Buffer.from('NAME="Talos"\nID=talos\nVERSION_ID=v1.11.0\n')],
      ['cmdline', Buffer.from('talos.platform=metal console=ttyS0')],
      ['initrd', new Uint8Array(70_000).map((_, i) => (i * 13) & 0xff)],
      ['splash', talosSplashBmp()],
      ['dtb', Buffer.from('not really a dtb')],
      ['pcrpkey', Buffer.from(pcrPublicKeyPem(signer))],
    ];
    for (const [name, data] of contents) {
      const path = join(t.dir, name);
      writeFileSync(path, data);
      args.push(`--${name}=${path}`);
      sections.set(`.${name}`, await digestForBanks(data, name));
    }
  });
  afterAll(() => t?.cleanup());

  it('agrees for sha256, sha384 and sha512 after every phase', () => {
    const banks = ['sha256', 'sha384', 'sha512'] as const;
    const phases = ['enter-initrd', 'enter-initrd:leave-initrd', 'enter-initrd:leave-initrd:enter-machined'];
    const r = runTool(MEASURE, ['calculate', ...args, ...banks.map((b) => `--bank=${b}`), ...phases.map((p) => `--phase=${p}`), '--json=short']);
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as Record<string, Array<{ phase: string; pcr: number; hash: string }>>;
    for (const bank of banks) {
      const ours = predictPcr11(sections, bank).phases;
      expect(json[bank]!.map((e) => e.pcr)).toEqual([11, 11, 11]);
      phases.forEach((phase, i) => {
        expect(json[bank]!.find((e) => e.phase === phase)!.hash, `${bank} ${phase}`).toBe(ours[i]!.value.toString('hex'));
      });
    }
  });

  it('a changed command line changes the value systemd-measure and we compute alike', async () => {
    const other = join(t.dir, 'cmdline2');
    writeFileSync(other, 'talos.platform=metal console=ttyS0 talos.experimental.wipe=system');
    const r = runTool(MEASURE, ['calculate', ...args.filter((a) => !a.startsWith('--cmdline=')), `--cmdline=${other}`, '--bank=sha256', '--phase=enter-initrd:leave-initrd:enter-machined', '--json=short']);
    expect(r.status, r.stderr).toBe(0);
    const hash = JSON.parse(r.stdout).sha256[0].hash as string;
    const changed = new Map(sections).set('.cmdline', await digestForBanks(readFileSync(other), 'cmdline2'));
    expect(predictPcr11(changed, 'sha256').phases[2]!.value.toString('hex')).toBe(hash);
    expect(predictPcr11(sections, 'sha256').phases[2]!.value.toString('hex')).not.toBe(hash);
  });
});
