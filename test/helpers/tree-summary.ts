/**
 * Comparable summaries of a file tree: path → `dir` | `symlink <target>` | `file <sha256 prefix>`
 * (hard links summarised as the file they point to, as an extracted directory shows them). Used to
 * check our FileTree against what another tool extracted to disk.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { readEntry, type FileTree } from '../../src/core/file-tree.js';

export const shortSha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex').slice(0, 16);

export async function treeSummary(tree: FileTree): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of tree) {
    if (e.type === 'file') out[e.path] = `file ${shortSha(await readEntry(e))}`;
    else if (e.type === 'hardlink') out[e.path] = `file ${shortSha(await readEntry(tree.find((x) => x.path === e.linkTarget)!))}`;
    else if (e.type === 'symlink') out[e.path] = `symlink ${e.linkTarget}`;
    else out[e.path] = e.type;
  }
  return out;
}

export function dirSummary(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, r));
      if (st.isSymbolicLink()) out[r] = `symlink ${readlinkSync(join(root, r))}`;
      else if (st.isDirectory()) {
        out[r] = 'dir';
        walk(r);
      } else out[r] = `file ${shortSha(readFileSync(join(root, r)))}`;
    }
  };
  walk('');
  return out;
}
