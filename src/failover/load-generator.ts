import { Cluster, Redis } from 'ioredis';
import type { NodeAddress } from '../redis/address.js';
import { RctlError } from '../errors.js';
import { sleep } from '../util/abort.js';
import { waitUntil } from '../util/wait.js';

export interface LoadOptions {
  readonly seeds: readonly NodeAddress[];
  readonly password?: string | undefined;
  /** Keys are `<prefix>:<n>`, unique per write, so every acknowledged write can be checked later. */
  readonly prefix: string;
  /** Hard bounds: the loop stops at whichever comes first. */
  readonly maxWrites: number;
  readonly maxMs: number;
  /** Parallel requests in flight. */
  readonly concurrency?: number;
  /**
   * Writes per second at most (paced, no bursts after a stall). Drills only need a steady stream
   * across the fault to measure loss; unpaced, a Sentinel drill once wrote 551k keys (61 MB).
   */
  readonly maxRatePerSec?: number;
  /** One read of an already acknowledged key per `readEvery` writes (0: no reads). */
  readonly readEvery?: number;
  /** Talk to a Sentinel-monitored master (a Sentinel-aware client) instead of a cluster. */
  readonly sentinel?: { readonly sentinels: readonly NodeAddress[]; readonly name: string };
}

/**
 * Bounds of a drill's writer: 2000 writes/s is enough to see which writes around the fault were
 * lost (about 2 per millisecond of replication lag), and 100k keys (~10 MB) caps a long drill.
 */
export const DRILL_LOAD = { maxRatePerSec: 2000, maxWrites: 100_000, concurrency: 8 } as const;

export interface LoadReport {
  readonly attempted: number;
  readonly acknowledged: number;
  readonly failed: number;
  readonly reads: number;
  /** A read of an acknowledged key that returned another value or nothing. */
  readonly readMismatches: number;
  /** Errors that reached the application after ioredis' own retries (MOVED/ASK/TRYAGAIN/CLUSTERDOWN), by message. */
  readonly errors: Readonly<Record<string, number>>;
  /** First and last failure times (ms since start), for "how long clients could not write". */
  readonly firstErrorMs: number | undefined;
  readonly lastErrorMs: number | undefined;
  readonly ms: number;
  /** Numbers of the acknowledged writes (key `<prefix>:<n>` holds `v<n>`). */
  readonly acknowledgedIds: readonly number[];
  /** Numbers of the writes whose client saw an error (some may have landed all the same). */
  readonly failedIds: readonly number[];
}

/** What a drill reports of its load: the counts, what was lost, and what landed despite an error. */
export type LoadSummary = Omit<LoadReport, 'acknowledgedIds' | 'failedIds'> & {
  /** Acknowledged writes not readable afterwards. */
  readonly lost: number;
  /** Writes the client saw fail that are readable afterwards (e.g. a reset after the master executed it). */
  readonly failedPresent: number;
};

/** Read back every write of a load run: how many acknowledged ones are lost, how many failed ones landed. */
export async function summarizeLoad(r: LoadReport, prefix: string, reach: { seeds: readonly NodeAddress[]; password?: string | undefined; sentinel?: { sentinels: readonly NodeAddress[]; name: string } }): Promise<LoadSummary> {
  const { acknowledgedIds, failedIds, ...counts } = r;
  const ackedReadable = await countReadable(reach.seeds, prefix, acknowledgedIds, reach.password, reach.sentinel);
  const failedPresent = await countReadable(reach.seeds, prefix, failedIds, reach.password, reach.sentinel);
  return { ...counts, lost: acknowledgedIds.length - ackedReadable, failedPresent };
}

/** A Sentinel-aware client as an application would configure it: asks the Sentinels where the master is. */
export function sentinelClient(sentinels: readonly NodeAddress[], name: string, password?: string): Redis {
  return new Redis({
    sentinels: sentinels.map((s) => ({ host: s.host, port: s.port })),
    name,
    ...(password ? { password } : {}),
    connectTimeout: 1000,
    maxRetriesPerRequest: 3,
    sentinelRetryStrategy: (times: number) => Math.min(100 * times, 1000),
    retryStrategy: (times: number) => Math.min(50 * times, 500),
    // After a failover the connection may still be open to the old master, now a replica: every write
    // gets READONLY and nothing makes the client ask the Sentinels again. Reconnecting (which asks them
    // for the master) and resending the write is what ioredis recommends for failovers (2 = resend).
    reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 2 : false),
  });
}

/** A cluster client as an application would configure it: redirects followed, transient errors retried. */
export function userClient(seeds: readonly NodeAddress[], password?: string): Cluster {
  return new Cluster([...seeds], {
    redisOptions: { ...(password ? { password } : {}), connectTimeout: 1000, maxRetriesPerRequest: 3 },
    clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
    retryDelayOnMoved: 0,
    retryDelayOnTryAgain: 50,
    retryDelayOnClusterDown: 100,
    retryDelayOnFailover: 100,
    maxRedirections: 32,
    slotsRefreshTimeout: 1000,
  });
}

/**
 * A bounded writer/reader through the cluster client: unique keys, every acknowledgement
 * recorded. It never runs unbounded: `maxWrites` and `maxMs` both cap it.
 */
export function startLoad(o: LoadOptions): { stop: () => Promise<LoadReport>; done: Promise<LoadReport>; acknowledged: () => number } {
  const client = o.sentinel ? sentinelClient(o.sentinel.sentinels, o.sentinel.name, o.password) : userClient(o.seeds, o.password);
  client.on('error', () => undefined);
  const t0 = performance.now();
  const errors: Record<string, number> = {};
  const acked: number[] = [];
  const failedIds: number[] = [];
  let attempted = 0;
  let failed = 0;
  let reads = 0;
  let readMismatches = 0;
  let firstErrorMs: number | undefined;
  let lastErrorMs: number | undefined;
  let stopping = false;
  const interval = o.maxRatePerSec ? 1000 / o.maxRatePerSec : 0;
  let nextAt = t0;
  // Each write takes the next free slot on a fixed grid; a worker that stalled does not catch up in a burst.
  const pace = async (): Promise<void> => {
    if (!interval) return;
    const now = performance.now();
    const at = Math.max(nextAt, now);
    nextAt = at + interval;
    if (at - now >= 1) await sleep(at - now);
  };
  const noteError = (err: unknown): void => {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 120);
    errors[msg] = (errors[msg] ?? 0) + 1;
    const at = performance.now() - t0;
    firstErrorMs ??= at;
    lastErrorMs = at;
  };
  const worker = async (): Promise<void> => {
    while (!stopping && attempted < o.maxWrites && performance.now() - t0 < o.maxMs) {
      await pace();
      if (stopping || attempted >= o.maxWrites) break;
      const n = attempted++;
      try {
        await client.set(`${o.prefix}:${n}`, `v${n}`);
        acked.push(n);
      } catch (err) {
        failed++;
        failedIds.push(n);
        noteError(err);
      }
      if (o.readEvery && n % o.readEvery === 0 && acked.length > 0) {
        const k = acked[Math.floor(Math.random() * acked.length)]!;
        reads++;
        try {
          if ((await client.get(`${o.prefix}:${k}`)) !== `v${k}`) readMismatches++;
        } catch (err) {
          noteError(err);
        }
      }
    }
  };
  const done = Promise.all(Array.from({ length: o.concurrency ?? 8 }, worker)).then(() => {
    client.disconnect();
    return {
      attempted,
      acknowledged: acked.length,
      failed,
      reads,
      readMismatches,
      errors,
      firstErrorMs,
      lastErrorMs,
      ms: Math.round(performance.now() - t0),
      acknowledgedIds: acked,
      failedIds,
    };
  });
  return {
    done,
    acknowledged: () => acked.length,
    stop: async () => {
      stopping = true;
      return done;
    },
  };
}

/** Every key a load run may have written: `<prefix>:0..attempted-1` (a failed write may still have landed). */
export function loadKeys(prefix: string, r: Pick<LoadReport, 'attempted'>): string[] {
  return Array.from({ length: r.attempted }, (_, n) => `${prefix}:${n}`);
}

/** Acknowledged writes that are not readable (with their value) now: the writes lost. */
export async function countLost(seeds: readonly NodeAddress[], prefix: string, ids: readonly number[], password?: string, sentinel?: { sentinels: readonly NodeAddress[]; name: string }): Promise<number> {
  return ids.length - (await countReadable(seeds, prefix, ids, password, sentinel));
}

/** Writes `<prefix>:<n>` that are readable with their value `v<n>` now. */
async function countReadable(seeds: readonly NodeAddress[], prefix: string, ids: readonly number[], password?: string, sentinel?: { sentinels: readonly NodeAddress[]; name: string }): Promise<number> {
  if (ids.length === 0) return 0;
  const client = sentinel ? sentinelClient(sentinel.sentinels, sentinel.name, password) : userClient(seeds, password);
  client.on('error', () => undefined);
  let readable = 0;
  try {
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      // Bounded: a read-back that hangs is an error, not a silent stall.
      let timer: NodeJS.Timeout | undefined;
      const vals = await Promise.race([
        Promise.all(chunk.map((n) => client.get(`${prefix}:${n}`))),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RctlError('TIMEOUT', `Reading back acknowledged writes (${prefix}) did not finish within 30 s (cluster client status ${client.status}).`)), 30_000);
        }),
      ]).finally(() => clearTimeout(timer));
      vals.forEach((v, j) => {
        if (v === `v${chunk[j]}`) readable++;
      });
    }
  } finally {
    client.disconnect();
  }
  return readable;
}

/** Before a fault: the writer must be in full flow (100 acknowledged writes), or there is nothing to measure. */
export async function waitForFirstWrites(load: { acknowledged: () => number }, o: { signal?: AbortSignal | undefined; hint: string }): Promise<void> {
  await waitUntil('the load to get its first writes acknowledged', async () => (load.acknowledged() >= 100 ? { done: true, value: undefined } : { done: false, reason: `${load.acknowledged()} acknowledged` }), {
    timeoutMs: 10_000,
    intervalMs: 10,
    signal: o.signal,
    hint: o.hint,
  });
}
