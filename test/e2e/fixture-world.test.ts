/**
 * The fixture world boots on its own: kernel + base initramfs (no extensions) under QEMU/TCG.
 * This proves the harness before any imagekit output is involved, so e2e failures point at us.
 */
import { join } from 'node:path';
import { homedir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { buildFixtureWorld } from '../fixtures/world.js';
import { bootKernel } from '../helpers/qemu.js';
import { e2eAssets, missingTools, runTool } from '../helpers/tools.js';
import { fileURLToPath } from 'node:url';

const skip = missingTools('qemu-system-x86_64', 'cpio', 'zstd', 'xz', 'busybox') || !e2eAssets();

describe('fixture world', () => {
  it.skipIf(missingTools('busybox'))('the fixture /init parses with busybox sh', () => {
    const r = runTool('busybox', ['sh', '-n', fileURLToPath(new URL('../fixtures/init.sh', import.meta.url))]);
    expect(r.status, r.stderr).toBe(0);
  });

  it.skipIf(skip)('the base initramfs boots and its /init reports', async () => {
    const world = buildFixtureWorld(process.env.IMAGEKIT_FIXTURE_CACHE ?? join(homedir(), '.cache/imagekit-fixtures'));
    const r = await bootKernel(world.vmlinuz, world.initramfs, 'console=ttyS0 imagekit.test=1', { until: 'IMAGEKIT-INIT: done', timeoutSec: 120 });
    expect(r.log).toContain('IMAGEKIT-CMDLINE: console=ttyS0 imagekit.test=1');
    expect(r.log).toContain('IMAGEKIT-EXTENSIONS: none');
    expect(r.log).toContain('IMAGEKIT-INIT: done');
  }, 600_000);
});
