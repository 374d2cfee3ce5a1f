import { RctlError } from '../errors.js';
import { noEvents, step, type EventSink } from '../events.js';
import { emptyTally, runPrefix, type KeyTally } from '../failover/drill-keys.js';
import { agrees, predictLoss } from '../failover/loss-prediction.js';
import { summarizeLostWrites, type LostWriteReport } from '../failover/lost-writes-report.js';
import { readBack, startSideWriters, type SideWriters, waitFirstAcks } from '../failover/lost-writes.js';
import { partition, type PartitionHandle } from '../failover/partition.js';
import { planPartition, type PartitionNode } from '../failover/partition-plan.js';
import { reportingProbe } from '../failover/progress.js';
import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import type { ClusterRecord, NodeRecord } from '../state/records.js';
import { sleep } from '../util/abort.js';
import { waitUntil } from '../util/wait.js';
import { cleanUp, settledHealthy, type SentinelDrillReport } from './drill.js';
import { DRILL_EVENTS, switchedFrom, watchSentinelEvents } from './events.js';
import { waitAgreed } from './failover.js';
import { sentinelStatus } from './status.js';

export interface SentinelPartitionOptions {
  readonly conns: AdminConnections;
  /** How long the cut lasts at least (default: defaultCutMs). It is held until the Sentinels agree on a failover they started. */
  readonly durationMs?: number | undefined;
  readonly keepKeys?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly onEvent?: EventSink;
}

/** Enough for down-after, the Sentinels' vote and promotion (a second or two), and a margin. */
export const defaultCutMs = (downAfterMs: number): number => downAfterMs + 5_000;

/** Writer bounds: far more than a drill needs, so the bounds only stop a runaway writer. */
const WRITE_RATE_PER_SEC = 200;

/**
 * Refuse, before anything is touched, a group whose nodes and Sentinels do not each have their own
 * address (created without --address-per-node): a rule could not cut one of them alone.
 */
export function assertPartitionable(rec: ClusterRecord): void {
  const all = [...rec.nodes, ...(rec.sentinel?.nodes ?? [])];
  const seen = new Map<string, number>();
  for (const n of all) seen.set(n.host, (seen.get(n.host) ?? 0) + 1);
  const shared = [...seen].find(([, c]) => c > 1);
  if (shared || seen.has('127.0.0.1')) {
    throw new RctlError('REFUSED', `The nodes and Sentinels of "${rec.name}" ${shared ? `share address ${shared[0]}` : 'listen on 127.0.0.1, where clients connect from'}: network rules cannot cut the master alone.`, {
      hint: `Create the group with \`rctl sentinel create --address-per-node --host 127.0.0.41\` (one loopback address per node and Sentinel).`,
    });
  }
}

const asPartitionNode = (n: NodeRecord): PartitionNode => ({ id: addrKey(n), host: n.host, port: n.port, busPort: n.busPort });

/**
 * The Sentinel split-brain, measured: cut the master from every Sentinel and replica (both ways)
 * while a client on 127.0.0.1 still writes to it, alongside a Sentinel-aware writer. The Sentinels
 * fail over; the old master goes on acknowledging writes. Heal, wait until Sentinel turns the old
 * master into a replica of the new one (discarding those writes), read every write back and report
 * what was acknowledged but lost, next to what the Redis documentation predicts. Whatever happens
 * (an error, Ctrl-C) the rules are removed and the drill's keys deleted.
 */
export async function sentinelPartitionDrill(rec: ClusterRecord, o: SentinelPartitionOptions): Promise<SentinelDrillReport> {
  const onEvent = o.onEvent ?? noEvents;
  const sc = rec.sentinel!;
  assertPartitionable(rec);
  const durationMs = o.durationMs ?? defaultCutMs(sc.downAfterMs);
  const sentinels: NodeAddress[] = sc.nodes.map((n) => ({ host: n.host, port: n.port }));
  const masterAddr = (await settledHealthy(rec, o.conns, o.signal)).master;
  const master = rec.nodes.find((n) => addrKey(n) === addrKey(masterAddr));
  if (!master) throw new RctlError('REFUSED', `The master ${addrKey(masterAddr)} was not started by rctl.`);
  const replicas = rec.nodes.filter((n) => n !== master);
  const sideB = [...sc.nodes, ...replicas].map(asPartitionNode);
  // Pure: refuses (shared address, 127.0.0.1) before anything is touched.
  planPartition([asPartitionNode(master)], sideB, 'full');
  const fence = await minReplicas(o.conns, masterAddr);
  const predictionFor = (cutMs: number): ReturnType<typeof predictLoss> =>
    predictLoss({ kind: 'sentinel-partition', durationMs: cutMs, nodeTimeoutMs: 0, downAfterMs: sc.downAfterMs, minReplicasToWrite: fence.toWrite, minReplicasMaxLagS: fence.maxLagS });
  onEvent({ type: 'note', message: `prediction: ${predictionFor(durationMs).text}` });

  const prefix = runPrefix('sdrill');
  let t0 = performance.now();
  const events = await watchSentinelEvents(sentinels, sc.masterName, () => t0);
  let writers: SideWriters | undefined;
  let cut: PartitionHandle | undefined;
  let attempted: string[] = [];
  let keys: KeyTally = emptyTally(prefix);
  let lostWrites: LostWriteReport | undefined;
  let newMaster: NodeAddress | undefined;
  let allAgreeMs: number | undefined;
  let rejoinedMs: number | undefined;
  let cutMs: number | undefined;
  try {
    writers = await startSideWriters(
      [
        // A client that stays connected to the old master (from 127.0.0.1: the cut does not touch it).
        // Whole slot range: a Sentinel group's node is not a cluster node, any key will do.
        { label: 'old-master', target: { kind: 'node', addr: masterAddr, slots: [{ start: 0, end: 16383 }] } },
        { label: 'sentinel', target: { kind: 'sentinel', sentinels, name: sc.masterName } },
      ],
      { prefix, password: rec.password, maxMs: durationMs + 4 * sc.downAfterMs + 90_000, maxRatePerSec: WRITE_RATE_PER_SEC },
    );
    const w = writers;
    await waitFirstAcks(w, o.signal);
    onEvent({ type: 'note', message: `writers: keys ${prefix}:*, ${o.keepKeys ? 'left in place afterwards (--keep-keys)' : 'removed afterwards'}` });
    cut = await step(onEvent, `cut the master ${addrKey(masterAddr)} off ${sc.nodes.length} Sentinel(s) and ${replicas.length} replica(s), both ways (clients on 127.0.0.1 still reach it)`, () =>
      partition(rec.name, [asPartitionNode(master)], sideB, 'full'),
    );
    // Times count from the moment every rule is in place.
    const faultAtMs = w.now();
    t0 = performance.now();
    const since = (): number => Math.round(performance.now() - t0);
    // Watch while holding the cut: the failover's times are the Sentinels', not the hold's. A
    // failover under way when the hold ends is seen through (healing halfway would measure
    // something else); none started by then means the cut was shorter than down-after.
    const bound = durationMs + sc.downAfterMs * 3 + 60_000;
    const what = `hold the cut ≥ ${durationMs} ms, wait for +switch-master`;
    await step(onEvent, what, () =>
      waitUntil(
        `a Sentinel to announce +switch-master away from ${addrKey(masterAddr)}`,
        reportingProbe(
          onEvent,
          what,
          async () => {
            if (switchedFrom(events, masterAddr)) return { done: true, value: undefined };
            const started = events.first.has('+odown') || events.first.has('+try-failover');
            if (!started && since() >= durationMs) return { done: true, value: undefined };
            return { done: false, reason: `down-after ${sc.downAfterMs} ms; Sentinel events so far: ${[...events.first.keys()].join(' ') || 'none'}` };
          },
          bound,
        ),
        { timeoutMs: bound, intervalMs: 10, signal: o.signal },
      ),
    );
    newMaster = switchedFrom(events, masterAddr);
    if (newMaster) {
      const nm = newMaster;
      const others = replicas.map((n) => ({ host: n.host, port: n.port })).filter((n) => addrKey(n) !== addrKey(nm));
      await step(onEvent, 'wait until every Sentinel names the new master and the other replicas follow it', () =>
        waitAgreed(o.conns, sentinels, sc.masterName, nm, others, { timeoutMs: 60_000, signal: o.signal, onEvent }),
      );
      allAgreeMs = since();
    }
    const left = durationMs - since();
    if (left > 0) await step(onEvent, `hold the cut ${Math.round(left)} ms more (--duration ${durationMs})`, () => sleep(left, o.signal));
    await step(onEvent, 'heal', () => cut!.heal());
    cut = undefined;
    cutMs = since();
    if (newMaster) {
      const nm = newMaster;
      const followers = rec.nodes.map((n) => ({ host: n.host, port: n.port })).filter((n) => addrKey(n) !== addrKey(nm));
      // Sentinel reconnects to the returning node and, at its next INFO (10 s period), sends it REPLICAOF.
      await step(onEvent, 'wait until Sentinel turns the old master into a replica of the new one', () =>
        waitAgreed(o.conns, sentinels, sc.masterName, nm, followers, { timeoutMs: 60_000, signal: o.signal, onEvent }),
      );
    } else {
      await step(onEvent, 'wait until the group is healthy again (no failover)', () => settledHealthy(rec, o.conns, o.signal));
    }
    rejoinedMs = since();
    const records = await w.stop();
    writers = undefined;
    attempted = records.map((r) => r.key);
    const back = await step(onEvent, `read back ${records.length} write(s)`, () => readBack(records, { sentinels, name: sc.masterName, password: rec.password }));
    lostWrites = summarizeLostWrites(records, back, { faultAtMs });
  } finally {
    if (cut) await cut.heal().catch((err: unknown) => onEvent({ type: 'warning', message: `could not remove the partition's rules (${String(err)}): run \`rctl heal --name ${rec.name}\`` }));
    if (writers) attempted = (await writers.stop()).map((r) => r.key);
    events.close();
    if (attempted.length > 0) keys = await cleanUp({ conns: o.conns, keepKeys: o.keepKeys }, prefix, attempted, sentinels, sc.masterName, sc.downAfterMs, onEvent);
  }
  // The old master acknowledges until Sentinel makes it a replica, which is well after the heal:
  // Sentinel reconnects within a second, but only sends REPLICAOF once its INFO (every 10 s for a
  // node it lists as a replica) shows the node still claims to be master (measured: ~10 s after
  // the heal). So the exposure, not the cut, is what the window is judged on.
  const convertedMs = events.first.get('+convert-to-slave');
  const exposedMs = newMaster && convertedMs !== undefined ? Math.max(convertedMs, cutMs ?? 0) : (cutMs ?? durationMs);
  const predicted = predictionFor(exposedMs);
  const prediction =
    newMaster && cutMs !== undefined
      ? { ...predicted, text: `${predicted.text} (Measured exposure: the cut lasted ${cutMs} ms; Sentinel reconfigured the old master ${exposedMs} ms after the cut, at its first INFO after the heal (every 10 s for a replica); writes acknowledged until then are lost.)` }
      : predicted;
  const status = await sentinelStatus(o.conns, sentinels, sc.masterName, { replicas: rec.replicasPerMaster, sentinels: sc.nodes.length });
  return {
    master: addrKey(masterAddr),
    newMaster: newMaster ? addrKey(newMaster) : undefined,
    mode: 'partition',
    downAfterMs: sc.downAfterMs,
    events: Object.fromEntries(DRILL_EVENTS.filter((e) => events.first.has(e)).map((e) => [e, events.first.get(e)!])),
    allAgreeMs,
    rejoinedMs,
    load: undefined,
    keys,
    status,
    cutMs,
    exposedMs: newMaster ? exposedMs : undefined,
    lostWrites,
    prediction,
    agreement: lostWrites ? agrees(prediction, { failover: newMaster !== undefined, lost: { count: lostWrites.lost.count, lastAckMs: lostWrites.lost.lastAckMs } }) : undefined,
  };
}

/** The master's min-replicas-to-write / max-lag (0: not set), for the prediction. */
async function minReplicas(conns: AdminConnections, master: NodeAddress): Promise<{ toWrite: number; maxLagS: number }> {
  const get = async (name: string): Promise<number> => {
    const r = (await conns.run(master, (c) => c.call('CONFIG', 'GET', name))) as string[];
    return Number(r[1] ?? 0);
  };
  return { toWrite: await get('min-replicas-to-write'), maxLagS: await get('min-replicas-max-lag') };
}
