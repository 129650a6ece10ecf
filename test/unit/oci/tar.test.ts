import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ImagekitError } from '../../../src/core/errors.js';
import { decodeHeader, encodeHeader, parsePax, BLOCK } from '../../../src/oci/tar-header.js';
import { scanTarFile } from '../../../src/oci/tar-scan.js';
import { tarBytes } from '../../../src/oci/tar-writer.js';
import { missingTools, runTool } from '../../helpers/tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'imagekit-tar-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

async function scan(bytes: Uint8Array) {
  const p = join(tmp, `t${n++}.tar`);
  writeFileSync(p, bytes);
  const out = [];
  for await (const m of scanTarFile(p, { what: 'test tar' })) out.push(m);
  return out;
}

describe('tar header codec', () => {
  it('round-trips ustar fields', () => {
    const h = decodeHeader(encodeHeader({ name: 'a/b', type: 'file', mode: 0o4755, uid: 1000, gid: 100, size: 12345, mtime: 1700000000, uname: 'u', gname: 'g' }));
    expect(h).toMatchObject({ name: 'a/b', type: 'file', mode: 0o4755, uid: 1000, gid: 100, size: 12345, mtime: 1700000000, uname: 'u', gname: 'g' });
  });

  it('uses PAX for long names, long links, big ids and xattrs (property: scan gives back what was written)', async () => {
    const nameArb = fc.array(fc.stringMatching(/^[a-zA-Z0-9._ é€-]{1,40}$/), { minLength: 1, maxLength: 8 }).map((p) => p.join('/'));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ name: nameArb, link: fc.option(nameArb, { nil: undefined }), uid: fc.nat(10_000_000), size: fc.nat(3000), x: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined }) }), { minLength: 1, maxLength: 6 }),
        async (specs) => {
          const entries = specs.map((s) => (s.link
            ? { name: s.name, type: 'symlink' as const, linkname: s.link, uid: s.uid }
            : { name: s.name, type: 'file' as const, data: Buffer.alloc(s.size, 0x61), uid: s.uid, ...(s.x ? { xattrs: { 'user.x': s.x } } : {}) }));
          const members = await scan(await tarBytes(entries));
          expect(members).toHaveLength(entries.length);
          members.forEach((m, i) => {
            const s = specs[i]!;
            expect(m.header.name).toBe(s.name);
            expect(m.header.uid).toBe(s.uid);
            if (s.link) expect(m.header.linkname).toBe(s.link);
            else {
              expect(m.header.size).toBe(s.size);
              if (s.x) expect([...m.xattrs['user.x']!]).toEqual([...s.x]);
            }
          });
        },
      ),
      { seed: 42, numRuns: 60 },
    );
  });

  it('PAX records: lengths are checked', () => {
    expect(parsePax(Buffer.from('11 path=ab\n')).get('path')?.toString()).toBe('ab');
    expect(() => parsePax(Buffer.from('99 path=ab\n'))).toThrow(/malformed PAX record/);
    expect(() => parsePax(Buffer.from('x path=ab\n'))).toThrow(/malformed PAX/);
  });

  it('fuzz: corrupted tars never hang or yield impossible members, only ImagekitErrors', async () => {
    const base = await tarBytes([
      { name: 'dir/', type: 'dir' },
      { name: 'dir/' + 'long'.repeat(40), type: 'file', data: Buffer.alloc(700, 1), xattrs: { 'security.selinux': Buffer.from('l') } },
      { name: 'l', type: 'symlink', linkname: 'x'.repeat(150) },
    ]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(base.length), async (edits, cut) => {
        const b = Buffer.from(base.subarray(0, Math.max(cut, BLOCK)));
        for (const [i, v] of edits) if (i < b.length) b[i] = v;
        try {
          for (const m of await scan(b)) {
            expect(m.dataOffset + m.header.size).toBeLessThanOrEqual(b.length);
            expect(Number.isSafeInteger(m.header.size) && m.header.size >= 0).toBe(true);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(ImagekitError);
        }
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it.skipIf(missingTools('bsdtar'))('bsdtar reads what our writer writes (PAX names, xattrs, devices, hard links)', async () => {
    const bytes = await tarBytes([
      { name: 'd/', type: 'dir', mode: 0o750 },
      { name: 'd/' + 'n'.repeat(130), type: 'file', data: Buffer.from('hello'), mode: 0o640, uid: 3000000 },
      { name: 'd/hl', type: 'hardlink', linkname: 'd/' + 'n'.repeat(130) },
      { name: 'd/s', type: 'symlink', linkname: '../' + 't'.repeat(120) },
      { name: 'd/null', type: 'char', devMajor: 1, devMinor: 3 },
      { name: 'd/x', type: 'file', data: Buffer.from('x'), xattrs: { 'security.selinux': Buffer.from('system_u:object_r:bin_t:s0') } },
    ]);
    const p = join(tmp, 'ours.tar');
    writeFileSync(p, bytes);
    const r = runTool('bsdtar', ['-tvf', p]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[1]).toMatch(new RegExp(`^-rw-r----- .*3000000 .* 5 .*d/${'n'.repeat(130)}$`));
    expect(lines[2]).toMatch(/^hrw-r--r-- .* d\/hl link to d\/n+$/);
    expect(lines[3]).toMatch(/d\/s -> \.\.\/t{120}$/);
    expect(lines[4]).toMatch(/^crw-r--r-- .* 1,\s*3 .*d\/null$/);
    const x = runTool('bsdtar', ['-x', '--xattrs', '-O', '-f', p, 'd/x']);
    expect(x.stdout).toBe('x');
  });
});
