import { RctlError } from '../errors.js';
import { sleep, throwIfAborted } from './abort.js';

const RETRYABLE = new Set(['UNREACHABLE', 'TIMEOUT', 'LOADING']);

export interface WaitOptions {
  /** Upper bound for the whole wait. */
  timeoutMs: number;
  /** Pause between probes; short by default because rctl waits for things that settle in ~100 ms. */
  intervalMs?: number;
  signal?: AbortSignal | undefined;
  /** Added to the timeout error: what to do if it ran out. */
  hint?: string;
}

/**
 * A named, bounded wait. `probe` returns `{ done: true, value }` when the condition holds, or
 * `{ done: false, reason }` saying what is still missing; the last reason ends up in the timeout
 * error so the user learns what rctl waited for and what never happened.
 */
export type Probe<T> = () => Promise<{ done: true; value: T } | { done: false; reason: string }>;

export async function waitUntil<T>(name: string, probe: Probe<T>, opts: WaitOptions): Promise<T> {
  const interval = opts.intervalMs ?? 25;
  const deadline = Date.now() + opts.timeoutMs;
  let lastReason = 'not checked yet';
  for (;;) {
    throwIfAborted(opts.signal);
    try {
      const r = await probe();
      if (r.done) return r.value;
      if (process.env['RCTL_TRACE_WAITS'] && r.reason !== lastReason) process.stderr.write(`[wait ${name}] +${opts.timeoutMs - (deadline - Date.now())} ms: ${r.reason}\n`);
      lastReason = r.reason;
    } catch (err) {
      // Nodes that are starting, busy or loading are what waits wait for; anything else is a real error.
      if (err instanceof RctlError && !RETRYABLE.has(err.code)) throw err;
      lastReason = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) {
      // Reasons are often sentences of their own (error messages): one full stop, not two.
      throw new RctlError('TIMEOUT', `Gave up after ${(opts.timeoutMs / 1000).toFixed(1)} s waiting for ${name}: ${lastReason.replace(/\.$/, '')}.`, {
        hint: opts.hint ?? 'Run `rctl check` to see the cluster state.',
        details: { wait: name, timeoutMs: opts.timeoutMs, lastReason },
      });
    }
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), opts.signal);
  }
}
