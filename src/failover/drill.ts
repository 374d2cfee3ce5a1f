import { addrKey } from '../cluster/address.js';
import { checkCluster, type CheckResult } from '../cluster/check.js';
import type { AdminConnections } from '../cluster/connection.js';
import { waitUntilReady } from '../cluster/ready.js';
import { readNode, replicasOf, takeSnapshot, type NodeState, type Snapshot } from '../cluster/snapshot.js';
import { RctlError } from '../errors.js';
import { noEvents, step, type EventSink } from '../events.js';
import type { FaultMode, Provider } from '../provision/provider.js';
import type { NodeRecord } from '../state/records.js';
import { waitUntil } from '../util/wait.js';
import { countLost, startLoad, type LoadReport } from './load-generator.js';
import { InjectedFault } from './fault.js';
import { failover } from './manual-failover.js';
import { observeFailover, type FailoverTimeline } from './observe.js';

export interface DrillOptions {
  readonly conns: AdminConnections;
  readonly password: string | undefined;
  readonly provider: Provider;
  /** The recorded node behind the master to fault. */
  readonly record: NodeRecord;
  readonly mode: FaultMode;
  readonly load: boolean;
  readonly restore: boolean;
  readonly signal?: AbortSignal | undefined;
  readonly onEvent?: EventSink;
  /** Called when the faulted node comes back with a new record (a restarted process has a new pid). */
  readonly onRecovered?: (n: NodeRecord) => Promise<void>;
}

export interface DrillReport {
  readonly master: { id: string; address: string };
  readonly mode: FaultMode;
  readonly nodeTimeoutMs: number;
  readonly timeline: FailoverTimeline & { rejoinedMs: number | undefined; restoredMs: number | undefined };
  readonly newMaster: string | undefined;
  readonly load: (Omit<LoadReport, 'acknowledgedIds'> & { lost: number }) | undefined;
  readonly check: CheckResult;
  readonly snapshot: Snapshot;
}

/**
 * A failover drill on a real node: check, optional bounded load, fault the master (stop, kill or
 * freeze), time PFAIL/FAIL/promotion/state ok from the other nodes, bring the old master back and
 * verify it rejoins as a replica of the new one, optionally hand the role back, check, and count
 * what the load lost. Whatever happens, the faulted node is brought back before returning.
 */
export async function drillFailover(s: Snapshot, master: NodeState, o: DrillOptions): Promise<DrillReport> {
  const onEvent = o.onEvent ?? noEvents;
  if (master.role !== 'master') throw new RctlError('REFUSED', `${addrKey(master.addr)} is not a master.`, { hint: 'Name a master, or use --node random.' });
  const synced = replicasOf(s, master.id).filter((r) => r.masterLinkStatus === 'up');
  if (synced.length === 0) {
    throw new RctlError('REFUSED', `${addrKey(master.addr)} has no replica with its link up: a failover would lose its slots.`, { hint: 'Add a replica (`rctl add-node --replica-of ...`) and wait for it to sync.' });
  }
  const nodeTimeoutMs = Number(((await o.conns.run(master.addr, (r) => r.call('CONFIG', 'GET', 'cluster-node-timeout'))) as string[])[1]);
  const observers = s.nodes.filter((n) => n.id !== master.id);
  const prefix = `drill:${Date.now()}`;
  const load = o.load ? startLoad({ seeds: observers.map((n) => n.addr), password: o.password, prefix, maxWrites: 5_000_000, maxMs: nodeTimeoutMs * 4 + 60_000, concurrency: 8 }) : undefined;
  const fault = new InjectedFault(o.provider, o.record, o.mode, addrKey(master.addr), o.onRecovered);
  let rejoinedMs: number | undefined;
  let restoredMs: number | undefined;
  let timeline: FailoverTimeline | undefined;
  let loadReport: LoadReport | undefined;
  try {
    if (load) await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    await step(onEvent, `${o.mode} ${addrKey(master.addr)} (${master.id.slice(0, 8)})`, () => fault.inject());
    o.conns.drop(master.addr);
    timeline = await step(onEvent, 'observe PFAIL, FAIL, promotion, cluster_state ok', () =>
      observeFailover(o.conns, observers, master.id, t0, { maxMs: nodeTimeoutMs * 3 + 20_000, signal: o.signal }),
    );
    const newMaster = timeline.newMaster!;
    await step(onEvent, `bring ${addrKey(master.addr)} back`, () => fault.recover());
    await step(onEvent, 'wait until the old master rejoins as a replica of the new one, link up', () =>
      waitUntil(
        `${addrKey(master.addr)} to follow ${newMaster.slice(0, 8)} with its link up`,
        async () => {
          const v = await readNode(o.conns, master.addr);
          if (v.self.masterId !== newMaster) return { done: false, reason: `it follows ${v.self.masterId?.slice(0, 8) ?? 'nobody (still a master)'}` };
          if (v.masterLinkStatus !== 'up') return { done: false, reason: `master_link_status:${v.masterLinkStatus}` };
          return { done: true, value: undefined };
        },
        { timeoutMs: 60_000, intervalMs: 25, signal: o.signal },
      ),
    );
    rejoinedMs = Math.round(performance.now() - t0);
    if (o.restore) {
      const now = await waitUntilReady(o.conns, observers[0]!.addr, { what: 'restoring the roles', signal: o.signal });
      const t1 = performance.now();
      await failover(now, master.id, { conns: o.conns, signal: o.signal, onEvent });
      restoredMs = Math.round(performance.now() - t1);
    }
    loadReport = await load?.stop();
  } finally {
    await fault.ensureRecovered(onEvent);
    if (!loadReport) loadReport = await load?.stop();
  }
  const ready = await waitUntilReady(o.conns, observers[0]!.addr, { what: 'the final check', signal: o.signal }).catch(() => takeSnapshot(o.conns, observers[0]!.addr));
  const lost = loadReport ? await countLost(observers.map((n) => n.addr), prefix, loadReport.acknowledgedIds, o.password) : 0;
  const { acknowledgedIds: _ids, ...loadSummary } = loadReport ?? ({} as LoadReport);
  return {
    master: { id: master.id, address: addrKey(master.addr) },
    mode: o.mode,
    nodeTimeoutMs,
    timeline: { ...timeline!, rejoinedMs, restoredMs },
    newMaster: timeline?.newMaster,
    load: loadReport ? { ...loadSummary, lost } : undefined,
    check: checkCluster(ready),
    snapshot: ready,
  };
}
