import { checkCluster } from '../cluster/check.js';
import { createInterrupted } from '../cluster/create.js';
import { mastersOf, replicasOf, type Snapshot } from '../cluster/snapshot.js';
import { AdminConnections } from '../redis/connection.js';
import { sentinelStatus } from '../sentinel/status.js';
import { listRecords, type ClusterRecord } from '../state/records.js';
import { openCluster } from './cluster-handle.js';

/** What ls shows of a cluster that answers: counted live, since add-node, del-node, failovers change it. */
export interface LiveState {
  readonly state: string;
  /** The state for --json: a fixed word, with the count of problems apart. */
  readonly status: 'healthy' | 'problems' | 'down' | 'creating' | 'interrupted';
  readonly problems?: number;
  readonly nodes?: number;
  readonly layout?: string;
  readonly masters?: number;
  readonly replicas?: number;
}

/** "3x1" when every master has the same number of replicas, else "4 masters, 3 replicas". */
function layoutOf(s: Snapshot): string {
  const masters = mastersOf(s);
  const counts = masters.map((m) => replicasOf(s, m.id).length);
  const replicas = s.nodes.filter((n) => n.role === 'replica').length;
  return counts.every((c) => c === counts[0]) && replicas === counts.reduce((a, b) => a + b, 0) ? `${masters.length}x${counts[0] ?? 0}` : `${masters.length} masters, ${replicas} replica${replicas === 1 ? '' : 's'}`;
}

/** Live state of a recorded cluster: healthy, N problems, down (nothing answers), or creating. */
export async function liveState(r: ClusterRecord): Promise<LiveState> {
  if (r.status === 'creating') {
    const interrupted = createInterrupted(r);
    return { state: interrupted ? `half-created by an interrupted create: \`rctl destroy --name ${r.name}\` removes it` : 'creating', status: interrupted ? 'interrupted' : 'creating' };
  }
  if (r.kind === 'sentinel' && r.sentinel) {
    const conns = new AdminConnections({ password: r.password, connectTimeoutMs: 500 });
    try {
      const st = await sentinelStatus(conns, r.sentinel.nodes.map((n) => ({ host: n.host, port: n.port })), r.sentinel.masterName, { replicas: r.replicasPerMaster, sentinels: r.sentinel.nodes.length });
      return { state: st.healthy ? 'healthy' : `${st.problems.length} problem(s)`, status: st.healthy ? 'healthy' : 'problems', problems: st.problems.length };
    } catch {
      return { state: 'down', status: 'down' };
    } finally {
      await conns.closeAll();
    }
  }
  try {
    const c = await openCluster({ name: r.name, connectTimeoutMs: 500 });
    const snapshot = await c.info().finally(() => c.close());
    const res = checkCluster(snapshot, { replicasPerMaster: r.replicasPerMaster });
    const problems = res.findings.filter((f) => f.severity === 'problem').length;
    return {
      state: problems === 0 ? 'healthy' : `${problems} problem(s)`,
      status: problems === 0 ? 'healthy' : 'problems',
      problems,
      nodes: snapshot.nodes.length + snapshot.unreachable.length,
      layout: layoutOf(snapshot),
      masters: mastersOf(snapshot).length,
      replicas: snapshot.nodes.filter((n) => n.role === 'replica').length,
    };
  } catch {
    return { state: 'down', status: 'down' };
  }
}

/** A recorded cluster and, when asked for, its live state. */
export interface ListedCluster {
  readonly record: ClusterRecord;
  readonly live: LiveState;
}

/**
 * The clusters and Sentinel groups rctl created (its records in ~/.rctl, or RCTL_HOME); with
 * `live`, each one's state read from the nodes themselves (500 ms connect timeout each: `rctl ls`).
 */
export async function listClusters(): Promise<ClusterRecord[]>;
export async function listClusters(o: { live: true }): Promise<ListedCluster[]>;
export async function listClusters(o: { live?: boolean } = {}): Promise<ClusterRecord[] | ListedCluster[]> {
  const records = await listRecords();
  if (!o.live) return records;
  return Promise.all(records.map(async (record) => ({ record, live: await liveState(record) })));
}
