import { describe, expect, it } from 'vitest';
import { BuildQueue, HttpError } from '../../../src/factory/index.js';

function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

describe('build queue', () => {
  it('runs at most maxConcurrency tasks, queues up to queueLimit in order, refuses beyond with 503', async () => {
    const q = new BuildQueue(2, 2);
    const order: string[] = [];
    const gates = Array.from({ length: 4 }, gate);
    const runs = gates.map((g, i) => q.run(async () => {
      order.push(`start${i}`);
      await g.p;
      order.push(`end${i}`);
    }));
    await new Promise((r) => setTimeout(r, 5));
    expect([q.active, q.queued, q.full]).toEqual([2, 2, true]);
    const refused = await q.run(async () => 'never').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HttpError);
    expect([(refused as HttpError).status, (refused as HttpError).body]).toEqual([503, 'service temporarily unavailable']);
    gates[1]!.open();
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual(['start0', 'start1', 'end1', 'start2']);
    for (const g of gates) g.open();
    await Promise.all(runs);
    expect([q.active, q.queued]).toEqual([0, 0]);
    expect(order.filter((x) => x.startsWith('start'))).toEqual(['start0', 'start1', 'start2', 'start3']);
  });

  it('a failing task frees its slot; an abort while queued removes the waiter', async () => {
    const q = new BuildQueue(1, 5);
    const g = gate();
    const first = q.run(async () => {
      await g.p;
      throw new Error('boom');
    });
    const ac = new AbortController();
    const waiting = q.run(async () => 'ran', ac.signal);
    await new Promise((r) => setTimeout(r, 5));
    expect(q.queued).toBe(1);
    ac.abort('shutdown');
    await expect(waiting).rejects.toMatchObject({ status: 503 });
    expect(q.queued).toBe(0);
    g.open();
    await expect(first).rejects.toThrow('boom');
    expect(await q.run(async () => 'next')).toBe('next');
    expect(q.active).toBe(0);
  });
});
