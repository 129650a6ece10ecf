/**
 * Schematic errors. Every decode/validation failure is invalid input (exit 2, HTTP 400) with code
 * `E_SCHEMATIC_INVALID`; the one-line message is upstream's error text with its line breaks folded.
 * The exact upstream text (go-yaml's `construct errors:` list is multi-line) stays readable through
 * `upstreamMessage(err)`, for a front that must answer byte-for-byte like the Image Factory.
 */
import { invalidInput, type ImagekitError } from '../core/errors.js';

const kUpstream = Symbol.for('imagekit.schematic.upstreamMessage');

/** An invalid schematic: `message` is the text the Image Factory answers with (HTTP 400). */
export function schematicInvalid(message: string, code = 'E_SCHEMATIC_INVALID'): ImagekitError {
  const err = invalidInput(code, message);
  Object.defineProperty(err, kUpstream, { value: message, enumerable: false });
  return err;
}

/** The exact upstream error text carried by a schematic error (multi-line where upstream's is). */
export function upstreamMessage(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const v = (err as Record<symbol, unknown>)[kUpstream];
  return typeof v === 'string' ? v : undefined;
}
