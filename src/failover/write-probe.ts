import type { NodeAddress } from '../redis/address.js';
import { keySlot } from '../cluster/keyslot.js';
import type { SlotRange } from '../cluster/slots.js';
import { userClient } from './load-generator.js';

/**
 * A key whose slot one shard owns, so the probe writes exactly where the failover happens. `prefix`
 * is the run's own (runPrefix), so the key is never a user's and is removed after the run.
 */
export function keyInRanges(ranges: readonly SlotRange[], prefix: string): string {
  for (let i = 0; i < 1_000_000; i++) {
    const key = `{${prefix}-${i}}`;
    const slot = keySlot(key);
    if (ranges.some((r) => r.start <= slot && slot <= r.end)) return key;
  }
  throw new Error('no key found for these slots');
}

export interface ProbeReport {
  readonly writes: number;
  readonly failures: number;
  /** Longest time without an acknowledged write: how long clients could not write. */
  readonly maxGapMs: number;
}

/**
 * Write one key in a loop through a cluster client (redirects followed, transient errors retried,
 * as an application would) and measure the longest stretch without an acknowledged write. Bounded
 * by `maxMs` in case nobody stops it.
 */
export function startWriteProbe(seeds: readonly NodeAddress[], key: string, password?: string, maxMs = 120_000): { stop: () => Promise<ProbeReport> } {
  const client = userClient(seeds, password);
  client.on('error', () => undefined);
  let stopping = false;
  let writes = 0;
  let failures = 0;
  let last = performance.now();
  let maxGapMs = 0;
  const t0 = last;
  const loop = (async () => {
    while (!stopping && performance.now() - t0 < maxMs) {
      try {
        await client.set(key, String(writes));
        const now = performance.now();
        maxGapMs = Math.max(maxGapMs, now - last);
        last = now;
        writes++;
      } catch {
        failures++;
      }
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await loop;
      client.disconnect();
      return { writes, failures, maxGapMs: Math.round(maxGapMs) };
    },
  };
}
