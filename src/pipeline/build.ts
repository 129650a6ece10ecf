/**
 * One build: a resolved profile → the output file in the output directory (talos-imager.md §0
 * steps 7–10). Kinds that need inputs imagekit cannot produce yet fail before anything is written,
 * with exit code 3 — never a fake file.
 *
 * Done: `cmdline` (the command line, no trailing newline, at `<output>/<OutputPath>`).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidInput, ioError, unsupported } from '../core/errors.js';
import { silentProgress, type ProgressSink } from '../core/progress.js';
import type { ReproContext } from '../core/repro.js';
import { buildCmdline } from '../boot/cmdline/build.js';
import { outputPath } from '../profile/output-path.js';
import { quirksFor } from '../profile/quirks.js';
import type { OutputKind, Profile } from '../profile/schema.js';
import { writeFileAtomic } from './atomic-file.js';

/** Output kinds this version builds. */
export const SUPPORTED_OUTPUT_KINDS: readonly OutputKind[] = ['cmdline'];

export interface BuildOptions {
  /** Directory for the output file; created when missing. */
  outputDir: string;
  progress?: ProgressSink;
  /** Timestamps and seeds for outputs that carry them (none for `cmdline`). */
  repro?: ReproContext;
}

export interface BuildResult {
  /** The file written. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  /** The kernel command line of this build. */
  cmdline: string;
}

/** Refuse what cannot be built, before any output is touched. */
export function checkBuildable(p: Profile): void {
  const kind = p.output.kind;
  if (kind === 'unknown') throw invalidInput('E_PROFILE_OUTPUT_KIND', `unknown output kind: ${kind}`);
  if (kind === 'uki' && !quirksFor(p.version).supportsUKI) {
    throw unsupported('E_UKI_VERSION', `UKI output is not supported for Talos version ${JSON.stringify(p.version)} (needs ≥ 1.5)`);
  }
  if (!SUPPORTED_OUTPUT_KINDS.includes(kind)) {
    throw unsupported('E_OUTPUT_KIND_UNSUPPORTED', `output kind ${kind} is not supported yet (supported: ${SUPPORTED_OUTPUT_KINDS.join(', ')})`);
  }
  if (p.overlay !== null) {
    // The imager runs the overlay's installer binary (`get-options`) to learn its kernel arguments.
    throw unsupported('E_OVERLAY_UNSUPPORTED', `overlays are not supported yet (overlay ${JSON.stringify(p.overlay.name || p.overlay.image.imageRef)})`);
  }
  if (p.output.outFormat === 'unknown') throw invalidInput('E_PROFILE_OUT_FORMAT', 'unknown output format: unknown');
}

export async function buildOutput(p: Profile, opts: BuildOptions): Promise<BuildResult> {
  const progress = opts.progress ?? silentProgress;
  checkBuildable(p);

  progress({ type: 'step-start', step: 'cmdline' });
  const cmdline = buildCmdline(p);
  progress({ type: 'step-done', step: 'cmdline', detail: cmdline });

  if (p.output.outFormat !== 'raw') {
    // imagekit writes the command line as text; the imager would compress even this small file.
    progress({ type: 'warning', message: `outFormat ${p.output.outFormat} is not applied to cmdline output; writing it raw` });
  }

  try {
    await mkdir(opts.outputDir, { recursive: true });
  } catch (err) {
    throw ioError('E_OUTPUT_DIR', `cannot create output directory ${opts.outputDir}: ${(err as Error).message}`, err);
  }
  const path = join(opts.outputDir, outputPath(p));
  const data = Buffer.from(cmdline, 'utf8');
  progress({ type: 'step-start', step: 'output', detail: path, total: data.length });
  await writeFileAtomic(path, data);
  progress({ type: 'step-done', step: 'output', detail: path });
  return { path, bytes: data.length, cmdline };
}
