#!/usr/bin/env node
// `npm run demo [-- OUTDIR]`: build the fixture world once (cached: a Debian kernel, a busybox
// initramfs whose /init reports what it finds, Debian's systemd-boot/stub, two extensions — see
// test/fixtures/world.ts), publish it as OCI layouts with imagekit's own image writer, then build a
// bootable metal disk with both extensions from those layouts, offline, and print how to boot it.
//
// Needs the Debian tools the fixture world is made with (cpio, zstd, xz, busybox-static,
// systemd-boot-efi) and the Debian kernel (scripts/e2e-assets.sh fetches it with apt-get download).
// The build itself is `node bin/imagekit.js build …`: no network, no root, no native tool.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const out = resolve(process.argv[2] ?? 'demo-out');
const step = (msg) => process.stderr.write(`\n== ${msg}\n`);
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    process.stderr.write(`demo: ${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status || 1);
  }
};

// 1. The compiled CLI.
if (!existsSync(join(root, 'dist/cli/main.js'))) {
  step('building imagekit (tsc)');
  run(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json']);
}

// 2. The Debian kernel of the fixture world.
const e2eDir = process.env.IMAGEKIT_E2E_DIR ?? join(homedir(), '.cache/imagekit-e2e');
if (!existsSync(join(e2eDir, 'vmlinuz'))) {
  step(`fetching the Debian kernel into ${e2eDir} (apt-get download, once)`);
  run('bash', [join(root, 'scripts/e2e-assets.sh'), e2eDir]);
}
process.env.IMAGEKIT_E2E_DIR = e2eDir;

// 3. The fixture world and its OCI layouts (TypeScript test fixtures, loaded through Vite's SSR loader).
step('fixture world (cached)');
const { createServer } = await import('vite');
const vite = await createServer({
  root, configFile: false, logLevel: 'error', appType: 'custom',
  server: { middlewareMode: true, hmr: false, watch: null }, optimizeDeps: { noDiscovery: true, include: [] },
});
let world, layouts;
try {
  const { buildFixtureWorld } = await vite.ssrLoadModule('/test/fixtures/world.ts');
  const { writeFixtureLayouts } = await vite.ssrLoadModule('/test/fixtures/world-images.ts');
  world = buildFixtureWorld(process.env.IMAGEKIT_FIXTURE_CACHE ?? join(homedir(), '.cache/imagekit-fixtures'));
  layouts = await writeFixtureLayouts(world);
} finally {
  await vite.close();
}
process.stderr.write(`world: ${world.dir}\n  imager image (OCI layout): ${layouts.imager}\n`);
for (const e of layouts.extensions) process.stderr.write(`  extension ${e.name} (OCI layout): ${e.layout}\n`);

// 4. The build: a metal amd64 sd-boot disk with both extensions, from the layouts only.
step('imagekit build (offline)');
const args = [
  join(root, 'bin/imagekit.js'), 'build', 'metal', '--arch', 'amd64', '--version', layouts.names.version,
  '--bootloader', 'sd-boot', '--out-format', 'raw', '--offline',
  '--imager-image', layouts.imager,
  ...layouts.extensions.flatMap((e) => ['--system-extension-image', e.layout]),
  '--extra-kernel-arg', 'console=ttyS0',
  '--output', out,
];
process.stderr.write(`$ node ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}\n\n`);
run(process.execPath, args, { cwd: process.cwd() });

const disk = join(out, 'metal-amd64.raw');
const vars = join(out, 'OVMF_VARS.fd');
process.stdout.write(`
Built ${disk}

Boot it (UEFI, systemd-boot → our UKI → the fixture /init mounts both extensions and powers off):
  cp /usr/share/OVMF/OVMF_VARS_4M.fd ${vars}
  qemu-system-x86_64 -machine q35 -m 1024 -nographic -no-reboot \\
    -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \\
    -drive if=pflash,format=raw,file=${vars} \\
    -drive file=${disk},format=raw,if=virtio,snapshot=on
Look for the IMAGEKIT-* lines (IMAGEKIT-MARKER: IMAGEKIT-EXT-hello-OK, …).
`);
