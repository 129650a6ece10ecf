/**
 * The factory's error answers (image-factory.md §2.1, upstream `MatchError`): a status and a
 * `text/plain; charset=utf-8` body `<message>\n`. Every failure inside the service becomes one of
 * these before it reaches the socket; anything unclassified is 500 `internal server error` (the
 * real cause goes to the log, never to the client).
 */
import { ImagekitError } from '../core/errors.js';
import { upstreamMessage } from '../schematic/index.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    /** The body text (without the trailing newline). */
    readonly body: string,
    /** What to log when it differs from the body (e.g. the cause of a 500). */
    readonly detail?: string,
  ) {
    super(body);
    this.name = 'HttpError';
  }
}

export const notFound = (message: string) => new HttpError(404, message);
export const badRequest = (message: string) => new HttpError(400, message);
export const internalError = (detail: string) => new HttpError(500, 'internal server error', detail);
/** Queue full, shutting down (upstream's not-ready answer). */
export const unavailable = (detail: string) => new HttpError(503, 'service temporarily unavailable', detail);

/** The Enterprise-only answers of the community edition (402). */
export const enterpriseOnly = (message: string) => new HttpError(402, message);

/**
 * Map anything thrown while answering to an HttpError:
 * - an HttpError as it is;
 * - a schematic/path/enhancement error (it carries upstream's exact text) → 400 with that text;
 * - invalid input or an unsupported feature found before building (exit codes 2 and 3) → 400 with
 *   the message: upstream answers "unsupported feature for version" class errors with 400;
 * - everything else (registry unreachable, I/O, assembly) → 500.
 */
export function toHttpError(err: unknown, context = ''): HttpError {
  if (err instanceof HttpError) return err;
  const upstream = upstreamMessage(err);
  if (upstream !== undefined) return badRequest(upstream);
  if (err instanceof ImagekitError && (err.exitCode === 2 || err.exitCode === 3)) {
    return new HttpError(400, context ? `${context}: ${err.message}` : err.message);
  }
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return internalError(context ? `${context}: ${detail}` : detail);
}
