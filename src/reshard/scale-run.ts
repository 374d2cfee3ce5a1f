import { RctlError } from '../errors.js';
import { noEvents, type EventSink } from '../events.js';
import { applyPlan } from './apply-plan.js';
import { planDrain } from './plan-drain.js';
import { planSlots } from './plan.js';
import { planRebalance } from './plan-rebalance.js';
import type { NodeProvisioner } from '../provision/node-provisioner.js';
import { throwIfAborted } from '../util/abort.js';
import { addNode } from '../cluster/add-node.js';
import { addrKey, type NodeAddress } from '../redis/address.js';
import { checkCluster, type CheckResult } from '../cluster/check.js';
import type { AdminConnections } from '../redis/connection.js';
import { deleteNode } from '../cluster/del-node.js';
import { settledVerdict, waitUntilReady } from '../cluster/ready.js';
import { attachReplica } from '../cluster/replica-attach.js';
import { describeStep, type ScalePlan, type ScaleStep } from '../cluster/scale-plan.js';
import { takeSnapshot, type Snapshot } from '../cluster/snapshot.js';


export type { NodeProvisioner };

export interface ScaleRunOptions {
  readonly conns: AdminConnections;
  readonly password: string | undefined;
  readonly provisioner: NodeProvisioner | undefined;
  readonly signal?: AbortSignal | undefined;
  /** The cluster lease the caller holds; data moves stop if it is lost. */
  readonly lease?: { assertHeld(): void; readonly exclusive: boolean } | undefined;
  readonly onEvent?: EventSink;
  readonly pipeline?: number;
  readonly timeoutMs?: number;
  /** Most slot batches in flight at once in the rebalance and drain steps (--concurrency). */
  readonly concurrency?: number | undefined;
}

export interface ScaleRow {
  readonly step: string;
  readonly ms: number;
  readonly detail: string;
}

/**
 * Run a scale plan step by step, checking the cluster between every step (bounded wait while only
 * transient things settle, refusal on real problems). Steps look at the live cluster first and
 * skip what is already done, so re-running after an interruption converges.
 */
export async function runScalePlan(plan: ScalePlan, s0: Snapshot, o: ScaleRunOptions): Promise<{ rows: ScaleRow[]; snapshot: Snapshot; check: CheckResult }> {
  const onEvent = o.onEvent ?? noEvents;
  const rows: ScaleRow[] = [];
  const leaving = new Set(plan.steps.flatMap((st) => (st.kind === 'del-master' || st.kind === 'del-replica' ? [st.id] : [])));
  // Always read the cluster through a node that stays.
  let seed = s0.nodes.find((n) => !leaving.has(n.id))?.addr ?? s0.seed;
  const addrOf = (i: number): string => (o.provisioner ? addrKey(o.provisioner.addressOf(i)) : `#${i}`);
  const need = (): NodeProvisioner => {
    if (!o.provisioner) throw new RctlError('REFUSED', 'This step needs to start or delete nodes, which rctl can only do for clusters it created.', { hint: 'Use add-node --addr / del-node on clusters rctl did not create.' });
    return o.provisioner;
  };
  const ready = (what: string): Promise<Snapshot> => waitUntilReady(o.conns, seed, { what, signal: o.signal, timeoutMs: 60_000 });
  const nodeAt = (s: Snapshot, addr: NodeAddress) => s.nodes.find((n) => addrKey(n.addr) === addrKey(addr));

  for (const [i, st] of plan.steps.entries()) {
    throwIfAborted(o.signal);
    const name = describeStep(st, addrOf);
    onEvent({ type: 'step-start', step: name });
    const t0 = performance.now();
    const detail = await runStep(st);
    const ms = Math.round(performance.now() - t0);
    rows.push({ step: `${i + 1}. ${name}`, ms, detail });
    onEvent({ type: 'step-done', step: `${i + 1}/${plan.steps.length} ${name}`, ms, ...(detail ? { detail } : {}) });
  }
  // The verdict waits (bounded) for the last steps' gossip to reach every node, then judges.
  const verdict = await settledVerdict(o.conns, seed, { signal: o.signal });
  return { rows, snapshot: verdict.snapshot, check: verdict.check };

  async function runStep(st: ScaleStep): Promise<string> {
    switch (st.kind) {
      case 'provision': {
        await need().start(st.indexes);
        return `${st.indexes.length} node(s) answer`;
      }
      case 'add-master': {
        const s = await ready('adding a node');
        const addr = need().addressOf(st.index);
        if (nodeAt(s, addr)) return 'already a member';
        const r = await addNode(s, addr, { conns: o.conns, signal: o.signal, onEvent });
        return `id ${r.id.slice(0, 8)}`;
      }
      case 'rebalance': {
        const s = await ready('a rebalance');
        const p = planRebalance(s, { useEmptyMasters: true });
        if (planSlots(p) === 0) return 'already balanced';
        const r = await applyPlan(p, s, { conns: o.conns, password: o.password, signal: o.signal, onEvent, pipeline: o.pipeline, timeoutMs: o.timeoutMs, concurrency: o.concurrency, lease: o.lease });
        if (r.interrupted) throw new RctlError('INTERRUPTED', `Interrupted after moving ${r.slotsMoved} slot(s); no slot is open.`, { hint: 'Run the same scale command again to continue.' });
        return `${r.slotsMoved} slots, ${r.keysMoved} keys moved`;
      }
      case 'add-replica': {
        const s = await ready('adding a replica');
        const addr = need().addressOf(st.index);
        const master = nodeAt(s, need().addressOf(st.masterIndex));
        if (!master) throw new RctlError('REFUSED', `The master ${addrOf(st.masterIndex)} of this shard is not a member.`, { hint: 'Run `rctl check`.' });
        // After a failover the new node may be the master; then the replica follows whoever leads the shard.
        const leader = master.role === 'master' ? master : s.nodes.find((n) => n.id === master.self.masterId);
        if (!leader) throw new RctlError('REFUSED', `The shard of ${addrOf(st.masterIndex)} has no reachable master.`);
        const existing = nodeAt(s, addr);
        if (existing?.role === 'replica' && existing.self.masterId === leader.id) return 'already attached';
        if (existing) {
          await attachReplica(s, existing.id, leader.id, { conns: o.conns, signal: o.signal, onEvent });
          return `follows ${leader.id.slice(0, 8)}`;
        }
        await addNode(s, addr, { conns: o.conns, replicaOf: leader.id, signal: o.signal, onEvent });
        return `follows ${leader.id.slice(0, 8)}`;
      }
      case 'del-replica':
      case 'del-master': {
        const s = await ready('removing a node');
        if (!s.nodes.some((n) => n.id === st.id) && !s.unreachable.some((u) => u.id === st.id)) return 'already gone';
        await deleteNode(s, st.id, { conns: o.conns, signal: o.signal, onEvent });
        seed = (await takeSnapshot(o.conns, seed)).seed;
        return 'forgotten by every node';
      }
      case 'drain': {
        const s = await ready('draining masters');
        const present = st.masters.filter((id) => s.nodes.some((n) => n.id === id));
        if (present.length === 0) return 'nothing left to drain';
        const p = planDrain(s, { nodes: present, to: st.to });
        if (planSlots(p) === 0) return 'already empty';
        // Redis 7 turns a master that loses its last slot into a replica of the receiver, which
        // then full-syncs data it is about to be deleted with: switch that off for the leaving masters.
        await Promise.all(
          present.map((id) =>
            o.conns.run(s.nodes.find((n) => n.id === id)!.addr, (r) => r.call('CONFIG', 'SET', 'cluster-allow-replica-migration', 'no')).catch(() => undefined),
          ),
        );
        const r = await applyPlan(p, s, { conns: o.conns, password: o.password, signal: o.signal, onEvent, pipeline: o.pipeline, timeoutMs: o.timeoutMs, concurrency: o.concurrency, lease: o.lease });
        if (r.interrupted) throw new RctlError('INTERRUPTED', `Interrupted after moving ${r.slotsMoved} slot(s); no slot is open.`, { hint: 'Run the same scale command again to continue.' });
        return `${r.slotsMoved} slots, ${r.keysMoved} keys moved`;
      }
      case 'remove-nodes': {
        await need().remove(st.indexes);
        return `${st.indexes.length} removed`;
      }
      case 'check': {
        const s = await ready('the final check');
        const res = checkCluster(s);
        return res.healthy ? 'healthy' : `${res.findings.filter((f) => f.severity === 'problem').length} problem(s)`;
      }
    }
  }
}
