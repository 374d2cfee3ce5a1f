import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { RctlError } from '../errors.js';
import { noEvents, step, type EventSink } from '../events.js';
import { InjectedFault } from '../failover/fault.js';
import { emptyTally, nodeRouter, removeKeys, runPrefix, type KeyTally } from '../failover/drill-keys.js';
import { DRILL_LOAD, loadKeys, startLoad, summarizeLoad, waitForFirstWrites, type LoadReport, type LoadSummary } from '../failover/load-generator.js';
import { reportingProbe } from '../failover/progress.js';
import type { FaultMode, Provider } from '../provision/provider.js';
import type { ClusterRecord, NodeRecord } from '../state/records.js';
import { sleep } from '../util/abort.js';
import { waitUntil } from '../util/wait.js';
import { DRILL_EVENTS, switchedFrom, watchSentinelEvents } from './events.js';
import { waitAgreed } from './failover.js';
import { sentinelStatus, type SentinelStatus } from './status.js';
import type { Agreement, Prediction } from '../failover/loss-prediction.js';
import type { LostWriteReport } from '../failover/lost-writes-report.js';

export interface SentinelDrillReport {
  readonly master: string;
  readonly newMaster: string | undefined;
  /** How the master was faulted; `partition`: cut from Sentinels and replicas (sentinelPartitionDrill). */
  readonly mode: FaultMode | 'partition';
  readonly downAfterMs: number;
  /** ms after the fault of the first occurrence of each Sentinel event. */
  readonly events: Record<string, number>;
  readonly allAgreeMs: number | undefined;
  readonly rejoinedMs: number | undefined;
  readonly load: LoadSummary | undefined;
  /** The keys the drill wrote, removed or left in place. */
  readonly keys: KeyTally;
  readonly status: SentinelStatus;
  /** Partition mode: how long the cut lasted (ms). */
  readonly cutMs?: number | undefined;
  /** Partition mode: ms from the cut until Sentinel turned the old master into a replica (+convert-to-slave), after the heal. */
  readonly exposedMs?: number | undefined;
  /** Partition mode: every write of the writers on both sides, read back after heal. */
  readonly lostWrites?: LostWriteReport | undefined;
  /** Partition mode: what the Redis documentation predicts, and whether the measurement agrees. */
  readonly prediction?: Prediction | undefined;
  readonly agreement?: Agreement | undefined;
}

/**
 * The group's status once it settled: right after a failover or a restart a Sentinel may flag the
 * master disconnected, or miss a replica, for a moment (it reconnects and rediscovers every second
 * or so). Bounded by the down-after period; refuses on what is still wrong then.
 */
export async function settledHealthy(rec: ClusterRecord, conns: AdminConnections, signal: AbortSignal | undefined): Promise<SentinelStatus & { master: NodeAddress }> {
  const sc = rec.sentinel!;
  const sentinels: NodeAddress[] = sc.nodes.map((n) => ({ host: n.host, port: n.port }));
  const expect = { replicas: rec.replicasPerMaster, sentinels: sc.nodes.length };
  let before = await sentinelStatus(conns, sentinels, sc.masterName, expect);
  for (const settleBy = performance.now() + Math.max(5_000, 2 * sc.downAfterMs); !before.healthy && performance.now() < settleBy; ) {
    await sleep(200, signal);
    before = await sentinelStatus(conns, sentinels, sc.masterName, expect);
  }
  if (!before.healthy || !before.master) throw new RctlError('REFUSED', `The group is not healthy: ${before.problems[0] ?? 'no agreed master'}.`, { hint: 'Run `rctl sentinel status` and fix what it reports first.' });
  return { ...before, master: before.master };
}

/**
 * Fault the master of a Sentinel group (stop, kill, freeze), record the Sentinels' events, verify the
 * new master, the replicas re-pointed and every Sentinel agreeing, bring the old master back and
 * verify Sentinel converts it into a replica of the new one. The faulted node always comes back,
 * and the keys the writer wrote are removed (unless `keepKeys`), also after an error or Ctrl-C.
 */
export async function sentinelDrill(
  rec: ClusterRecord,
  provider: Provider,
  o: { conns: AdminConnections; mode: FaultMode; load: boolean; keepKeys?: boolean; signal?: AbortSignal | undefined; onEvent?: EventSink; onRecovered?: (n: NodeRecord) => Promise<void> },
): Promise<SentinelDrillReport> {
  const onEvent = o.onEvent ?? noEvents;
  const sc = rec.sentinel!;
  const sentinels: NodeAddress[] = sc.nodes.map((n) => ({ host: n.host, port: n.port }));
  const data: NodeAddress[] = rec.nodes.map((n) => ({ host: n.host, port: n.port }));
  const masterAddr = (await settledHealthy(rec, o.conns, o.signal)).master;
  const record = rec.nodes.find((n) => addrKey({ host: n.host, port: n.port }) === addrKey(masterAddr));
  if (!record) throw new RctlError('REFUSED', `The master ${addrKey(masterAddr)} was not started by rctl.`);
  const fault = new InjectedFault(provider, record, o.mode, addrKey(masterAddr), o.onRecovered);
  let t0 = performance.now();
  const events = await watchSentinelEvents(sentinels, sc.masterName, () => t0);
  const prefix = runPrefix('sdrill');
  const load = o.load ? startLoad({ seeds: [], sentinel: { sentinels, name: sc.masterName }, password: rec.password, prefix, ...DRILL_LOAD, maxMs: sc.downAfterMs * 4 + 90_000 }) : undefined;
  if (load) {
    onEvent({ type: 'note', message: `load: keys ${prefix}:<n>, at most ${DRILL_LOAD.maxWrites} at ${DRILL_LOAD.maxRatePerSec}/s; ${o.keepKeys ? 'left in place afterwards (--keep-keys)' : 'removed afterwards'}` });
  }
  let allAgreeMs: number | undefined;
  let rejoinedMs: number | undefined;
  let newMaster: NodeAddress | undefined;
  let report: LoadReport | undefined;
  let summary: LoadSummary | undefined;
  let keys: KeyTally = emptyTally(prefix);
  try {
    if (load) {
      await waitForFirstWrites(load, { signal: o.signal, hint: 'The Sentinel-aware client could not write; run `rctl sentinel status`.' });
    }
    t0 = performance.now();
    await step(onEvent, `${o.mode} the master ${addrKey(masterAddr)}`, () => fault.inject());
    o.conns.drop(masterAddr);
    const switchStep = 'wait for +switch-master';
    const switchBound = sc.downAfterMs * 3 + 60_000;
    await step(onEvent, switchStep, () =>
      waitUntil(
        `a Sentinel to announce +switch-master away from ${addrKey(masterAddr)}`,
        reportingProbe(
          onEvent,
          switchStep,
          async () => (switchedFrom(events, masterAddr) ? { done: true, value: undefined } : { done: false, reason: `down-after ${sc.downAfterMs} ms; Sentinel events so far: ${[...events.first.keys()].join(' ') || 'none'}` }),
          switchBound,
        ),
        { timeoutMs: switchBound, intervalMs: 10, signal: o.signal },
      ),
    );
    newMaster = switchedFrom(events, masterAddr)!;
    const others = data.filter((n) => addrKey(n) !== addrKey(newMaster!) && addrKey(n) !== addrKey(masterAddr));
    await step(onEvent, 'wait until every Sentinel names the new master and the replicas follow it', () => waitAgreed(o.conns, sentinels, sc.masterName, newMaster!, others, { timeoutMs: 60_000, signal: o.signal, onEvent }));
    allAgreeMs = Math.round(performance.now() - t0);
    await step(onEvent, `bring ${addrKey(masterAddr)} back`, () => fault.recover());
    // Sentinel notices a returning node on its 10 s INFO period, then sends it REPLICAOF.
    await step(onEvent, 'wait until Sentinel turns the old master into a replica of the new one', () =>
      waitAgreed(o.conns, sentinels, sc.masterName, newMaster!, [masterAddr, ...others], { timeoutMs: 60_000, signal: o.signal, onEvent }),
    );
    rejoinedMs = Math.round(performance.now() - t0);
    report = await load?.stop();
    summary = report ? await summarizeLoad(report, prefix, { seeds: [], password: rec.password, sentinel: { sentinels, name: sc.masterName } }) : undefined;
  } finally {
    await fault.ensureRecovered(onEvent);
    if (!report) report = await load?.stop();
    events.close();
    if (report) keys = await cleanUp(o, prefix, loadKeys(prefix, report), sentinels, sc.masterName, sc.downAfterMs, onEvent);
  }
  const status = await sentinelStatus(o.conns, sentinels, sc.masterName, { replicas: rec.replicasPerMaster, sentinels: sc.nodes.length });
  return {
    master: addrKey(masterAddr),
    newMaster: newMaster ? addrKey(newMaster) : undefined,
    mode: o.mode,
    downAfterMs: sc.downAfterMs,
    events: Object.fromEntries(DRILL_EVENTS.filter((e) => events.first.has(e)).map((e) => [e, events.first.get(e)!])),
    allAgreeMs,
    rejoinedMs,
    load: summary,
    keys,
    status,
  };
}

/**
 * Delete the writer's keys on whichever node the Sentinels name master now (asked anew on every
 * retry: a failover may still be settling after an error), or with --keep-keys count them. Runs
 * also after an error or Ctrl-C (so without the aborted signal), bounded.
 */
export async function cleanUp(
  o: { conns: AdminConnections; keepKeys?: boolean },
  prefix: string,
  keys: readonly string[],
  sentinels: readonly NodeAddress[],
  masterName: string,
  downAfterMs: number,
  onEvent: EventSink,
): Promise<KeyTally> {
  const locate = async (): Promise<NodeAddress> => {
    const st = await sentinelStatus(o.conns, sentinels, masterName);
    if (!st.master) throw new RctlError('UNREACHABLE', `The Sentinels do not agree on a master of "${masterName}" yet.`);
    return st.master;
  };
  const what = o.keepKeys ? `count the drill's keys (${prefix}:*), leaving them in place (--keep-keys)` : `remove the drill's keys (${prefix}:*, ${keys.length} attempted writes)`;
  const tally = await step(
    onEvent,
    what,
    () => removeKeys(o.conns, prefix, keys, nodeRouter(locate), { keep: Boolean(o.keepKeys), bySlot: false, timeoutMs: Math.max(30_000, 2 * downAfterMs + 10_000) }),
    (t) => `${t.written} written, ${t.removed} removed, ${t.kept} kept`,
  );
  if (tally.error) onEvent({ type: 'warning', message: `up to ${tally.kept} key(s) under ${prefix}: may remain: ${tally.error}` });
  return tally;
}
