import type { LoadSummary } from '../../failover/load-generator.js';

/** A drill's write load for --json: whole milliseconds, and null (not a missing key) when nothing failed. */
export function loadJson(l: LoadSummary | undefined): Record<string, unknown> | null {
  if (!l) return null;
  const ms = (v: number | undefined): number | null => (v === undefined ? null : Math.round(v));
  return { ...l, ms: Math.round(l.ms), firstErrorMs: ms(l.firstErrorMs), lastErrorMs: ms(l.lastErrorMs) };
}

/** Times that were not observed are null in --json: JSON.stringify would drop the key instead. */
export function withNulls<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> | null } {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === undefined ? null : v])) as { [K in keyof T]: Exclude<T[K], undefined> | null };
}
