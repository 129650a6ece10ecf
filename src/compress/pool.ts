/**
 * WorkerPool: a small, ordered pool of `node:worker_threads` workers for independent CPU-bound
 * tasks (compression frames and blocks).
 *
 * Contract (the wire format is in worker-protocol.ts):
 * - `new WorkerPool(entry, { size })`: `entry` is a worker module URL, resolved by the caller with
 *   `workerUrl(import.meta.url, './x-worker.js')` (src/core/worker-url.ts). The module calls
 *   `serveWorker(handler)`. `size` defaults to `min(2, availableParallelism())`. Workers start
 *   lazily, on the first task that needs one.
 * - `run(message, transfer?)` queues one task; tasks start in submission order (FIFO), each worker
 *   runs one task at a time, and every task settles with its own promise. Callers that need output
 *   order simply await the promises in the order they were created (`mapInOrder` does this with a
 *   bounded number in flight).
 * - A task error thrown in the worker is re-thrown in the caller as an `ImagekitError` with the
 *   same code, kind and message (non-imagekit errors become `E_WORKER_TASK`, exit code 1).
 * - A worker that crashes (uncaught error, `process.exit`, out of memory) rejects the task it was
 *   running with `E_WORKER_CRASHED` and is replaced when the next task needs a worker; queued
 *   tasks are not lost.
 * - Workers are unref'd while idle, so an idle pool never keeps the process alive; a worker with a
 *   task in flight is ref'd so the process waits for the result.
 * - `close()` rejects queued and running tasks with `E_POOL_CLOSED` and terminates every worker.
 *   `run()` after `close()` rejects with `E_POOL_CLOSED`.
 */
import { availableParallelism } from 'node:os';
import { Worker, type Transferable } from 'node:worker_threads';
import { environment, type ImagekitError } from '../core/errors.js';
import { fromTaskError, type TaskReply } from './worker-protocol.js';

export interface WorkerPoolOptions {
  /** Number of worker threads; default `min(2, availableParallelism())`. */
  size?: number;
}

interface Task {
  id: number;
  message: unknown;
  transfer: readonly Transferable[];
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker | null;
  task: Task | null;
}

export function defaultPoolSize(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

export class WorkerPool {
  readonly size: number;
  private readonly slots: Slot[];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly entry: URL, opts: WorkerPoolOptions = {}) {
    const size = opts.size ?? defaultPoolSize();
    if (!Number.isInteger(size) || size < 1 || size > 256) {
      throw environment('E_POOL_SIZE', `worker pool size must be an integer in 1..256, got ${size}`);
    }
    this.size = size;
    this.slots = Array.from({ length: size }, () => ({ worker: null, task: null }));
  }

  /** Number of tasks queued or running. */
  get pending(): number {
    return this.queue.length + this.slots.filter((s) => s.task).length;
  }

  run<T>(message: unknown, transfer: readonly Transferable[] = []): Promise<T> {
    if (this.closed) return Promise.reject(poolClosed(this.entry));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, message, transfer, resolve: resolve as (v: unknown) => void, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = poolClosed(this.entry);
    for (const t of this.queue.splice(0)) t.reject(err);
    const exits: Promise<unknown>[] = [];
    for (const slot of this.slots) {
      slot.task?.reject(err);
      slot.task = null;
      if (slot.worker) exits.push(slot.worker.terminate());
      slot.worker = null;
    }
    await Promise.all(exits);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.task) continue;
      const task = this.queue.shift()!;
      let worker: Worker;
      try {
        worker = slot.worker ?? this.spawn(slot);
      } catch (err) {
        task.reject(environment('E_WORKER_START', `cannot start worker ${this.entry.href}: ${(err as Error).message}`, err));
        continue;
      }
      slot.task = task;
      worker.ref();
      try {
        worker.postMessage({ id: task.id, message: task.message }, [...task.transfer]);
      } catch (err) {
        // Uncloneable message: fail this task only.
        slot.task = null;
        worker.unref();
        task.reject(environment('E_WORKER_MESSAGE', `cannot send task to worker ${this.entry.href}: ${(err as Error).message}`, err));
      }
    }
  }

  private spawn(slot: Slot): Worker {
    // Inherit the process's Node flags (e.g. --no-addons) except those a worker refuses.
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
    const worker = new Worker(this.entry, { execArgv });
    worker.unref();
    slot.worker = worker;
    worker.on('message', (reply: TaskReply) => {
      const task = slot.task;
      if (slot.worker !== worker || !task || reply.id !== task.id) return;
      slot.task = null;
      worker.unref();
      if ('error' in reply) task.reject(fromTaskError(reply.error));
      else task.resolve(reply.result);
      this.dispatch();
    });
    worker.on('error', (err) => this.crashed(slot, worker, `worker ${this.entry.href} crashed: ${err?.message ?? err}`, err));
    worker.on('exit', (code) => this.crashed(slot, worker, `worker ${this.entry.href} exited with code ${code}`));
    return worker;
  }

  private crashed(slot: Slot, worker: Worker, message: string, cause?: unknown): void {
    if (slot.worker !== worker) return; // already replaced or closed
    slot.worker = null;
    const task = slot.task;
    slot.task = null;
    void worker.terminate().catch(() => {});
    if (task) task.reject(environment('E_WORKER_CRASHED', message, cause));
    if (!this.closed) this.dispatch();
  }
}

function poolClosed(entry: URL): ImagekitError {
  return environment('E_POOL_CLOSED', `worker pool for ${entry.href} is closed`);
}

/**
 * Map `inputs` through `fn` with at most `concurrency` calls in flight, yielding results in input
 * order. Stops reading inputs while the window is full (backpressure). The first rejection is
 * thrown when its turn comes; results after it are dropped.
 */
export async function* mapInOrder<I, O>(
  inputs: Iterable<I> | AsyncIterable<I>,
  fn: (input: I, index: number) => Promise<O>,
  concurrency: number,
): AsyncGenerator<O, void, undefined> {
  const window: Promise<O>[] = [];
  let index = 0;
  try {
    for await (const input of inputs as AsyncIterable<I>) {
      const p = fn(input, index++);
      p.catch(() => {}); // handled when its turn comes
      window.push(p);
      if (window.length >= Math.max(1, concurrency)) yield await window.shift()!;
    }
    while (window.length) yield await window.shift()!;
  } finally {
    window.length = 0;
  }
}
