/**
 * One error class for the whole library (design.md "Errors").
 *
 * Every failure carries a stable machine `code` (E_…), a one-line message that names the input at
 * fault, and the exit code the Talos imager would use (talos-imager.md §0,
 * `pkg/installer/exitcode/exitcode.go`). The CLI prints `imagekit: <message>` and exits with
 * `exitCode`; the service maps `exitCode` to an HTTP status.
 */

/** Imager exit codes (talos-imager.md §0). */
export const ExitCode = {
  ok: 0,
  unknown: 1,
  invalidInput: 2,
  unsupported: 3,
  environment: 4,
  dependency: 5,
  io: 6,
  assembly: 7,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type ExitKind = keyof typeof ExitCode;

const kImagekitError = Symbol.for('imagekit.error');

export class ImagekitError extends Error {
  /** Stable machine-readable code, e.g. `E_DIGEST_MISMATCH`. */
  readonly code: string;
  /** Process exit code, as the imager uses it. */
  readonly exitCode: ExitCode;

  constructor(code: string, kind: ExitKind, message: string, options?: { cause?: unknown }) {
    // One line: a message that spans lines would break the CLI's `imagekit: <message>` contract.
    super(message.replace(/\s*\n\s*/g, ' '), options);
    this.name = 'ImagekitError';
    this.code = code;
    this.exitCode = ExitCode[kind];
    Object.defineProperty(this, kImagekitError, { value: true });
  }

  /** `instanceof` that works across duplicated copies of the package (as undici does). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kImagekitError] === true;
  }
}

/** Helpers that say what kind of failure this is; the code names the cause. */
export const invalidInput = (code: string, message: string, cause?: unknown) =>
  new ImagekitError(code, 'invalidInput', message, { cause });
export const unsupported = (code: string, message: string, cause?: unknown) =>
  new ImagekitError(code, 'unsupported', message, { cause });
export const environment = (code: string, message: string, cause?: unknown) =>
  new ImagekitError(code, 'environment', message, { cause });
export const dependency = (code: string, message: string, cause?: unknown) =>
  new ImagekitError(code, 'dependency', message, { cause });
export const ioError = (code: string, message: string, cause?: unknown) =>
  new ImagekitError(code, 'io', message, { cause });
export const assembly = (code: string, message: string, cause?: unknown) =>
  new ImagekitError(code, 'assembly', message, { cause });

/** Map anything thrown to an ImagekitError (unknown errors keep exit code 1). */
export function toImagekitError(err: unknown): ImagekitError {
  if (err instanceof ImagekitError) return err;
  if (err && typeof err === 'object' && 'code' in err && typeof (err as NodeJS.ErrnoException).syscall === 'string') {
    const e = err as NodeJS.ErrnoException;
    return ioError(`E_IO_${e.code ?? 'UNKNOWN'}`, `${e.syscall} ${e.path ?? ''}: ${e.code}`.replace(/\s+:/, ':'), err);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ImagekitError('E_UNKNOWN', 'unknown', message || 'unknown error', { cause: err });
}
