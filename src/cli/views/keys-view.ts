import type { KeyTally } from '../../failover/drill-keys.js';

/** One line on what a drill did to the keyspace: written, removed, kept, and the prefix they share. */
export function keysLine(t: KeyTally): string {
  const counts = `${t.written} written, ${t.removed} removed, ${t.kept} kept`;
  if (t.error) return `Keys: ${counts}; cleanup did not finish (${t.error}): up to ${t.kept} key(s) matching ${t.prefix}:* may remain.`;
  if (t.kept > 0) return `Keys: ${counts} (--keep-keys): they all match ${t.prefix}:*.`;
  return `Keys: ${counts}: the drill left no key behind.`;
}

export function keysJson(t: KeyTally): Record<string, unknown> {
  return { prefix: t.prefix, written: t.written, removed: t.removed, kept: t.kept, ...(t.error ? { error: t.error } : {}) };
}
