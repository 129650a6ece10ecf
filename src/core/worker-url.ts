/**
 * Resolve a worker entry module next to the caller. Under `dist/` the sibling `.js` file exists;
 * when the caller runs from `src/*.ts` (vitest), Node cannot start a `.ts` worker, so the compiled
 * twin under `dist/` is used (the test command builds first).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { environment } from './errors.js';

export function workerUrl(callerUrl: string, relativeJs: string): URL {
  const direct = new URL(relativeJs, callerUrl);
  if (existsSync(fileURLToPath(direct))) return direct;
  const callerPath = fileURLToPath(callerUrl);
  const marker = `${'/'}src${'/'}`;
  const idx = callerPath.lastIndexOf(marker);
  if (idx >= 0) {
    const distCaller = callerPath.slice(0, idx) + '/dist/' + callerPath.slice(idx + marker.length);
    const candidate = new URL(relativeJs, pathToFileURL(distCaller));
    if (existsSync(fileURLToPath(candidate))) return candidate;
  }
  throw environment('E_WORKER_MISSING', `worker module ${relativeJs} not found next to ${callerPath} (run "npm run build")`);
}
