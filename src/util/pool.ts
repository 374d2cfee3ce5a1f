/**
 * Bounded concurrency for work fanned out over many nodes or slots.
 *
 * Default 32 in flight. Measured with `takeSnapshot` (one connection and one pipelined CLUSTER
 * NODES + CLUSTER INFO + INFO per node) on 200 redis-server processes (100 masters x 1 replica) on
 * this 2-core machine while other clusters ran on it (load average 50-75), medians of 7, fresh
 * connections each time: 8 in flight 442 ms, 16: 367 ms, 32: 474 ms, 64: 450 ms, unbounded:
 * 322 ms (CPU 140-230 ms in every case). Past ~16 the differences are noise: the client's single
 * event loop and the nodes' CPU are the limit, not round trips. The bound is for what grows with
 * the cluster: sockets being opened and their connect timers, which all start together without
 * it; under heavier load (average > 100) the earlier unbounded read of the same cluster reported
 * 124 of its 200 healthy nodes unreachable (connect timeouts).
 */
export const DEFAULT_CONCURRENCY = 32;

/**
 * `fn` over every item, at most `limit` at once; results in input order. On the first rejection no
 * new item starts, the ones in flight are awaited (never abandoned halfway: callers rely on that to
 * leave nothing half-done), then the first error is thrown.
 */
export async function mapLimit<T, R>(items: readonly T[], fn: (item: T, index: number) => Promise<R>, limit: number = DEFAULT_CONCURRENCY): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (err) {
        if (!failed) {
          failed = true;
          firstError = err;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw firstError;
  return results;
}

/** Runs the functions given to it one at a time, in call order (a mutex for async sections). */
export type Serial = <T>(fn: () => Promise<T>) => Promise<T>;

export function serial(): Serial {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };
}
