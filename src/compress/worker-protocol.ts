/**
 * The message contract between a `WorkerPool` (pool.ts) and a worker entry module.
 *
 *   caller → worker   { id, message }                       (posted with the task's transfer list)
 *   worker → caller   { id, result }                        (success; posted with the reply's transfer list)
 *                   | { id, error: { code, message, kind } } (failure)
 *
 * `id` is the pool's task number and is echoed unchanged. `kind` is an `ExitKind` from
 * src/core/errors.ts so the caller re-throws the same `ImagekitError` (code, exit code, message).
 * A worker entry module does nothing but call `serveWorker(handler)` once at top level.
 */
import { parentPort, type Transferable } from 'node:worker_threads';
import { ExitCode, ImagekitError, type ExitKind } from '../core/errors.js';

export interface TaskRequest {
  id: number;
  message: unknown;
}

export interface TaskError {
  code: string;
  message: string;
  kind: ExitKind;
}

export type TaskReply = { id: number; result: unknown } | { id: number; error: TaskError };

const kTransfer = Symbol('imagekit.worker.transfer');

interface TransferResult {
  [kTransfer]: true;
  value: unknown;
  transfer: Transferable[];
}

/**
 * Wrap a handler's result so its buffers are moved (not copied) back to the caller. Only list
 * buffers the worker owns outright: never a `Buffer` from Node's shared allocation pool.
 */
export function withTransfer<T>(value: T, transfer: readonly Transferable[]): T {
  return { [kTransfer]: true, value, transfer: [...transfer] } satisfies TransferResult as unknown as T;
}

function isTransferResult(v: unknown): v is TransferResult {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[kTransfer] === true;
}

const kinds = Object.keys(ExitCode) as ExitKind[];

/** Turn anything thrown in a worker into the wire form. */
export function toTaskError(err: unknown): TaskError {
  if (err instanceof ImagekitError) {
    const kind = kinds.find((k) => ExitCode[k] === err.exitCode) ?? 'unknown';
    return { code: err.code, message: err.message, kind };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'E_WORKER_TASK', message: message || 'worker task failed', kind: 'unknown' };
}

/** Re-create the caller-side error from the wire form. */
export function fromTaskError(e: TaskError): ImagekitError {
  const kind: ExitKind = kinds.includes(e.kind) ? e.kind : 'unknown';
  return new ImagekitError(String(e.code), kind, String(e.message));
}

/**
 * Serve tasks in a worker entry module. `handler` gets each `message` and returns its result
 * (or a promise of it); wrap the result with `withTransfer` to move buffers. Tasks are handled
 * as they arrive; a pool sends one task at a time per worker, so handlers may keep per-worker state.
 */
export function serveWorker(handler: (message: any) => unknown): void {
  const port = parentPort;
  if (!port) throw new Error('serveWorker() must be called from a worker thread');
  port.on('message', (req: TaskRequest) => {
    const id = req.id;
    Promise.resolve()
      .then(() => handler(req.message))
      .then(
        (out) => {
          if (isTransferResult(out)) port.postMessage({ id, result: out.value } satisfies TaskReply, out.transfer);
          else port.postMessage({ id, result: out } satisfies TaskReply);
        },
        (err) => port.postMessage({ id, error: toTaskError(err) } satisfies TaskReply),
      )
      .catch((err) => {
        // postMessage itself failed (e.g. an uncloneable result): report that instead.
        port.postMessage({ id, error: toTaskError(err) } satisfies TaskReply);
      });
  });
}
