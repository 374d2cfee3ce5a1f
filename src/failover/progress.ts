import type { EventSink } from '../events.js';
import type { Probe } from '../util/wait.js';

/**
 * A probe for `waitUntil` that also tells the user what a long wait is still waiting for: a
 * `waiting` event when the reason changes (at most 4 a second) and at least once a second while it
 * does not, with the time waited so far and the bound.
 */
export function reportingProbe<T>(onEvent: EventSink, step: string, probe: Probe<T>, boundMs?: number): Probe<T> {
  const t0 = performance.now();
  let last: string | undefined;
  let lastAt = -Infinity;
  return async () => {
    const r = await probe();
    if (!r.done) {
      const now = performance.now();
      if (now - lastAt >= (r.reason !== last ? 250 : 1000)) {
        onEvent({ type: 'waiting', step, awaiting: r.reason, elapsedMs: Math.round(now - t0), ...(boundMs !== undefined ? { boundMs } : {}) });
        last = r.reason;
        lastAt = now;
      }
    }
    return r;
  };
}
