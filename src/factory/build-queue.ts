/**
 * Bounded build concurrency (upstream `build.maxConcurrency`, image-factory.md §6) with a bounded
 * wait queue: at most `maxConcurrency` builds run; at most `queueLimit` more wait (first come, first
 * served); beyond that a new build is refused at once (the caller answers 503) instead of piling up.
 */
import { unavailable } from './http-error.js';

export class BuildQueue {
  private running = 0;
  private readonly waiting: Array<{ start: () => void; fail: (err: Error) => void }> = [];

  constructor(
    readonly maxConcurrency: number,
    readonly queueLimit: number,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Would a new build be refused now? */
  get full(): boolean {
    return this.running >= this.maxConcurrency && this.waiting.length >= this.queueLimit;
  }

  /** Run `task` when a slot is free; throws 503 when the queue is full or `signal` aborts while waiting. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.running >= this.maxConcurrency) {
      if (this.waiting.length >= this.queueLimit) throw unavailable(`build queue full (${this.running} running, ${this.waiting.length} waiting)`);
      await new Promise<void>((start, fail) => {
        const item = { start, fail };
        this.waiting.push(item);
        signal?.addEventListener('abort', () => {
          const i = this.waiting.indexOf(item);
          if (i >= 0) {
            this.waiting.splice(i, 1);
            fail(unavailable(`build cancelled while queued: ${String(signal.reason)}`));
          }
        }, { once: true });
      });
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter (running stays the same).
      if (next) next.start();
      else this.running--;
    }
  }
}
