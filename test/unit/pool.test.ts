import { describe, expect, it } from 'vitest';
import { DEFAULT_CONCURRENCY, mapLimit, serial } from '../../src/util/pool.js';

/** A promise resolved from outside, to control the order in which work finishes. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((res) => setImmediate(res));

describe('mapLimit', () => {
  it('returns results in input order, whatever order they finish in', async () => {
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const p = mapLimit([0, 1, 2, 3], async (x, i) => {
      await gates[i]!.promise;
      return x * 10;
    }, 4);
    for (const i of [3, 1, 0, 2]) {
      gates[i]!.resolve();
      await tick();
    }
    expect(await p).toEqual([0, 10, 20, 30]);
  });

  it('never runs more than `limit` at once, and starts the next one as soon as one ends', async () => {
    const gates = Array.from({ length: 10 }, () => deferred());
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const p = mapLimit(gates, async (g, i) => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      await g.promise;
      running--;
      return i;
    }, 3);
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[1]!.resolve();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const g of gates) g.resolve();
    expect(await p).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
  });

  it('uses the default bound when none is given', async () => {
    let running = 0;
    let peak = 0;
    const items = Array.from({ length: DEFAULT_CONCURRENCY * 3 }, (_, i) => i);
    await mapLimit(items, async () => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      running--;
    });
    expect(peak).toBe(DEFAULT_CONCURRENCY);
  });

  it('on the first error starts nothing new, waits for the ones in flight, then throws that error', async () => {
    const gates = Array.from({ length: 6 }, () => deferred());
    const started: number[] = [];
    const finished: number[] = [];
    const p = mapLimit(gates, async (g, i) => {
      started.push(i);
      await g.promise;
      finished.push(i);
    }, 2);
    const outcome = p.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await tick();
    gates[0]!.reject(new Error('first'));
    await tick();
    // Item 0 failed: item 2 must not start; item 1 is still in flight and is awaited.
    expect(started).toEqual([0, 1]);
    let settled = false;
    void outcome.then(() => (settled = true));
    await tick();
    expect(settled).toBe(false);
    gates[1]!.reject(new Error('second'));
    const err = await outcome;
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('first');
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([]);
  });

  it('handles no items and refuses a bound below 1', async () => {
    expect(await mapLimit([], async () => 1)).toEqual([]);
    await expect(mapLimit([1], async (x) => x, 0)).rejects.toThrow(/positive integer/);
  });
});

describe('serial', () => {
  it('runs sections one at a time in call order, and an error does not block the next', async () => {
    const run = serial();
    const log: string[] = [];
    const a = deferred();
    const first = run(async () => {
      log.push('a start');
      await a.promise;
      log.push('a end');
      throw new Error('a failed');
    });
    const second = run(async () => {
      log.push('b');
      return 2;
    });
    await tick();
    expect(log).toEqual(['a start']);
    a.resolve();
    await expect(first).rejects.toThrow('a failed');
    expect(await second).toBe(2);
    expect(log).toEqual(['a start', 'a end', 'b']);
  });
});
