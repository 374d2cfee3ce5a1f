import { addrKey, type NodeAddress } from '../cluster/address.js';
import type { AdminConnections } from '../cluster/connection.js';
import { RctlError } from '../errors.js';
import { noEvents, step, type EventSink } from '../events.js';
import { InjectedFault } from '../failover/fault.js';
import { countLost, startLoad, type LoadReport } from '../failover/load-generator.js';
import type { FaultMode, Provider } from '../provision/provider.js';
import type { ClusterRecord, NodeRecord } from '../state/records.js';
import { waitUntil } from '../util/wait.js';
import { DRILL_EVENTS, switchedFrom, watchSentinelEvents } from './events.js';
import { waitAgreed } from './failover.js';
import { sentinelStatus, type SentinelStatus } from './status.js';

export interface SentinelDrillReport {
  readonly master: string;
  readonly newMaster: string | undefined;
  readonly mode: FaultMode;
  readonly downAfterMs: number;
  /** ms after the fault of the first occurrence of each Sentinel event. */
  readonly events: Record<string, number>;
  readonly allAgreeMs: number | undefined;
  readonly rejoinedMs: number | undefined;
  readonly load: (Omit<LoadReport, 'acknowledgedIds'> & { lost: number }) | undefined;
  readonly status: SentinelStatus;
}

/**
 * Fault the master of a Sentinel group (stop, kill, freeze), record the Sentinels' events, verify the
 * new master, the replicas re-pointed and every Sentinel agreeing, bring the old master back and
 * verify Sentinel converts it into a replica of the new one. The faulted node always comes back.
 */
export async function sentinelDrill(
  rec: ClusterRecord,
  provider: Provider,
  o: { conns: AdminConnections; mode: FaultMode; load: boolean; signal?: AbortSignal | undefined; onEvent?: EventSink; onRecovered?: (n: NodeRecord) => Promise<void> },
): Promise<SentinelDrillReport> {
  const onEvent = o.onEvent ?? noEvents;
  const sc = rec.sentinel!;
  const sentinels: NodeAddress[] = sc.nodes.map((n) => ({ host: n.host, port: n.port }));
  const data: NodeAddress[] = rec.nodes.map((n) => ({ host: n.host, port: n.port }));
  const before = await sentinelStatus(o.conns, sentinels, sc.masterName, { replicas: rec.replicasPerMaster, sentinels: sc.nodes.length });
  if (!before.healthy || !before.master) throw new RctlError('REFUSED', `The group is not healthy: ${before.problems[0] ?? 'no agreed master'}.`, { hint: 'Run `rctl sentinel status` and fix what it reports first.' });
  const masterAddr = before.master;
  const record = rec.nodes.find((n) => addrKey({ host: n.host, port: n.port }) === addrKey(masterAddr));
  if (!record) throw new RctlError('REFUSED', `The master ${addrKey(masterAddr)} was not started by rctl.`);
  const fault = new InjectedFault(provider, record, o.mode, addrKey(masterAddr), o.onRecovered);
  let t0 = performance.now();
  const events = await watchSentinelEvents(sentinels, sc.masterName, () => t0);
  const prefix = `sdrill:${Date.now()}`;
  const load = o.load ? startLoad({ seeds: [], sentinel: { sentinels, name: sc.masterName }, password: rec.password, prefix, maxWrites: 5_000_000, maxMs: sc.downAfterMs * 4 + 90_000, concurrency: 8 }) : undefined;
  let allAgreeMs: number | undefined;
  let rejoinedMs: number | undefined;
  let newMaster: NodeAddress | undefined;
  let report: LoadReport | undefined;
  try {
    if (load) await new Promise((r) => setTimeout(r, 300));
    t0 = performance.now();
    await step(onEvent, `${o.mode} the master ${addrKey(masterAddr)}`, () => fault.inject());
    o.conns.drop(masterAddr);
    await step(onEvent, 'wait for +switch-master', () =>
      waitUntil(`a Sentinel to announce +switch-master away from ${addrKey(masterAddr)}`, async () => (switchedFrom(events, masterAddr) ? { done: true, value: undefined } : { done: false, reason: `events so far: ${[...events.first.keys()].join(' ') || 'none'}` }), {
        timeoutMs: sc.downAfterMs * 3 + 60_000,
        intervalMs: 10,
        signal: o.signal,
      }),
    );
    newMaster = switchedFrom(events, masterAddr)!;
    const others = data.filter((n) => addrKey(n) !== addrKey(newMaster!) && addrKey(n) !== addrKey(masterAddr));
    await step(onEvent, 'wait until every Sentinel names the new master and the replicas follow it', () => waitAgreed(o.conns, sentinels, sc.masterName, newMaster!, others, { timeoutMs: 60_000, signal: o.signal }));
    allAgreeMs = Math.round(performance.now() - t0);
    await step(onEvent, `bring ${addrKey(masterAddr)} back`, () => fault.recover());
    await step(onEvent, 'wait until Sentinel turns the old master into a replica of the new one', () =>
      waitAgreed(o.conns, sentinels, sc.masterName, newMaster!, [masterAddr, ...others], { timeoutMs: 60_000, signal: o.signal }),
    );
    rejoinedMs = Math.round(performance.now() - t0);
    report = await load?.stop();
  } finally {
    await fault.ensureRecovered(onEvent);
    if (!report) report = await load?.stop();
    events.close();
  }
  const lost = report ? await countLost([], prefix, report.acknowledgedIds, rec.password, { sentinels, name: sc.masterName }) : 0;
  const { acknowledgedIds: _ids, ...summary } = report ?? ({} as LoadReport);
  const status = await sentinelStatus(o.conns, sentinels, sc.masterName, { replicas: rec.replicasPerMaster, sentinels: sc.nodes.length });
  return {
    master: addrKey(masterAddr),
    newMaster: newMaster ? addrKey(newMaster) : undefined,
    mode: o.mode,
    downAfterMs: sc.downAfterMs,
    events: Object.fromEntries(DRILL_EVENTS.filter((e) => events.first.has(e)).map((e) => [e, events.first.get(e)!])),
    allAgreeMs,
    rejoinedMs,
    load: report ? { ...summary, lost } : undefined,
    status,
  };
}
