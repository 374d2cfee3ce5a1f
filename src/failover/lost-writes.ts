import { waitUntil } from '../util/wait.js';
import { Redis, type Cluster } from 'ioredis';
import { addrKey, type NodeAddress } from '../redis/address.js';
import { isMyself, parseClusterNodes } from '../cluster/cluster-nodes.js';
import { keySlot } from '../cluster/keyslot.js';
import type { SlotRange } from '../cluster/slots.js';
import { RctlError } from '../errors.js';
import { sleep } from '../util/abort.js';
import { DRILL_LOAD, sentinelClient, userClient } from './load-generator.js';
import type { Readback, WriteRecord } from './lost-writes-report.js';

export type { Readback, WriteRecord } from './lost-writes-report.js';

/**
 * Where one side's writer sends its writes.
 * - `node`: a plain connection to ONE node, no redirects followed (a client stuck on the minority
 *   side: MOVED, CLUSTERDOWN, READONLY are failed writes). Keys fall in slots the node owned at
 *   start (`slots`, else read from the node's own CLUSTER NODES line).
 * - `cluster`: a cluster client as an application configures it (redirects followed, retries).
 * - `sentinel`: a Sentinel-aware client that asks the Sentinels where the master is.
 */
export type SideTarget =
  | { readonly kind: 'node'; readonly addr: NodeAddress; readonly slots?: readonly SlotRange[] }
  | { readonly kind: 'cluster'; readonly seeds: readonly NodeAddress[] }
  | { readonly kind: 'sentinel'; readonly sentinels: readonly NodeAddress[]; readonly name: string };

export interface Side {
  /** Names the side in keys and the report: letters, digits, `-`, `_`, `.`. */
  readonly label: string;
  readonly target: SideTarget;
}

export interface SideWriterOptions {
  /** The run's prefix (runPrefix): keys are `<prefix>:<side>:<n>` (node writers add a hash tag). */
  readonly prefix: string;
  readonly password?: string | undefined;
  /** Bounds per side: each writer stops at whichever comes first. */
  readonly maxWrites?: number;
  readonly maxMs: number;
  readonly maxRatePerSec?: number;
  readonly concurrency?: number;
  /** A write without a reply after this long is recorded as failed (it may still land: failedPresent). */
  readonly writeTimeoutMs?: number;
}

export interface SideWriters {
  /** ms since the writers' t0: pass it as `faultAtMs` when injecting the fault. */
  readonly now: () => number;
  /** Acknowledged writes so far, all sides. */
  readonly acknowledged: () => number;
  /** Stop every writer (in-flight writes finish or time out) and return what they recorded, by side then id. */
  readonly stop: () => Promise<WriteRecord[]>;
}

/** A writer's client: sends one SET, returns the node that acknowledged it. */
interface Sender {
  readonly set: (key: string, value: string) => Promise<string | undefined>;
  readonly close: () => void;
}

const LABEL = /^[A-Za-z0-9_.-]{1,40}$/;

/**
 * Start one bounded writer per side. Every write is unique (`<prefix>:<side>:<n>` holds
 * `v<n>`) and recorded with its send and reply times and the node that acknowledged it, so that
 * after heal a read-back can say which acknowledged writes were lost, when and by whom.
 */
export async function startSideWriters(sides: readonly Side[], o: SideWriterOptions): Promise<SideWriters> {
  const labels = new Set<string>();
  for (const s of sides) {
    if (!LABEL.test(s.label) || labels.has(s.label)) {
      throw new RctlError('INTERNAL', `Side label "${s.label}" is empty, repeated or has characters other than letters, digits, -, _, .`);
    }
    labels.add(s.label);
  }
  if (o.prefix.includes('{') || o.prefix.includes('}')) throw new RctlError('INTERNAL', `Prefix "${o.prefix}" must not contain braces (hash tags are the writer's).`);
  // Key layouts first: a node that cannot be read fails here, before any writer starts.
  const plans = await Promise.all(sides.map(async (s) => ({ side: s, keyOf: await keyLayout(s, o) })));
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const all: WriteRecord[][] = [];
  const runs = plans.map(({ side, keyOf }) => {
    const records: WriteRecord[] = [];
    all.push(records);
    return runSide(side, keyOf, senderFor(side.target, o), records, now, o);
  });
  return {
    now,
    acknowledged: () => all.reduce((a, rs) => a + rs.filter((r) => r.outcome === 'ok').length, 0),
    stop: async () => {
      await Promise.all(runs.map((r) => r.stop()));
      return all.flatMap((rs) => [...rs].sort((a, b) => a.id - b.id));
    },
  };
}

function runSide(side: Side, keyOf: (n: number) => string, sender: Sender, records: WriteRecord[], now: () => number, o: SideWriterOptions): { stop: () => Promise<void> } {
  const maxWrites = o.maxWrites ?? DRILL_LOAD.maxWrites;
  const rate = o.maxRatePerSec ?? DRILL_LOAD.maxRatePerSec;
  const timeoutMs = o.writeTimeoutMs ?? 2000;
  const interval = rate > 0 ? 1000 / rate : 0;
  let attempted = 0;
  let stopping = false;
  let nextAt = now();
  // Same pacing as startLoad: each write takes the next slot of a fixed grid, no catch-up bursts.
  const pace = async (): Promise<void> => {
    if (!interval) return;
    const t = now();
    const at = Math.max(nextAt, t);
    nextAt = at + interval;
    if (at - t >= 1) await sleep(at - t);
  };
  const worker = async (): Promise<void> => {
    while (!stopping && attempted < maxWrites && now() < o.maxMs) {
      await pace();
      if (stopping || attempted >= maxWrites) break;
      const id = attempted++;
      const key = keyOf(id);
      const value = `v${id}`;
      const sentMs = now();
      try {
        const node = await withTimeout(sender.set(key, value), timeoutMs);
        records.push({ side: side.label, id, key, value, sentMs: round(sentMs), doneMs: round(now()), outcome: 'ok', ...(node ? { node } : {}) });
      } catch (err) {
        const error = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 120);
        records.push({ side: side.label, id, key, value, sentMs: round(sentMs), doneMs: round(now()), outcome: 'error', error });
      }
    }
  };
  const done = Promise.all(Array.from({ length: o.concurrency ?? DRILL_LOAD.concurrency }, worker)).finally(() => sender.close());
  return {
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

/** Key of write n for a side. Node writers cycle through hash tags of the slots their node owns. */
async function keyLayout(side: Side, o: SideWriterOptions): Promise<(n: number) => string> {
  const base = `${o.prefix}:${side.label}`;
  if (side.target.kind !== 'node') return (n) => `${base}:${n}`;
  const ranges = side.target.slots ?? (await ownedSlots(side.target.addr, o.password));
  if (ranges.length === 0) throw new RctlError('REFUSED', `${addrKey(side.target.addr)} owns no slots: a node writer needs a master with slots.`, { hint: 'Point the node writer at a master.' });
  const tags = tagsForRanges(ranges);
  return (n) => `${base}:${n}{${tags[n % tags.length]}}`;
}

/**
 * One hash tag per owned range (at most `max`, spread over the ranges), so the node writer's keys
 * all land in slots that node owns and cover its ranges rather than one slot. Pure.
 */
export function tagsForRanges(ranges: readonly SlotRange[], max = 64): string[] {
  const step = Math.max(1, Math.ceil(ranges.length / max));
  const wanted = ranges.filter((_, i) => i % step === 0);
  const tags: (string | undefined)[] = wanted.map(() => undefined);
  let left = wanted.length;
  // ~16384 tries find a tag for a one-slot range; the bound only guards against a bug.
  for (let i = 0; left > 0 && i < 2_000_000; i++) {
    const tag = `t${i}`;
    const slot = keySlot(`{${tag}}`);
    const at = wanted.findIndex((r, j) => tags[j] === undefined && r.start <= slot && slot <= r.end);
    if (at >= 0) {
      tags[at] = tag;
      left--;
    }
  }
  if (left > 0) throw new RctlError('INTERNAL', 'No hash tag found for some slot ranges.');
  return tags as string[];
}

async function ownedSlots(addr: NodeAddress, password: string | undefined): Promise<readonly SlotRange[]> {
  const r = new Redis({ host: addr.host, port: addr.port, ...(password ? { password } : {}), connectTimeout: 1000, maxRetriesPerRequest: 1, lazyConnect: true });
  r.on('error', () => undefined);
  try {
    await r.connect();
    const text = (await r.call('CLUSTER', 'NODES')) as string;
    return parseClusterNodes(text).find(isMyself)?.slots ?? [];
  } catch (err) {
    throw new RctlError('UNREACHABLE', `Could not read the slots of ${addrKey(addr)}: ${err instanceof Error ? err.message : String(err)}`, { hint: 'Check that the node is up.' });
  } finally {
    r.disconnect();
  }
}

function senderFor(t: SideTarget, o: SideWriterOptions): Sender {
  if (t.kind === 'node') {
    const r = new Redis({
      host: t.addr.host,
      port: t.addr.port,
      ...(o.password ? { password: o.password } : {}),
      connectTimeout: 1000,
      // No resend: a write the node refused or never answered is a failed write, as the brief's
      // "client stuck on one node" sees it.
      maxRetriesPerRequest: 0,
      retryStrategy: (times: number) => Math.min(50 * times, 500),
    });
    r.on('error', () => undefined);
    const node = addrKey(t.addr);
    return { set: async (k, v) => (await r.set(k, v), node), close: () => r.disconnect() };
  }
  if (t.kind === 'cluster') {
    const c = userClient(t.seeds, o.password);
    c.on('error', () => undefined);
    return { set: async (k, v) => (await c.set(k, v), slotOwner(c, k)), close: () => c.disconnect() };
  }
  const s = sentinelClient(t.sentinels, t.name, o.password);
  s.on('error', () => undefined);
  return { set: async (k, v) => (await s.set(k, v), streamPeer(s)), close: () => s.disconnect() };
}

/** The node a cluster client routes the key's slot to now (its slot map, updated on MOVED). */
function slotOwner(c: Cluster, key: string): string | undefined {
  return c.slots[keySlot(key)]?.[0];
}

/** The node a (Sentinel-aware) client's connection is open to. */
function streamPeer(r: Redis): string | undefined {
  const s = r.stream as { remoteAddress?: string; remotePort?: number } | undefined;
  return s?.remoteAddress && s.remotePort ? addrKey({ host: s.remoteAddress.replace(/^::ffff:/, ''), port: s.remotePort }) : undefined;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no reply within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Where to read back: the cluster (a cluster client) or a Sentinel group's master. */
export type ReadbackReach = { readonly seeds: readonly NodeAddress[]; readonly password?: string | undefined } | { readonly sentinels: readonly NodeAddress[]; readonly name: string; readonly password?: string | undefined };

/**
 * Read every recorded key back (after heal and settle), in chunks, bounded: a read-back that hangs
 * is an error, not a silent stall. Keys that errored are left out of the map (`unread` in the report).
 */
export async function readBack(records: readonly WriteRecord[], reach: ReadbackReach, o: { timeoutMs?: number } = {}): Promise<Readback> {
  const out = new Map<string, string | null>();
  if (records.length === 0) return out;
  const client = 'sentinels' in reach ? sentinelClient(reach.sentinels, reach.name, reach.password) : userClient(reach.seeds, reach.password);
  client.on('error', () => undefined);
  const deadline = performance.now() + (o.timeoutMs ?? 60_000);
  const keys = [...new Set(records.map((r) => r.key))];
  try {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error('deadline');
      const vals = await withTimeout(Promise.all(chunk.map((k) => client.get(k).then((v) => ({ v }), () => undefined))), left);
      vals.forEach((r, j) => {
        if (r) out.set(chunk[j]!, r.v);
      });
    }
  } catch {
    throw new RctlError('TIMEOUT', `Reading back ${keys.length} written keys did not finish within ${Math.round((o.timeoutMs ?? 60_000) / 1000)} s (client status ${client.status}).`, { hint: 'Run `rctl check`: the cluster may not have settled.' });
  } finally {
    client.disconnect();
  }
  return out;
}

/** Bounded wait until some writer had a write acknowledged: the cut must not come before any write. */
export async function waitFirstAcks(w: SideWriters, signal: AbortSignal | undefined): Promise<void> {
  await waitUntil("the writers' first acknowledged writes", async () => (w.acknowledged() > 0 ? { done: true, value: undefined } : { done: false, reason: 'no write acknowledged yet' }), {
    timeoutMs: 10_000,
    intervalMs: 20,
    signal,
  });
}
