import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { resolveNodeRef } from '../cluster/node-ref.js';
import { nodeById, readNode, takeSnapshot, type NodeState, type Snapshot } from '../cluster/snapshot.js';
import { RctlError, messageOf } from '../errors.js';
import { noEvents, step, type EventSink } from '../events.js';
import { waitUntil } from '../util/wait.js';
import { clusterRouter, removeKeys, runPrefix, type KeyTally } from './drill-keys.js';
import { reportingProbe } from './progress.js';
import { keyInRanges, startWriteProbe, type ProbeReport } from './write-probe.js';

export type FailoverMode = 'coordinated' | 'force' | 'takeover';

export interface FailoverResult {
  readonly newMaster: string;
  readonly oldMaster: string;
  readonly mode: FailoverMode;
  /** From CLUSTER FAILOVER to "every node agrees, cluster_state ok". */
  readonly ms: number;
  /** Writes to the shard during the switch (when probed). */
  readonly probe: ProbeReport | undefined;
  /** The probe's key, removed afterwards (when probed). */
  readonly keys: KeyTally | undefined;
  readonly snapshot: Snapshot;
}

export interface FailoverOptions {
  conns: AdminConnections;
  mode?: FailoverMode;
  probe?: boolean;
  password?: string | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: EventSink;
  /** Bound for the promotion; default scaled to cluster-node-timeout (see promotionBoundMs). */
  timeoutMs?: number;
  /** How the user named the cluster (`--name x`), for commands suggested in hints. */
  target?: string | undefined;
}

/**
 * Masters refuse to vote for a shard again within 2 x cluster-node-timeout of their last vote about
 * it (cluster.c clusterSendFailoverAuthIfNeeded: "can't vote about this master before ..."), and a
 * manual failover that wins no election gives up after 5 s (CLUSTER_MF_TIMEOUT). A promotion right
 * after a drill or another failover of the shard must outlast both, so the bound scales with the
 * node-timeout instead of being a fixed 30 s that a 15 s node-timeout (30 s cooldown) cannot meet.
 */
export function promotionBoundMs(nodeTimeoutMs: number): number {
  return Math.max(30_000, 2 * nodeTimeoutMs + 15_000);
}

/** cluster-node-timeout as `addr` has it (ms); Redis' default 15000 if it cannot be read. */
export async function nodeTimeoutMsOf(conns: AdminConnections, addr: NodeAddress): Promise<number> {
  try {
    const n = Number(((await conns.run(addr, (r) => r.call('CONFIG', 'GET', 'cluster-node-timeout'))) as string[])[1]);
    return Number.isFinite(n) && n > 0 ? n : 15_000;
  } catch {
    return 15_000;
  }
}

/**
 * Promote a replica with CLUSTER FAILOVER: coordinated by default (the master stops writes until
 * the replica has caught up, so no acknowledged write is lost), FORCE when the master is
 * unreachable, TAKEOVER when no majority of masters can vote. Waits (bounded) until every node
 * names the replica as master and the old master, if it answers, follows it. The probe's key is
 * unique to the run and removed afterwards, whatever happened.
 */
export async function failover(s: Snapshot, replicaRef: string, o: FailoverOptions): Promise<FailoverResult> {
  const onEvent = o.onEvent ?? noEvents;
  const mode = o.mode ?? 'coordinated';
  const replica = resolveNodeRef(s, replicaRef, 'REPLICA');
  if (replica.role !== 'replica') {
    throw new RctlError('REFUSED', `${addrKey(replica.addr)} is already a master.`, { hint: 'Name one of its replicas (`rctl info` lists them) to move the master role there.' });
  }
  const oldId = replica.self.masterId!;
  const old = nodeById(s, oldId);
  const retry = (flag: string): string => `\`rctl failover ${addrKey(replica.addr)} ${flag}${o.target ? ` ${o.target}` : ''}\``;
  if (mode === 'coordinated' && !old) {
    throw new RctlError('REFUSED', `The master of ${addrKey(replica.addr)} cannot be reached, so a coordinated failover is impossible.`, { hint: `Use ${retry('--force')} (or --takeover if most masters are down too).` });
  }
  const nodeTimeoutMs = await nodeTimeoutMsOf(o.conns, replica.addr);
  const boundMs = o.timeoutMs ?? promotionBoundMs(nodeTimeoutMs);
  if (mode === 'coordinated') await waitPromotable(o.conns, s, replica, oldId, { timeoutMs: boundMs, signal: o.signal, onEvent, forceHint: retry('--force') });
  const probeKey = o.probe && old ? keyInRanges(old.self.slots, runPrefix('probe')) : undefined;
  const seeds = [replica.addr, ...s.nodes.map((n) => n.addr)];
  const probe = probeKey ? startWriteProbe(seeds, probeKey, o.password, 2 * boundMs + 30_000) : undefined;
  const t0 = performance.now();
  let report: ProbeReport | undefined;
  let keys: KeyTally | undefined;
  try {
    await step(onEvent, `CLUSTER FAILOVER${mode === 'coordinated' ? '' : ` ${mode.toUpperCase()}`} on ${addrKey(replica.addr)}`, () =>
      promote(o.conns, replica, mode, { timeoutMs: boundMs, nodeTimeoutMs, signal: o.signal, onEvent, takeoverHint: retry('--takeover') }),
    );
    await step(onEvent, 'wait until every node names the new master and the old one follows it', () => waitSwitched(o.conns, s, replica, oldId, { timeoutMs: boundMs, signal: o.signal, onEvent }));
  } finally {
    report = await probe?.stop();
    // Not under the signal: after Ctrl-C the probe's key must still go.
    if (probeKey) {
      keys = await removeKeys(o.conns, probeKey, [probeKey], clusterRouter(o.conns, seeds), { keep: false, bySlot: true, timeoutMs: boundMs });
      if (keys.error) onEvent({ type: 'warning', message: `could not remove the write probe's key ${probeKey}: ${keys.error}` });
    }
  }
  return { newMaster: replica.id, oldMaster: oldId, mode, ms: Math.round(performance.now() - t0), probe: report, keys, snapshot: await takeSnapshot(o.conns, replica.addr) };
}

/**
 * Before a coordinated failover: the replica's link is up (a replica still syncing refuses, and one
 * that just rejoined after a drill may still be loading the master's data) and every node agrees
 * it is a replica of that master and that neither is failing (a master that still sees it as a
 * master, or its master as failed, refuses to vote). Waits for that, bounded, instead of failing.
 */
async function waitPromotable(conns: AdminConnections, s: Snapshot, replica: NodeState, masterId: string, o: { timeoutMs: number; signal: AbortSignal | undefined; onEvent: EventSink; forceHint: string }): Promise<void> {
  const what = `${addrKey(replica.addr)} to be synced with its master and known as its replica everywhere`;
  await waitUntil(
    what,
    reportingProbe(
      o.onEvent,
      'before CLUSTER FAILOVER',
      async () => {
        const self = await readNode(conns, replica.addr);
        if (self.self.masterId !== masterId) throw new RctlError('REFUSED', `${addrKey(replica.addr)} no longer follows ${masterId.slice(0, 8)}: the cluster changed meanwhile.`, { hint: 'Run `rctl info` and name a current replica.' });
        if (self.masterLinkStatus !== 'up') return { done: false, reason: `${addrKey(replica.addr)} has master_link_status:${self.masterLinkStatus ?? 'unknown'}` };
        for (const n of s.nodes) {
          if (n.id === replica.id) continue;
          const v = await readNode(conns, n.addr).catch(() => undefined);
          if (!v) continue;
          const r = v.view.find((l) => l.id === replica.id);
          const m = v.view.find((l) => l.id === masterId);
          if (!r || r.masterId !== masterId || r.flags.includes('master')) return { done: false, reason: `${addrKey(v.addr)} does not see it as a replica of ${masterId.slice(0, 8)} yet` };
          if (r.flags.some((f) => f.startsWith('fail')) || m?.flags.some((f) => f.startsWith('fail'))) return { done: false, reason: `${addrKey(v.addr)} still flags it or its master failing` };
        }
        return { done: true, value: undefined };
      },
      o.timeoutMs,
    ),
    { timeoutMs: o.timeoutMs, intervalMs: 50, signal: o.signal, hint: `Wait for it to sync (\`rctl check\` shows replica links), or use ${o.forceHint} to accept losing what it has not received.` },
  );
}

/**
 * Send CLUSTER FAILOVER until the replica reports itself master. A manual failover that cannot
 * win its election gives up silently after 5 s (CLUSTER_MF_TIMEOUT): typically because masters
 * refuse to vote for the same shard again within 2 x node-timeout of their last vote about it. So
 * rctl asks again until its own bound (which outlasts that cooldown) runs out, saying so.
 */
async function promote(
  conns: AdminConnections,
  replica: NodeState,
  mode: FailoverMode,
  o: { timeoutMs: number; nodeTimeoutMs: number; signal: AbortSignal | undefined; onEvent: EventSink; takeoverHint: string },
): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      await conns.run(replica.addr, (r) => (mode === 'coordinated' ? r.call('CLUSTER', 'FAILOVER') : r.call('CLUSTER', 'FAILOVER', mode.toUpperCase())));
    } catch (err) {
      throw new RctlError('REFUSED', `${addrKey(replica.addr)} refused the failover: ${messageOf(err)}`, { hint: 'Run `rctl check`; with the master down use `rctl failover <replica> --force`.' });
    }
    try {
      await waitUntil(
        `${addrKey(replica.addr)} to report itself master`,
        async () => ((await readNode(conns, replica.addr)).role === 'master' ? { done: true, value: undefined } : { done: false, reason: 'it is still a replica' }),
        { timeoutMs: Math.min(6000, Math.max(500, deadline - Date.now())), intervalMs: 20, signal: o.signal },
      );
      return;
    } catch (err) {
      if (!(err instanceof RctlError) || err.code !== 'TIMEOUT') throw err;
      if (Date.now() >= deadline) {
        throw new RctlError('TIMEOUT', `${addrKey(replica.addr)} was not promoted after ${attempts} CLUSTER FAILOVER attempt(s) in ${(o.timeoutMs / 1000).toFixed(0)} s.`, {
          hint: `Masters refuse to vote for a shard again within 2 x cluster-node-timeout (${((2 * o.nodeTimeoutMs) / 1000).toFixed(0)} s) of its last failover; run the command again later, or promote without a vote: ${o.takeoverHint}.`,
        });
      }
      o.onEvent({
        type: 'note',
        message: `attempt ${attempts}: ${addrKey(replica.addr)} won no election (masters do not vote for a shard again within 2 x cluster-node-timeout = ${((2 * o.nodeTimeoutMs) / 1000).toFixed(0)} s of its last failover); asking again, ${Math.round((deadline - Date.now()) / 1000)} s left`,
      });
    }
  }
}

/** Bounded wait: every reachable node names `promoted` as master, the old master (if it answers) follows it, state ok everywhere. */
export async function waitSwitched(conns: AdminConnections, s: Snapshot, promoted: NodeState, oldId: string, o: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined; onEvent?: EventSink }): Promise<void> {
  const step = 'wait until every node names the new master';
  await waitUntil(
    `${addrKey(promoted.addr)} to be master everywhere, with ${oldId.slice(0, 8)} following it`,
    reportingProbe(o.onEvent ?? noEvents, step, async () => {
      const views = await Promise.all(
        s.nodes.map((n) =>
          readNode(conns, n.addr).catch((err) => {
            if (n.id === oldId) return undefined; // the old master may be down (force/takeover)
            throw err;
          }),
        ),
      );
      for (const v of views) {
        if (!v) continue;
        const p = v.view.find((l) => l.id === promoted.id);
        if (!p?.flags.includes('master')) return { done: false, reason: `${addrKey(v.addr)} does not see it as master yet` };
        const old = v.view.find((l) => l.id === oldId);
        if (old && !old.flags.includes('fail') && old.masterId !== promoted.id) return { done: false, reason: `${addrKey(v.addr)} does not see the old master following it yet` };
        if (v.clusterState !== 'ok') return { done: false, reason: `${addrKey(v.addr)} reports cluster_state:${v.clusterState}` };
      }
      return { done: true, value: undefined };
    }),
    // The promotion already happened; what is left is gossip reaching every node.
    { timeoutMs: o.timeoutMs ?? 30_000, intervalMs: 20, signal: o.signal, hint: `${addrKey(promoted.addr)} is master; run \`rctl check\` to see which nodes have not learned it yet.` },
  );
}
