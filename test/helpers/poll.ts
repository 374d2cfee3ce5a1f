/**
 * Bounded polling of a real condition, instead of sleeping "long enough": read `probe` until
 * `accept` holds or `timeoutMs` runs out, and return the last reading either way, so the caller's
 * exact assertion on it fails with what was actually seen.
 */
export async function pollUntil<T>(probe: () => Promise<T>, accept: (v: T) => boolean, o: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 15_000);
  for (;;) {
    const v = await probe();
    if (accept(v) || Date.now() >= deadline) return v;
    await new Promise((res) => setTimeout(res, o.intervalMs ?? 100));
  }
}

/** Like pollUntil, for conditions without a value worth asserting: throws naming `what` when it never held. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, o: { timeoutMs?: number; intervalMs?: number } = {}): Promise<void> {
  const ok = await pollUntil(async () => cond(), (v) => v, o);
  if (!ok) throw new Error(`timed out after ${o.timeoutMs ?? 15_000} ms waiting for ${what}`);
}
