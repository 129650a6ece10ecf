/**
 * UKI / Authenticode benchmark: each case against the native tool in the same run (min of 3).
 * Inputs: Debian systemd-stub, the Debian kernel (scripts/e2e-assets.sh) or 8 MiB of filler, and a
 * 56 MiB incompressible "initramfs" (a Talos-sized UKI of ~64 MiB). Ours runs in a fresh node
 * process per measurement so its peak RSS is its own.
 *
 *   npm run bench -- uki
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { pcrSignerFromPem } from '../src/boot/secureboot/index.js';
import { buildUki, fileSource } from '../src/boot/uki/index.js';
import { authenticodeDigest, parsePe, peAssemblyStream, pemSigner, signPe } from '../src/formats/pe/index.js';

const STUB = '/usr/lib/systemd/boot/efi/linuxx64.efi.stub';
const CMDLINE = 'talos.platform=metal console=ttyS0';
const OSREL = 'NAME="Talos"\nID=talos\nVERSION_ID=v1.11.0\n';

interface Dir {
  dir: string;
  kernel: string;
  initrd: string;
  key: string;
  cert: string;
  pcrKey: string;
  osrel: string;
  cmdline: string;
}

function paths(dir: string): Dir {
  return {
    dir, kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd'), key: join(dir, 'sb.key'), cert: join(dir, 'sb.pem'),
    pcrKey: join(dir, 'pcr.key'), osrel: join(dir, 'osrel'), cmdline: join(dir, 'cmdline'),
  };
}

async function oursCase(name: string, d: Dir): Promise<void> {
  const out = join(d.dir, `ours-${name}.efi`);
  const base = async () => ({
    stub: readFileSync(STUB), kernel: await fileSource(d.kernel), initrd: await fileSource(d.initrd), cmdline: CMDLINE,
    version: 'v1.11.0', osRelease: OSREL, uname: null, sourceDateEpoch: 0,
  });
  switch (name) {
    case 'assemble': {
      await pipeline(peAssemblyStream((await buildUki(await base())).image), createWriteStream(out));
      break;
    }
    case 'assemble-signed': {
      const signer = pemSigner(readFileSync(d.cert), readFileSync(d.key));
      const build = await buildUki({ ...(await base()), secureBoot: { signer, pcrSigner: pcrSignerFromPem(readFileSync(d.pcrKey)) } });
      await pipeline(peAssemblyStream(build.image), createWriteStream(out));
      break;
    }
    case 'sign': {
      const signer = pemSigner(readFileSync(d.cert), readFileSync(d.key));
      writeFileSync(out, await signPe(readFileSync(join(d.dir, 'native-assemble.efi')), signer, { signingTime: 0 }));
      break;
    }
    case 'digest': {
      const h = authenticodeDigest(parsePe(readFileSync(join(d.dir, 'native-assemble.efi'))));
      if (h.length !== 32) throw new Error('bad digest');
      break;
    }
    default:
      throw new Error(`unknown case ${name}`);
  }
  const ru = process.resourceUsage();
  process.stdout.write(JSON.stringify({ maxRssKiB: ru.maxRSS }));
}

function timed(cmd: string, args: string[]): { seconds: number; rssMiB: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const [sec, kib] = r.stderr.trim().split('\n').pop()!.split(' ');
  return { seconds: Number(sec), rssMiB: Number(kib) / 1024 };
}

function ours(name: string, d: Dir): { seconds: number; rssMiB: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--case', name, d.dir], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`ours ${name} failed: ${r.stderr}`);
  return { seconds, rssMiB: JSON.parse(r.stdout).maxRssKiB / 1024 };
}

function objcopyArgs(d: Dir, out: string): string[] {
  // As shared/e2e build-uki.sh: new sections after the stub's highest section end, 4 KiB aligned.
  const align = (n: number) => Math.ceil(n / 0x1000) * 0x1000;
  const pe = parsePe(readFileSync(STUB));
  let off = align(Math.max(...pe.sections.map((s) => s.virtualAddress + s.virtualSize)));
  const args: string[] = [];
  for (const [name, file] of [['.osrel', d.osrel], ['.cmdline', d.cmdline], ['.linux', d.kernel], ['.initrd', d.initrd]] as const) {
    args.push('--add-section', `${name}=${file}`, '--change-section-vma', `${name}=0x${off.toString(16)}`);
    off = align(off + statSync(file).size);
  }
  return [...args, STUB, out];
}

function best(f: () => { seconds: number; rssMiB: number }): { seconds: number; rssMiB: number } {
  const runs = [f(), f(), f()];
  return { seconds: Math.min(...runs.map((r) => r.seconds)), rssMiB: Math.max(...runs.map((r) => r.rssMiB)) };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--case') return oursCase(process.argv[3]!, paths(process.argv[4]!));
  if (!existsSync(STUB)) throw new Error(`${STUB} missing (apt-get install systemd-boot-efi)`);
  const dir = mkdtempSync(join(tmpdir(), 'imagekit-bench-uki-'));
  try {
    const d = paths(dir);
    const e2eKernel = join(process.env.IMAGEKIT_E2E_DIR ?? join(process.env.HOME ?? '/root', '.cache/imagekit-e2e'), 'vmlinuz');
    writeFileSync(d.kernel, existsSync(e2eKernel) ? readFileSync(e2eKernel) : Buffer.alloc(8 << 20, 0x90));
    const initrd = Buffer.alloc(56 << 20);
    for (let i = 0, block = Buffer.alloc(0); i < initrd.length; i += 32) {
      block = createHash('sha256').update(block).update(String(i)).digest();
      block.copy(initrd, i);
    }
    writeFileSync(d.initrd, initrd);
    writeFileSync(d.osrel, OSREL);
    writeFileSync(d.cmdline, CMDLINE);
    for (const args of [
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=bench', '-days', '30', '-keyout', d.key, '-out', d.cert],
      ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:4096', '-out', d.pcrKey],
    ]) {
      if (spawnSync('openssl', args).status !== 0) throw new Error('openssl failed');
    }
    const native = join(dir, 'native-assemble.efi');
    const size = (statSync(d.kernel).size + statSync(d.initrd).size) / (1 << 20);
    const rows: Array<[string, { seconds: number; rssMiB: number }, { seconds: number; rssMiB: number }, string]> = [];
    rows.push([`assemble UKI (${size.toFixed(0)} MiB kernel+initrd)`, best(() => ours('assemble', d)), best(() => timed('objcopy', objcopyArgs(d, native))), 'objcopy --add-section']);
    rows.push(['Authenticode sign UKI', best(() => ours('sign', d)), best(() => timed('sbsign', ['--key', d.key, '--cert', d.cert, '--output', join(dir, 'native.signed'), native])), 'sbsign']);
    rows.push(['Authenticode digest of UKI', best(() => ours('digest', d)), best(() => timed('pesign', ['-h', '-i', native])), 'pesign -h']);
    rows.push(['signed UKI: assemble + PCR 11 (3 banks) + sign', best(() => ours('assemble-signed', d)), best(() => {
      const a = timed('objcopy', objcopyArgs(d, native));
      const b = timed('sbsign', ['--key', d.key, '--cert', d.cert, '--output', join(dir, 'native.signed'), native]);
      return { seconds: a.seconds + b.seconds, rssMiB: Math.max(a.rssMiB, b.rssMiB) };
    }), 'objcopy + sbsign (no PCR prediction)']);
    console.log('| case | ours s | native s | ratio | peak RSS MiB (ours / native) | native tool |');
    console.log('|---|---|---|---|---|---|');
    for (const [name, o, n, tool] of rows) {
      console.log(`| ${name} | ${o.seconds.toFixed(2)} | ${n.seconds.toFixed(2)} | ${(o.seconds / Math.max(n.seconds, 0.01)).toFixed(2)} | ${o.rssMiB.toFixed(0)} / ${n.rssMiB.toFixed(0)} | ${tool} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
