import { addrKey } from '../cluster/address.js';
import type { AdminConnections } from '../cluster/connection.js';
import { resolveNodeRef } from '../cluster/node-ref.js';
import { nodeById, readNode, takeSnapshot, type NodeState, type Snapshot } from '../cluster/snapshot.js';
import { RctlError, messageOf } from '../errors.js';
import { noEvents, step, type EventSink } from '../events.js';
import { waitUntil } from '../util/wait.js';
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
  readonly snapshot: Snapshot;
}

/**
 * Promote a replica with CLUSTER FAILOVER: coordinated by default (the master stops writes until
 * the replica has caught up, so no acknowledged write is lost), FORCE when the master is
 * unreachable, TAKEOVER when no majority of masters can vote. Waits (bounded) until every node
 * names the replica as master and the old master, if it answers, follows it.
 */
export async function failover(
  s: Snapshot,
  replicaRef: string,
  o: { conns: AdminConnections; mode?: FailoverMode; probe?: boolean; password?: string | undefined; signal?: AbortSignal | undefined; onEvent?: EventSink; timeoutMs?: number },
): Promise<FailoverResult> {
  const onEvent = o.onEvent ?? noEvents;
  const mode = o.mode ?? 'coordinated';
  const replica = resolveNodeRef(s, replicaRef, 'REPLICA');
  if (replica.role !== 'replica') {
    throw new RctlError('REFUSED', `${addrKey(replica.addr)} is already a master.`, { hint: 'Name one of its replicas (`rctl info` lists them) to move the master role there.' });
  }
  const oldId = replica.self.masterId!;
  const old = nodeById(s, oldId);
  if (mode === 'coordinated' && !old) {
    throw new RctlError('REFUSED', `The master of ${addrKey(replica.addr)} cannot be reached, so a coordinated failover is impossible.`, { hint: 'Use --force (or --takeover if most masters are down too).' });
  }
  if (mode === 'coordinated' && replica.masterLinkStatus !== 'up') {
    throw new RctlError('REFUSED', `${addrKey(replica.addr)} has master_link_status:${replica.masterLinkStatus}; it cannot take over without losing writes.`, { hint: 'Wait for it to sync, or use --force to accept losing what it has not received.' });
  }
  const probe = o.probe && old ? startWriteProbe([replica.addr, ...s.nodes.map((n) => n.addr)], keyInRanges(old.self.slots), o.password) : undefined;
  const t0 = performance.now();
  let report: ProbeReport | undefined;
  try {
    await step(onEvent, `CLUSTER FAILOVER${mode === 'coordinated' ? '' : ` ${mode.toUpperCase()}`} on ${addrKey(replica.addr)}`, () => promote(o.conns, replica, mode, o.timeoutMs ?? 30_000, o.signal));
    await step(onEvent, 'wait until every node names the new master and the old one follows it', () => waitSwitched(o.conns, s, replica, oldId, { timeoutMs: o.timeoutMs, signal: o.signal }));
  } finally {
    report = await probe?.stop();
  }
  return { newMaster: replica.id, oldMaster: oldId, mode, ms: Math.round(performance.now() - t0), probe: report, snapshot: await takeSnapshot(o.conns, replica.addr) };
}

/**
 * Send CLUSTER FAILOVER until the replica reports itself master. A manual failover that cannot
 * win its election gives up silently after 5 s (CLUSTER_MF_TIMEOUT): typically because masters
 * refuse to vote for the same shard again within 2 x node-timeout of its last failover. So rctl
 * asks again until its own bound runs out, instead of waiting forever for nothing.
 */
async function promote(conns: AdminConnections, replica: NodeState, mode: FailoverMode, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      await conns.run(replica.addr, (r) => (mode === 'coordinated' ? r.call('CLUSTER', 'FAILOVER') : r.call('CLUSTER', 'FAILOVER', mode.toUpperCase())));
    } catch (err) {
      throw new RctlError('REFUSED', `${addrKey(replica.addr)} refused the failover: ${messageOf(err)}`, { hint: 'Run `rctl check`; with the master down use --force.' });
    }
    try {
      await waitUntil(
        `${addrKey(replica.addr)} to report itself master`,
        async () => ((await readNode(conns, replica.addr)).role === 'master' ? { done: true, value: undefined } : { done: false, reason: 'it is still a replica' }),
        { timeoutMs: Math.min(6000, Math.max(500, deadline - Date.now())), intervalMs: 20, signal },
      );
      return;
    } catch (err) {
      if (!(err instanceof RctlError) || err.code !== 'TIMEOUT') throw err;
      if (Date.now() >= deadline) {
        throw new RctlError('TIMEOUT', `${addrKey(replica.addr)} was not promoted after ${attempts} CLUSTER FAILOVER attempt(s) in ${(timeoutMs / 1000).toFixed(0)} s.`, {
          hint: 'Masters refuse to vote for a shard again within 2 x cluster-node-timeout of its last failover; wait and retry, or use --takeover (no vote).',
        });
      }
    }
  }
}

/** Bounded wait: every reachable node names `promoted` as master, the old master (if it answers) follows it, state ok everywhere. */
export async function waitSwitched(conns: AdminConnections, s: Snapshot, promoted: NodeState, oldId: string, o: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined }): Promise<void> {
  await waitUntil(
    `${addrKey(promoted.addr)} to be master everywhere, with ${oldId.slice(0, 8)} following it`,
    async () => {
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
    },
    { timeoutMs: o.timeoutMs ?? 30_000, intervalMs: 20, signal: o.signal, hint: 'A coordinated failover gives up after 5 s if the master does not cooperate; try --force.' },
  );
}
