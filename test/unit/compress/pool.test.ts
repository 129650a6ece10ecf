import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ImagekitError } from '../../../src/core/errors.js';
import { mapInOrder, WorkerPool } from '../../../src/compress/pool.js';
import { tempDir } from '../../helpers/tools.js';

const entry = new URL('./fixtures/pool-test-worker.mjs', import.meta.url);
const pools: WorkerPool[] = [];
function pool(size = 2): WorkerPool {
  const p = new WorkerPool(entry, { size });
  pools.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

/** The error a promise rejects with (fails the test if it resolves). */
const failure = (p: Promise<unknown>): Promise<ImagekitError> =>
  p.then(() => { throw new Error('expected a rejection'); }, (e) => e as ImagekitError);

interface Echo { value: number; threadId: number; handled: number }

describe('WorkerPool', () => {
  it('runs tasks on at most `size` workers and settles each with its own result', async () => {
    const p = pool(2);
    const delays = [40, 5, 30, 1, 20, 0, 10, 3];
    const results = await Promise.all(delays.map((d, i) => p.run<Echo>({ op: 'echo', value: i, delayMs: d })));
    expect(results.map((r) => r.value)).toEqual(delays.map((_, i) => i));
    expect(new Set(results.map((r) => r.threadId)).size).toBeLessThanOrEqual(2);
  });

  it('mapInOrder yields in input order with a bounded window', async () => {
    const p = pool(2);
    let inFlight = 0;
    let maxInFlight = 0;
    const out: number[] = [];
    const inputs = [50, 1, 30, 2, 10, 0, 20, 5, 1, 1];
    for await (const r of mapInOrder(inputs, async (d, i) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        return await p.run<Echo>({ op: 'echo', value: i, delayMs: d });
      } finally {
        inFlight--;
      }
    }, 3)) out.push(r.value);
    expect(out).toEqual(inputs.map((_, i) => i));
    expect(maxInFlight).toBeLessThanOrEqual(3);
  });

  it('re-throws worker errors as ImagekitError and keeps serving', async () => {
    const p = pool(1);
    const bad = await failure(p.run({ op: 'invalid', value: 'x' }));
    expect(bad).toBeInstanceOf(ImagekitError);
    expect(bad.code).toBe('E_TEST_BAD');
    expect(bad.exitCode).toBe(2);
    expect(bad.message).toBe('bad input x');
    const plain = await failure(p.run({ op: 'plain' }));
    expect(plain).toBeInstanceOf(ImagekitError);
    expect(plain.code).toBe('E_WORKER_TASK');
    expect(plain.message).toBe('plain failure');
    expect((await p.run<Echo>({ op: 'echo', value: 9 })).value).toBe(9);
  });

  it('moves transferred buffers both ways', async () => {
    const p = pool(1);
    const bytes = new Uint8Array([1, 2, 3, 250]);
    const out = await p.run<Uint8Array>({ op: 'sum', bytes }, [bytes.buffer]);
    expect(bytes.byteLength).toBe(0); // detached: moved to the worker
    expect(new DataView(out.buffer, out.byteOffset).getUint32(0)).toBe(256);
  });

  it('a crashed worker rejects its task, is replaced, and queued tasks still run', async () => {
    const p = pool(1);
    const first = await p.run<Echo>({ op: 'echo', value: 1 });
    const crash = failure(p.run({ op: 'exit' }));
    const queued = p.run<Echo>({ op: 'echo', value: 2 });
    const err = await crash;
    expect(err).toBeInstanceOf(ImagekitError);
    expect(err.code).toBe('E_WORKER_CRASHED');
    expect(err.message).toMatch(/exited with code 7/);
    const after = await queued;
    expect(after.value).toBe(2);
    expect(after.threadId).not.toBe(first.threadId);
    expect(after.handled).toBe(1); // a fresh worker

    const thrown = await failure(p.run({ op: 'throw-async' }));
    expect(thrown.code).toBe('E_WORKER_CRASHED');
    expect(thrown.message).toMatch(/uncaught in worker/);
    expect((await p.run<Echo>({ op: 'echo', value: 3 })).value).toBe(3);
  });

  it('close() rejects running and queued tasks, terminates, and refuses new tasks', async () => {
    const p = pool(1);
    const running = failure(p.run({ op: 'hang' }));
    const queued = failure(p.run({ op: 'echo', value: 1 }));
    await new Promise((r) => setTimeout(r, 50));
    await p.close();
    expect((await running).code).toBe('E_POOL_CLOSED');
    expect((await queued).code).toBe('E_POOL_CLOSED');
    await expect(p.run({ op: 'echo', value: 2 })).rejects.toMatchObject({ code: 'E_POOL_CLOSED' });
    await p.close(); // idempotent
  });

  it('a missing worker module rejects the task instead of hanging', async () => {
    const p = new WorkerPool(new URL('./fixtures/does-not-exist.mjs', import.meta.url), { size: 1 });
    pools.push(p);
    await expect(p.run({})).rejects.toMatchObject({ code: 'E_WORKER_CRASHED' });
  });

  it('rejects a bad size', () => {
    expect(() => new WorkerPool(entry, { size: 0 })).toThrow(/pool size/);
  });

  it('an idle pool does not keep the process alive, a busy one does', () => {
    const poolJs = pathToFileURL(fileURLToPath(new URL('../../../dist/compress/pool.js', import.meta.url))).href;
    const script = `
      const { WorkerPool } = await import(${JSON.stringify(poolJs)});
      const p = new WorkerPool(new URL(${JSON.stringify(entry.href)}));
      p.run({ op: 'echo', value: 42, delayMs: 200 }).then((r) => console.log('result', r.value));
    `;
    const { dir, cleanup } = tempDir();
    const file = join(dir, 'idle.mjs');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 20_000 });
    cleanup();
    expect(r.signal).toBeNull(); // not killed by the timeout: the idle pool let the process exit
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('result 42'); // and the in-flight task kept it alive until done
  });
});
