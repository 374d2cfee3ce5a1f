import { addrKey, type NodeAddress } from '../redis/address.js';
import { checkCluster, type CheckResult } from '../cluster/check.js';
import type { AdminConnections } from '../redis/connection.js';
import { waitUntilReady } from '../cluster/ready.js';
import { readNode, replicasOf, takeSnapshot, type NodeState, type Snapshot } from '../cluster/snapshot.js';
import { RctlError } from '../errors.js';
import { noEvents, step, type EventSink } from '../events.js';
import type { FaultMode, Provider } from '../provision/provider.js';
import type { NodeRecord } from '../state/records.js';
import { waitUntil } from '../util/wait.js';
import { clusterRouter, emptyTally, removeKeys, runPrefix, type KeyTally } from './drill-keys.js';
import { DRILL_LOAD, loadKeys, startLoad, summarizeLoad, waitForFirstWrites, type LoadReport, type LoadSummary } from './load-generator.js';
import { InjectedFault } from './fault.js';
import { failover } from './manual-failover.js';
import { observeFailover, type FailoverTimeline } from './observe.js';
import { reportingProbe } from './progress.js';

export interface DrillOptions {
  readonly conns: AdminConnections;
  readonly password: string | undefined;
  readonly provider: Provider;
  /** The recorded node behind the master to fault. */
  readonly record: NodeRecord;
  readonly mode: FaultMode;
  readonly load: boolean;
  /** Leave the keys the load wrote in place (--keep-keys); by default they are removed at the end. */
  readonly keepKeys?: boolean;
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
  readonly load: LoadSummary | undefined;
  /** The keys the drill wrote, removed or left in place. */
  readonly keys: KeyTally;
  readonly check: CheckResult;
  readonly snapshot: Snapshot;
}

/**
 * A failover drill on a real node: check, optional bounded load, fault the master (stop, kill or
 * freeze), time PFAIL/FAIL/promotion/state ok from the other nodes, bring the old master back and
 * verify it rejoins as a replica of the new one, optionally hand the role back, check, and count
 * what the load lost. Whatever happens (an error, Ctrl-C), the faulted node is brought back and the
 * keys the load wrote are removed (unless `keepKeys`) before returning or throwing.
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
  const prefix = runPrefix('drill');
  const load = o.load ? startLoad({ seeds: observers.map((n) => n.addr), password: o.password, prefix, ...DRILL_LOAD, maxMs: nodeTimeoutMs * 4 + 60_000 }) : undefined;
  if (load) {
    onEvent({ type: 'note', message: `load: keys ${prefix}:<n>, at most ${DRILL_LOAD.maxWrites} at ${DRILL_LOAD.maxRatePerSec}/s; ${o.keepKeys ? 'left in place afterwards (--keep-keys)' : 'removed afterwards'}` });
  }
  const fault = new InjectedFault(o.provider, o.record, o.mode, addrKey(master.addr), o.onRecovered);
  let rejoinedMs: number | undefined;
  let restoredMs: number | undefined;
  let timeline: FailoverTimeline | undefined;
  let loadReport: LoadReport | undefined;
  let ready: Snapshot | undefined;
  let summary: LoadSummary | undefined;
  let keys: KeyTally = emptyTally(prefix);
  try {
    if (load) {
      await waitForFirstWrites(load, { signal: o.signal, hint: 'The cluster client could not write; run `rctl check`.' });
    }
    const t0 = performance.now();
    await step(onEvent, `${o.mode} ${addrKey(master.addr)} (${master.id.slice(0, 8)})`, () => fault.inject());
    o.conns.drop(master.addr);
    timeline = await step(onEvent, 'observe PFAIL, FAIL, promotion, cluster_state ok', () =>
      observeFailover(o.conns, observers, master.id, t0, { maxMs: nodeTimeoutMs * 3 + 20_000, signal: o.signal, onEvent, nodeTimeoutMs }),
    );
    const newMaster = timeline.newMaster!;
    await step(onEvent, `bring ${addrKey(master.addr)} back`, () => fault.recover());
    const rejoinStep = 'wait until the old master rejoins as a replica of the new one, link up';
    await step(onEvent, rejoinStep, () =>
      waitUntil(
        `${addrKey(master.addr)} to follow ${newMaster.slice(0, 8)} with its link up`,
        reportingProbe(
          onEvent,
          rejoinStep,
          async () => {
            const v = await readNode(o.conns, master.addr);
            if (v.self.masterId !== newMaster) return { done: false, reason: `it follows ${v.self.masterId?.slice(0, 8) ?? 'nobody (still a master)'}` };
            if (v.masterLinkStatus !== 'up') return { done: false, reason: `master_link_status:${v.masterLinkStatus} (syncing from ${newMaster.slice(0, 8)})` };
            return { done: true, value: undefined };
          },
          60_000,
        ),
        { timeoutMs: 60_000, intervalMs: 25, signal: o.signal },
      ),
    );
    rejoinedMs = Math.round(performance.now() - t0);
    if (o.restore) {
      const now = await waitUntilReady(o.conns, observers[0]!.addr, { what: 'restoring the roles', signal: o.signal, timeoutMs: Math.max(30_000, 2 * nodeTimeoutMs + 10_000) });
      const t1 = performance.now();
      await failover(now, master.id, { conns: o.conns, signal: o.signal, onEvent });
      restoredMs = Math.round(performance.now() - t1);
    }
    loadReport = await load?.stop();
    ready = await waitUntilReady(o.conns, observers[0]!.addr, { what: 'the final check', signal: o.signal }).catch(() => takeSnapshot(o.conns, observers[0]!.addr));
    summary = loadReport ? await summarizeLoad(loadReport, prefix, { seeds: observers.map((n) => n.addr), password: o.password }) : undefined;
  } finally {
    await fault.ensureRecovered(onEvent);
    if (!loadReport) loadReport = await load?.stop();
    if (loadReport) keys = await cleanUp(o, prefix, loadKeys(prefix, loadReport), [...observers.map((n) => n.addr), master.addr], nodeTimeoutMs, onEvent);
  }
  return {
    master: { id: master.id, address: addrKey(master.addr) },
    mode: o.mode,
    nodeTimeoutMs,
    timeline: { ...timeline!, rejoinedMs, restoredMs },
    newMaster: timeline?.newMaster,
    load: summary,
    keys,
    check: checkCluster(ready!),
    snapshot: ready!,
  };
}

/**
 * Delete the keys the load may have written (every `<prefix>:n` it attempted: a write that failed
 * on the client may still have landed), or with --keep-keys count those that exist. Runs after the
 * faulted node is back, also after an error or Ctrl-C (so without the aborted signal), bounded.
 */
async function cleanUp(o: DrillOptions, prefix: string, keys: readonly string[], seeds: readonly NodeAddress[], nodeTimeoutMs: number, onEvent: EventSink): Promise<KeyTally> {
  const what = o.keepKeys ? `count the drill's keys (${prefix}:*), leaving them in place (--keep-keys)` : `remove the drill's keys (${prefix}:*, ${keys.length} attempted writes)`;
  const tally = await step(
    onEvent,
    what,
    () => removeKeys(o.conns, prefix, keys, clusterRouter(o.conns, seeds), { keep: Boolean(o.keepKeys), bySlot: true, timeoutMs: Math.max(30_000, 2 * nodeTimeoutMs + 10_000) }),
    (t) => `${t.written} written, ${t.removed} removed, ${t.kept} kept`,
  );
  if (tally.error) onEvent({ type: 'warning', message: `up to ${tally.kept} key(s) under ${prefix}: may remain: ${tally.error}` });
  return tally;
}
