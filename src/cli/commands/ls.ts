import type { Command } from 'commander';
import { checkCluster } from '../../cluster/check.js';
import { createInterrupted } from '../../cluster/create.js';
import { AdminConnections } from '../../redis/connection.js';
import { mastersOf, replicasOf, type Snapshot } from '../../cluster/snapshot.js';
import { sentinelStatus } from '../../sentinel/status.js';
import { listRecords, type ClusterRecord } from '../../state/records.js';
import { outputOptions } from '../options.js';
import { runCommand } from '../run.js';
import { openCluster } from '../../index.js';
import { table } from '../views/table.js';

/** What ls shows of a cluster that answers: counted live, since add-node, del-node, failovers change it. */
interface Live {
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
async function liveState(r: ClusterRecord): Promise<Live> {
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

export function registerLs(program: Command): void {
  outputOptions(program.command('ls').description('clusters rctl created: name, provider, nodes, state')).action((flags: { json?: boolean; yes?: boolean }) =>
    runCommand(flags, async () => {
      const records = await listRecords();
      const rows = await Promise.all(
        records.map(async (r) => {
          const live = await liveState(r);
          return {
            name: r.name,
            provider: r.provider,
            network: r.network,
            image: r.image ?? null,
            nodes: live.nodes ?? r.nodes.length,
            kind: r.kind,
            // Live when the cluster answers; the record (kept in step by add-node, del-node, scale) otherwise.
            layout: r.kind === 'sentinel' ? `1+${r.replicasPerMaster}, ${r.sentinel?.nodes.length ?? 0} sentinels` : (live.layout ?? `${r.masters}x${r.replicasPerMaster}`),
            ports: r.nodes.length ? `${Math.min(...r.nodes.map((n) => n.port))}-${Math.max(...r.nodes.map((n) => n.port))}` : '-',
            createdAt: r.createdAt,
            state: live.state,
            // --json: numbers and fixed words instead of the display strings above (docs/json.md).
            json: {
              state: live.status,
              problems: live.problems ?? null,
              masters: live.masters ?? (r.kind === 'sentinel' ? 1 : r.masters),
              replicas: live.replicas ?? (r.kind === 'sentinel' ? r.replicasPerMaster : r.masters * r.replicasPerMaster),
              sentinels: r.sentinel?.nodes.length ?? null,
              ports: r.nodes.length ? { first: Math.min(...r.nodes.map((n) => n.port)), last: Math.max(...r.nodes.map((n) => n.port)) } : null,
            },
          };
        }),
      );
      return {
        data: { clusters: rows.map(({ json, layout: _layout, ports: _ports, state: _state, ...common }) => ({ ...common, ...json })) },
        human: rows.length === 0 ? 'No clusters. Create one with `rctl create --masters 3 --replicas 1`.' : table(['name', 'kind', 'provider', 'nodes', 'layout', 'ports', 'state'], rows.map((r) => [r.name, r.kind, r.provider, r.nodes, r.layout, r.ports, r.state])),
      };
    }),
  );
}
