import { randomBytes } from 'node:crypto';
import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { keySlot } from '../cluster/keyslot.js';
import { mastersOf, takeSnapshot } from '../cluster/snapshot.js';
import { messageOf } from '../errors.js';
import { waitUntil } from '../util/wait.js';

/**
 * Keys that drills, their load generator and write probes write. Every run gets a prefix of its own
 * (`rctl-drill:<12 hex>`), so removing "the run's keys" can never touch a user's key or another
 * run's. The writer knows exactly which keys it may have written (`<prefix>:0..attempted-1`), so
 * cleanup deletes those by name instead of scanning the user's keyspace.
 */
export function runPrefix(kind: 'drill' | 'sdrill' | 'probe'): string {
  return `rctl-${kind}:${randomBytes(6).toString('hex')}`;
}

/** What a run did to the keyspace. */
export interface KeyTally {
  /** Every key the run wrote starts with this. */
  readonly prefix: string;
  /** The run's keys the cluster held at the end (acknowledged writes lost in the failover are gone already). */
  readonly written: number;
  /** Deleted by rctl at the end. */
  readonly removed: number;
  /** Left in place: all of them with --keep-keys; otherwise those cleanup could not reach (an upper bound). */
  readonly kept: number;
  /** Why cleanup could not finish, if it could not. */
  readonly error?: string;
}

export const emptyTally = (prefix: string): KeyTally => ({ prefix, written: 0, removed: 0, kept: 0 });

/** Keys of one hash slot (cluster) or any keys (a single master), at most BATCH per command. */
export interface Batch {
  readonly keys: readonly string[];
  readonly slot: number | undefined;
}

/** Where each pending batch goes now: node -> batches. Batches left out cannot be routed yet (reason). */
export type Router = (pending: readonly Batch[]) => Promise<{ routes: { addr: NodeAddress; batches: Batch[] }[]; unrouted?: string }>;

// UNLINK frees memory in the background; a few hundred keys per command and a thousand commands per
// pipeline keep every round trip short (no node is blocked) while 100k keys take a few round trips.
const BATCH = 500;
const PIPELINE = 1000;

/**
 * Delete (or, with `keep`, count) `keys` through `route`, retrying what failed (a slot that just
 * moved, CLUSTERDOWN while a failover settles, a node loading) until `timeoutMs`. Never throws:
 * what could not be done is reported in the tally, because cleanup runs in `finally` blocks where an
 * error must not hide the one that got there first.
 */
export async function removeKeys(conns: AdminConnections, prefix: string, keys: readonly string[], route: Router, o: { keep: boolean; timeoutMs: number; bySlot: boolean }): Promise<KeyTally> {
  if (keys.length === 0) return emptyTally(prefix);
  let pending: Batch[] = o.bySlot ? slotBatches(keys) : chunk(keys, BATCH).map((k) => ({ keys: k, slot: undefined }));
  let counted = 0;
  try {
    await waitUntil(
      `the ${keys.length} key(s) under ${prefix} to be ${o.keep ? 'counted' : 'removed'}`,
      async () => {
        const { routes, unrouted } = await route(pending);
        const failed: Batch[] = [];
        let firstError = unrouted;
        const routed = new Set(routes.flatMap((r) => r.batches));
        failed.push(...pending.filter((b) => !routed.has(b)));
        await Promise.all(
          routes.map(async ({ addr, batches }) => {
            for (const part of chunk(batches, PIPELINE)) {
              try {
                const res = await runPipeline(conns, addr, part, o.keep);
                res.forEach(([err, n], i) => {
                  if (err) {
                    failed.push(part[i]!);
                    firstError ??= `${addrKey(addr)}: ${err.message.split('\n')[0]}`;
                  } else counted += Number(n);
                });
              } catch (err) {
                failed.push(...part);
                firstError ??= messageOf(err);
              }
            }
          }),
        );
        pending = failed;
        return pending.length === 0 ? { done: true, value: undefined } : { done: false, reason: firstError ?? `${pending.length} batch(es) left` };
      },
      { timeoutMs: o.timeoutMs, intervalMs: 100 },
    );
  } catch (err) {
    const left = pending.reduce((a, b) => a + b.keys.length, 0);
    const kept = o.keep ? counted + left : left;
    return { prefix, written: counted + left, removed: o.keep ? 0 : counted, kept, error: messageOf(err) };
  }
  return o.keep ? { prefix, written: counted, removed: 0, kept: counted } : { prefix, written: counted, removed: counted, kept: 0 };
}

async function runPipeline(conns: AdminConnections, addr: NodeAddress, batches: readonly Batch[], keep: boolean): Promise<[Error | null, unknown][]> {
  return conns.run(addr, async (r) => {
    const p = r.pipeline();
    for (const b of batches) p.call(keep ? 'EXISTS' : 'UNLINK', ...b.keys);
    return ((await p.exec()) ?? []) as [Error | null, unknown][];
  });
}

/**
 * Route by slot owner in a Redis Cluster: one UNLINK per slot (keys of several slots in one command
 * are CROSSSLOT), sent to the master that owns the slot in a fresh reading of the cluster, so a
 * failover during the drill is followed. A slot nobody serves (its master is down and not replaced
 * yet) waits for the next round.
 */
export function clusterRouter(conns: AdminConnections, seeds: readonly NodeAddress[]): Router {
  return async (pending) => {
    let lastErr: unknown;
    for (const seed of seeds) {
      try {
        const s = await takeSnapshot(conns, seed);
        // A master that was frozen or restarted may still claim its old slots until it hears of the
        // failover; Redis resolves such claims by the higher config epoch, and so does this: an
        // UNLINK accepted by a stale owner would leave the keys on the real one.
        const owner = new Map<number, { addr: NodeAddress; epoch: number }>();
        for (const m of mastersOf(s)) {
          for (const r of m.self.slots) {
            for (let slot = r.start; slot <= r.end; slot++) {
              const cur = owner.get(slot);
              if (!cur || m.self.configEpoch > cur.epoch) owner.set(slot, { addr: m.addr, epoch: m.self.configEpoch });
            }
          }
        }
        const routes = new Map<string, { addr: NodeAddress; batches: Batch[] }>();
        let unrouted: string | undefined;
        for (const b of pending) {
          const addr = owner.get(b.slot!)?.addr;
          if (!addr) {
            unrouted ??= `slot ${b.slot} has no reachable master`;
            continue;
          }
          const k = addrKey(addr);
          if (!routes.has(k)) routes.set(k, { addr, batches: [] });
          routes.get(k)!.batches.push(b);
        }
        return { routes: [...routes.values()], ...(unrouted ? { unrouted } : {}) };
      } catch (err) {
        lastErr = err;
      }
    }
    throw lastErr;
  };
}

/** Route everything to one node (a Sentinel group's master), located anew each round; `locate` throws while there is none. */
export function nodeRouter(locate: () => Promise<NodeAddress>): Router {
  return async (pending) => ({ routes: [{ addr: await locate(), batches: [...pending] }] });
}

function slotBatches(keys: readonly string[]): Batch[] {
  const bySlot = new Map<number, string[]>();
  for (const k of keys) {
    const slot = keySlot(k);
    const list = bySlot.get(slot);
    if (list) list.push(k);
    else bySlot.set(slot, [k]);
  }
  return [...bySlot].flatMap(([slot, ks]) => chunk(ks, BATCH).map((c) => ({ keys: c, slot })));
}

function chunk<T>(a: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < a.length; i += n) out.push(a.slice(i, i + n));
  return out;
}
