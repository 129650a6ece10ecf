/**
 * A tiny busybox initramfs whose /init prints `PAYLOAD <name> <md5>` for every file under /payload
 * and then `done`, then powers off: the kernel as the judge of a compressed initramfs. The cpio is
 * made by GNU cpio, so only the compression under test is ours.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTool } from './tools.js';

export interface PayloadCpio {
  cpio: Buffer;
  /** md5 hex of each payload file, by name: the log must show `PAYLOAD <name> <md5>`. */
  sums: Map<string, string>;
}

export function buildPayloadCpio(dir: string, files: Array<[string, Uint8Array]>, done: string): PayloadCpio {
  const root = join(dir, 'root');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'payload'), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  writeFileSync(join(root, 'init'), `#!/bin/busybox sh
/bin/busybox mkdir -p /proc
/bin/busybox mount -t proc proc /proc
for f in /payload/*; do echo "PAYLOAD $(/bin/busybox basename $f) $(/bin/busybox md5sum < $f | /bin/busybox cut -d' ' -f1)"; done
echo "${done}"
/bin/busybox poweroff -f
`);
  chmodSync(join(root, 'init'), 0o755);
  const sums = new Map<string, string>();
  for (const [name, data] of files) {
    writeFileSync(join(root, 'payload', name), data);
    sums.set(name, createHash('md5').update(data).digest('hex'));
  }
  const out = join(dir, 'root.cpio');
  const r = runTool('sh', ['-c', `cd "${root}" && find . | LC_ALL=C sort | cpio -o -H newc -R +0:+0 --reproducible --quiet > "${out}"`]);
  if (r.status !== 0) throw new Error(`cpio failed: ${r.stderr}`);
  return { cpio: readFileSync(out), sums };
}
