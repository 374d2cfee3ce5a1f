import { checkCluster, type CheckResult } from '../cluster/check.js';
import { resolveNodeRef } from '../cluster/node-ref.js';
import { settleBoundMs, waitUntilReady } from '../cluster/ready.js';
import { readWriteSafety } from '../cluster/write-safety.js';
import { mastersOf, readNode, replicasOf, takeSnapshot, type NodeState, type Snapshot } from '../cluster/snapshot.js';
import { RctlError, usageError } from '../errors.js';
import { noEvents, step, type EventSink } from '../events.js';
import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { sleep, throwIfAborted } from '../util/abort.js';
import { waitUntil } from '../util/wait.js';
import { clusterRouter, emptyTally, removeKeys, runPrefix, type KeyTally } from './drill-keys.js';
import { agrees, predictLoss, type Agreement, type Prediction } from './loss-prediction.js';
import { type LostWriteReport, summarizeLostWrites } from './lost-writes-report.js';
import { readBack, startSideWriters, waitFirstAcks, type Side, type SideWriters } from './lost-writes.js';
import { nodeTimeoutMsOf } from './manual-failover.js';
import { partition, type PartitionHandle } from './partition.js';
import { planPartition, type PartitionMode, type PartitionNode } from './partition-plan.js';

/** What to cut off: a master (with a synced replica), a replica, or named nodes (id, prefix, host:port). */
export type IsolateSpec = 'master' | 'replica' | readonly string[];

export interface PartitionDrillOptions {
  readonly conns: AdminConnections;
  readonly password: string | undefined;
  /** Names the rules' chain (rctl heal --name <cluster> removes them). */
  readonly cluster: string;
  readonly isolate: IsolateSpec;
  /** full (default): every packet between the sides; bus-only: clients and replication still pass. */
  readonly mode?: PartitionMode;
  /** How long the cut lasts. */
  readonly durationMs: number;
  /** A bounded writer on each side, and the lost-write report. */
  readonly load: boolean;
  readonly keepKeys?: boolean;
  readonly signal?: AbortSignal | undefined;
  readonly onEvent?: EventSink;
}

export interface PartitionTimeline {
  /** ms after the cut: a majority-side node first flagged an isolated node PFAIL / FAIL. */
  readonly pfailMs: number | undefined;
  readonly failMs: number | undefined;
  /** A replica of the isolated master reported itself master (a failover). */
  readonly promotedMs: number | undefined;
  readonly healedMs: number;
  /** Every node agrees again, cluster_state:ok, old master following the new one. */
  readonly settledMs: number | undefined;
}

export interface PartitionDrillReport {
  readonly isolated: readonly { id: string; address: string; role: 'master' | 'replica' }[];
  readonly mode: PartitionMode;
  readonly durationMs: number;
  readonly nodeTimeoutMs: number;
  readonly timeline: PartitionTimeline;
  readonly failover: boolean;
  readonly newMaster: string | undefined;
  readonly lostWrites: LostWriteReport | undefined;
  readonly prediction: Prediction;
  readonly agreement: Agreement | undefined;
  readonly keys: KeyTally;
  readonly check: CheckResult;
  readonly snapshot: Snapshot;
}

const partitionNode = (n: NodeState): PartitionNode => ({ id: n.id, host: n.addr.host, port: n.addr.port, busPort: n.self.busPort });

function chooseIsolated(s: Snapshot, spec: IsolateSpec): NodeState[] {
  if (spec === 'master') {
    const eligible = mastersOf(s).filter((m) => replicasOf(s, m.id).some((r) => r.masterLinkStatus === 'up'));
    const m = eligible[Math.floor(Math.random() * eligible.length)];
    if (!m) throw new RctlError('REFUSED', 'No master has a synced replica: isolating one would only make its slots unavailable.', { hint: 'Create the cluster with --replicas 1 or more.' });
    return [m];
  }
  if (spec === 'replica') {
    const replicas = s.nodes.filter((n) => n.role === 'replica');
    const r = replicas[Math.floor(Math.random() * replicas.length)];
    if (!r) throw new RctlError('REFUSED', 'The cluster has no replica to isolate.', { hint: 'Isolate a master, or add a replica first.' });
    return [r];
  }
  if (spec.length === 0) throw usageError('Name at least one node to isolate.', 'Pass --isolate master, replica, or node ids / host:port.');
  const nodes = [...new Map(spec.map((ref) => resolveNodeRef(s, ref, '--isolate')).map((n) => [n.id, n])).values()];
  if (nodes.length >= s.nodes.length) throw usageError('Isolating every node leaves nothing on the other side.', 'Name fewer nodes.');
  return nodes;
}

/**
 * Cut nodes off the rest of the cluster for a while, then heal: with writers on both sides, time
 * PFAIL/FAIL/promotion as the majority sees them, heal, let the cluster settle, read every write
 * back and report what was acknowledged but lost, next to what Redis's documentation predicts.
 * Whatever happens (an error, Ctrl-C), the rules are removed and the drill's keys deleted.
 */
export async function drillPartition(s: Snapshot, o: PartitionDrillOptions): Promise<PartitionDrillReport> {
  const onEvent = o.onEvent ?? noEvents;
  const mode = o.mode ?? 'full';
  const isolated = chooseIsolated(s, o.isolate);
  const isolatedIds = new Set(isolated.map((n) => n.id));
  const others = s.nodes.filter((n) => !isolatedIds.has(n.id));
  // Refuse (shared or non-loopback addresses: a Docker bridge network) before writers or keys.
  planPartition(isolated.map(partitionNode), others.map(partitionNode), mode);
  const master = isolated.find((n) => n.role === 'master');
  const nodeTimeoutMs = await nodeTimeoutMsOf(o.conns, others[0]!.addr);
  const prefix = runPrefix('drill');
  // The fence the isolated master (or the master of an isolated replica) runs with right now.
  const fencedBy = master ?? s.nodes.find((n) => n.id === isolated[0]?.self.masterId);
  const fence = fencedBy ? await readWriteSafety(o.conns, fencedBy.addr).catch(() => undefined) : undefined;
  const prediction = predictLoss({
    kind: master ? 'cluster-bus-partition' : 'replica-isolated',
    durationMs: o.durationMs,
    nodeTimeoutMs,
    replicationCut: mode !== 'bus-only',
    minReplicasToWrite: fence?.minReplicasToWrite,
    minReplicasMaxLagS: fence?.minReplicasMaxLagS,
  });
  onEvent({ type: 'note', message: `prediction: ${prediction.text}` });

  let writers: SideWriters | undefined;
  let cut: PartitionHandle | undefined;
  let keys: KeyTally = emptyTally(prefix);
  let attempted: string[] = [];
  let lostWrites: LostWriteReport | undefined;
  let timeline: PartitionTimeline | undefined;
  let newMaster: string | undefined;
  let ready: Snapshot | undefined;
  try {
    if (o.load) {
      const sides: Side[] = [{ label: 'majority', target: { kind: 'cluster', seeds: others.map((n) => n.addr) } }];
      // A client that stays connected to the isolated master: what a client on the minority side does.
      if (master) sides.push({ label: 'minority', target: { kind: 'node', addr: master.addr } });
      writers = await startSideWriters(sides, { prefix, password: o.password, maxMs: o.durationMs + 4 * nodeTimeoutMs + 60_000, maxRatePerSec: 500 });
      await waitFirstAcks(writers, o.signal);
    }
    cut = await step(onEvent, `cut ${isolated.map((n) => addrKey(n.addr)).join(', ')} off the other ${others.length} node(s) (${mode})`, () => partition(o.cluster, isolated.map(partitionNode), others.map(partitionNode), mode));
    // Times count from the moment every rule is in place.
    const faultAtMs = writers?.now() ?? 0;
    const t0 = performance.now();
    const seen = await step(onEvent, `hold the partition ${o.durationMs} ms, watching from the majority`, () => watch(o.conns, others, isolated, master, t0, o.durationMs, o.signal));
    newMaster = seen.newMaster;
    const healedMs = Math.round(performance.now() - t0);
    await step(onEvent, 'heal', () => cut!.heal());
    cut = undefined;
    const bound = settleBoundMs(nodeTimeoutMs, s.nodes.length) + 30_000;
    let settledMs: number | undefined;
    ready = await step(onEvent, 'wait until the cluster has settled (every node agrees, state ok, replicas linked)', async () => {
      if (master && newMaster) await waitFollows(o.conns, master.addr, newMaster, bound, o.signal);
      const r = await waitUntilReady(o.conns, others[0]!.addr, { what: 'the cluster to settle after the partition', signal: o.signal, timeoutMs: bound });
      settledMs = Math.round(performance.now() - t0);
      return r;
    });
    timeline = { ...seen.timeline, healedMs, settledMs };
    if (writers) {
      const records = await writers.stop();
      writers = undefined;
      attempted = records.map((r) => r.key);
      const back = await step(onEvent, `read back ${records.length} write(s)`, () => readBack(records, { seeds: s.nodes.map((n) => n.addr), password: o.password }));
      lostWrites = summarizeLostWrites(records, back, { faultAtMs });
    }
  } finally {
    if (cut) await cut.heal().catch((err: unknown) => onEvent({ type: 'warning', message: `could not remove the partition's rules (${String(err)}): run \`rctl heal --name ${o.cluster}\`` }));
    if (writers) attempted = (await writers.stop()).map((r) => r.key);
    if (attempted.length > 0) {
      keys = await step(onEvent, o.keepKeys ? `count the drill's keys (${prefix}:*)` : `remove the drill's keys (${prefix}:*)`, () =>
        removeKeys(o.conns, prefix, attempted, clusterRouter(o.conns, s.nodes.map((n) => n.addr)), { keep: Boolean(o.keepKeys), bySlot: true, timeoutMs: Math.max(30_000, 2 * nodeTimeoutMs + 10_000) }),
      );
    }
  }
  const final = ready ?? (await takeSnapshot(o.conns, others[0]!.addr));
  const failover = timeline?.promotedMs !== undefined;
  return {
    isolated: isolated.map((n) => ({ id: n.id, address: addrKey(n.addr), role: n.role })),
    mode,
    durationMs: o.durationMs,
    nodeTimeoutMs,
    timeline: timeline!,
    failover,
    newMaster,
    lostWrites,
    prediction,
    agreement: lostWrites ? agrees(prediction, { failover, lost: { count: lostWrites.lost.count, lastAckMs: lostWrites.lost.lastAckMs } }) : undefined,
    keys,
    check: checkCluster(final),
    snapshot: final,
  };
}

/** Poll the majority's views for the partition's duration: PFAIL/FAIL of an isolated node, a replica of the isolated master promoted. */
async function watch(
  conns: AdminConnections,
  observers: readonly NodeState[],
  isolated: readonly NodeState[],
  master: NodeState | undefined,
  t0: number,
  durationMs: number,
  signal: AbortSignal | undefined,
): Promise<{ timeline: Omit<PartitionTimeline, 'healedMs' | 'settledMs'>; newMaster: string | undefined }> {
  const ids = new Set(isolated.map((n) => n.id));
  const replicas = master ? observers.filter((n) => n.self.masterId === master.id).map((n) => n.id) : [];
  let pfailMs: number | undefined;
  let failMs: number | undefined;
  let promotedMs: number | undefined;
  let newMaster: string | undefined;
  while (performance.now() - t0 < durationMs) {
    throwIfAborted(signal);
    const views = (await Promise.all(observers.map((n) => readNode(conns, n.addr).catch(() => undefined)))).filter((v): v is NodeState => v !== undefined);
    const now = Math.round(performance.now() - t0);
    for (const v of views) {
      for (const l of v.view) {
        if (!ids.has(l.id)) continue;
        if (pfailMs === undefined && (l.flags.includes('fail?') || l.flags.includes('fail'))) pfailMs = now;
        if (failMs === undefined && l.flags.includes('fail')) failMs = now;
      }
      if (promotedMs === undefined && replicas.includes(v.id) && v.role === 'master') {
        promotedMs = now;
        newMaster = v.id;
      }
    }
    await sleep(Math.min(50, Math.max(0, durationMs - (performance.now() - t0))), signal);
  }
  return { timeline: { pfailMs, failMs, promotedMs }, newMaster };
}

/** After heal: the old master hears of the new one's higher epoch and follows it (bounded). */
async function waitFollows(conns: AdminConnections, addr: NodeAddress, newMaster: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  await waitUntil(
    `${addrKey(addr)} to follow ${newMaster.slice(0, 8)} with its link up`,
    async () => {
      const v = await readNode(conns, addr);
      if (v.self.masterId !== newMaster) return { done: false, reason: `it follows ${v.self.masterId?.slice(0, 8) ?? 'nobody (still a master)'}` };
      if (v.masterLinkStatus !== 'up') return { done: false, reason: `master_link_status:${v.masterLinkStatus}` };
      return { done: true, value: undefined };
    },
    { timeoutMs, intervalMs: 50, signal },
  );
}
