import { addrKey } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { readNode, type NodeState } from '../cluster/snapshot.js';
import { RctlError } from '../errors.js';
import { noEvents, type EventSink } from '../events.js';
import { sleep, throwIfAborted } from '../util/abort.js';

export interface FailoverTimeline {
  /** ms after the fault when some node first flagged the master fail? (PFAIL). */
  readonly pfailMs: number | undefined;
  /** ... flagged it fail (FAIL: a majority of masters agreed). */
  readonly failMs: number | undefined;
  /** ... one of its replicas reported itself master. */
  readonly promotedMs: number | undefined;
  /** ... every other node reported cluster_state:ok and named the new master. */
  readonly stateOkMs: number | undefined;
  readonly newMaster: string | undefined;
}

const STEP = 'observe the failover';

/**
 * Watch a master's failure from the other nodes' point of view, polling every `intervalMs`; never
 * talks to the faulted node (a frozen node would only make the poll hang). Bounded by `maxMs`.
 * With node-timeout 15 s this takes half a minute, so it says what it waits for: each milestone as a
 * note, and a `waiting` event every second naming the next one and the time since the fault.
 */
export async function observeFailover(
  conns: AdminConnections,
  observers: readonly NodeState[],
  masterId: string,
  t0: number,
  o: { maxMs: number; intervalMs?: number; signal?: AbortSignal | undefined; onEvent?: EventSink; nodeTimeoutMs?: number },
): Promise<FailoverTimeline> {
  const onEvent = o.onEvent ?? noEvents;
  const short = masterId.slice(0, 8);
  let reportedAt = -Infinity;
  let reportedPhase = '';
  let pfailMs: number | undefined;
  let failMs: number | undefined;
  let promotedMs: number | undefined;
  let stateOkMs: number | undefined;
  let newMaster: string | undefined;
  const milestone = (what: string, at: number): void => onEvent({ type: 'note', message: `${what} ${at} ms after the fault` });
  const replicas = observers.filter((n) => n.self.masterId === masterId).map((n) => n.id);
  while (stateOkMs === undefined) {
    throwIfAborted(o.signal);
    const at = performance.now() - t0;
    if (at > o.maxMs) break;
    const views = (await Promise.all(observers.map((n) => readNode(conns, n.addr).catch(() => undefined)))).filter((v): v is NodeState => v !== undefined);
    const now = Math.round(performance.now() - t0);
    for (const v of views) {
      const line = v.view.find((l) => l.id === masterId);
      if ((line?.flags.includes('fail?') || line?.flags.includes('fail')) && pfailMs === undefined) {
        pfailMs = now;
        milestone(`${addrKey(v.addr)} flags ${short} PFAIL`, now);
      }
      if (line?.flags.includes('fail') && failMs === undefined) {
        failMs = now;
        milestone(`${short} is FAIL (a majority of masters agree)`, now);
      }
      if (replicas.includes(v.id) && v.role === 'master' && promotedMs === undefined) {
        promotedMs = now;
        newMaster = v.id;
        milestone(`replica ${v.id.slice(0, 8)} (${addrKey(v.addr)}) reports itself master`, now);
      }
    }
    if (newMaster && views.length === observers.length && views.every((v) => v.clusterState === 'ok' && v.view.find((l) => l.id === newMaster)?.flags.includes('master'))) stateOkMs = now;
    if (stateOkMs === undefined) {
      const phase = awaiting(views, observers.length, short, newMaster, { pfailMs, failMs }, o.nodeTimeoutMs);
      if (now - reportedAt >= (phase !== reportedPhase ? 250 : 1000)) {
        onEvent({ type: 'waiting', step: STEP, awaiting: phase, elapsedMs: now, boundMs: o.maxMs });
        reportedPhase = phase;
        reportedAt = now;
      }
      await sleep(o.intervalMs ?? 20, o.signal);
    }
  }
  if (promotedMs === undefined) {
    throw new RctlError('TIMEOUT', `No replica took over within ${(o.maxMs / 1000).toFixed(0)} s of the fault (PFAIL ${pfailMs ?? '-'} ms, FAIL ${failMs ?? '-'} ms).`, {
      hint: 'A replica that never finished its first sync refuses promotion (`rctl check` shows replica links); masters also refuse to vote for a shard again within 2 x cluster-node-timeout of its last failover, so wait that long between drills on one shard.',
      details: { pfailMs, failMs },
    });
  }
  return { pfailMs, failMs, promotedMs, stateOkMs, newMaster };
}

/** What the failover waits for next, in words, from the observers' latest views. */
function awaiting(views: readonly NodeState[], expected: number, short: string, newMaster: string | undefined, seen: { pfailMs: number | undefined; failMs: number | undefined }, nodeTimeoutMs: number | undefined): string {
  if (seen.pfailMs === undefined) return `waiting for a node to flag ${short} PFAIL (no reply for cluster-node-timeout${nodeTimeoutMs ? ` = ${nodeTimeoutMs} ms` : ''})`;
  if (seen.failMs === undefined) return `PFAIL seen; waiting for a majority of masters to agree ${short} failed (FAIL)`;
  if (newMaster === undefined) return `FAIL seen; waiting for a replica to win the election (it waits 500-1000 ms plus 1 s per better-ranked replica, then needs a majority of votes)`;
  if (views.length < expected) return `${newMaster.slice(0, 8)} promoted; ${expected - views.length} observer(s) did not answer this poll`;
  const lagging = views.find((v) => v.clusterState !== 'ok' || !v.view.find((l) => l.id === newMaster)?.flags.includes('master'));
  return `${newMaster.slice(0, 8)} promoted; waiting until every node reports cluster_state:ok and names it master${lagging ? ` (${addrKey(lagging.addr)} not yet)` : ''}`;
}
