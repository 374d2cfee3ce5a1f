import type { AdminConnections } from '../cluster/connection.js';
import { readNode, type NodeState } from '../cluster/snapshot.js';
import { RctlError } from '../errors.js';
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

/**
 * Watch a master's failure from the other nodes' point of view, polling every `intervalMs`; never
 * talks to the faulted node (a frozen node would only make the poll hang). Bounded by `maxMs`.
 */
export async function observeFailover(conns: AdminConnections, observers: readonly NodeState[], masterId: string, t0: number, o: { maxMs: number; intervalMs?: number; signal?: AbortSignal | undefined }): Promise<FailoverTimeline> {
  let pfailMs: number | undefined;
  let failMs: number | undefined;
  let promotedMs: number | undefined;
  let stateOkMs: number | undefined;
  let newMaster: string | undefined;
  const replicas = observers.filter((n) => n.self.masterId === masterId).map((n) => n.id);
  while (stateOkMs === undefined) {
    throwIfAborted(o.signal);
    const at = performance.now() - t0;
    if (at > o.maxMs) break;
    const views = (await Promise.all(observers.map((n) => readNode(conns, n.addr).catch(() => undefined)))).filter((v): v is NodeState => v !== undefined);
    const now = Math.round(performance.now() - t0);
    for (const v of views) {
      const line = v.view.find((l) => l.id === masterId);
      if (line?.flags.includes('fail?')) pfailMs ??= now;
      if (line?.flags.includes('fail')) {
        pfailMs ??= now;
        failMs ??= now;
      }
      if (replicas.includes(v.id) && v.role === 'master') {
        promotedMs ??= now;
        newMaster ??= v.id;
      }
    }
    if (newMaster && views.length === observers.length && views.every((v) => v.clusterState === 'ok' && v.view.find((l) => l.id === newMaster)?.flags.includes('master'))) stateOkMs = now;
    if (stateOkMs === undefined) await sleep(o.intervalMs ?? 20, o.signal);
  }
  if (promotedMs === undefined) {
    throw new RctlError('TIMEOUT', `No replica took over within ${(o.maxMs / 1000).toFixed(0)} s of the fault (PFAIL ${pfailMs ?? '-'} ms, FAIL ${failMs ?? '-'} ms).`, {
      hint: 'A replica that never finished its first sync refuses promotion; `rctl check` shows replica links.',
      details: { pfailMs, failMs },
    });
  }
  return { pfailMs, failMs, promotedMs, stateOkMs, newMaster };
}
