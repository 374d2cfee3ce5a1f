/**
 * Events long operations emit; views (human or JSON) render them. Operations never print.
 */
export type RctlEvent =
  | { type: 'step-start'; step: string; detail?: string }
  | { type: 'step-done'; step: string; ms: number; detail?: string }
  | { type: 'note'; message: string }
  | { type: 'warning'; message: string }
  | { type: 'progress'; step: string; done: number; total: number; unit: string; ratePerSec?: number; etaSec?: number; keys?: number; keysPerSec?: number }
  /** A long wait that has not ended yet: what it still waits for, how long so far, its bound. */
  | { type: 'waiting'; step: string; awaiting: string; elapsedMs: number; boundMs?: number };

export type EventSink = (e: RctlEvent) => void;

export const noEvents: EventSink = () => undefined;

/** Run one named step, emitting start/done with its duration. */
export async function step<T>(sink: EventSink, name: string, fn: () => Promise<T>, detail?: (v: T) => string | undefined): Promise<T> {
  sink(detail ? { type: 'step-start', step: name } : { type: 'step-start', step: name });
  const t0 = performance.now();
  const v = await fn();
  const d = detail?.(v);
  sink({ type: 'step-done', step: name, ms: Math.round(performance.now() - t0), ...(d ? { detail: d } : {}) });
  return v;
}
