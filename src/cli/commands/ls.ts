import type { Command } from 'commander';
import { checkCluster } from '../../cluster/check.js';
import { AdminConnections } from '../../cluster/connection.js';
import { sentinelStatus } from '../../sentinel/status.js';
import { listRecords, type ClusterRecord } from '../../state/records.js';
import { outputOptions } from '../options.js';
import { runCommand } from '../run.js';
import { openCluster } from '../target.js';
import { table } from '../views/table.js';

/** Live state of a recorded cluster: healthy, N problems, down (nothing answers), or creating. */
async function liveState(r: ClusterRecord): Promise<string> {
  if (r.status === 'creating') return 'creating (or interrupted: `rctl destroy` cleans up)';
  if (r.kind === 'sentinel' && r.sentinel) {
    const conns = new AdminConnections({ password: r.password, connectTimeoutMs: 500 });
    try {
      const st = await sentinelStatus(conns, r.sentinel.nodes.map((n) => ({ host: n.host, port: n.port })), r.sentinel.masterName, { replicas: r.replicasPerMaster, sentinels: r.sentinel.nodes.length });
      return st.healthy ? 'healthy' : `${st.problems.length} problem(s)`;
    } catch {
      return 'down';
    } finally {
      await conns.closeAll();
    }
  }
  try {
    const { conns, snapshot } = await openCluster({ name: r.name }, { connectTimeoutMs: 500 });
    await conns.closeAll();
    const res = checkCluster(snapshot, { replicasPerMaster: r.replicasPerMaster });
    const problems = res.findings.filter((f) => f.severity === 'problem').length;
    return problems === 0 ? 'healthy' : `${problems} problem(s)`;
  } catch {
    return 'down';
  }
}

export function registerLs(program: Command): void {
  outputOptions(program.command('ls').description('clusters rctl created: name, provider, nodes, state')).action((flags: { json?: boolean; yes?: boolean }) =>
    runCommand(flags, async () => {
      const records = await listRecords();
      const rows = await Promise.all(
        records.map(async (r) => ({
          name: r.name,
          provider: r.provider,
          network: r.network,
          image: r.image ?? null,
          nodes: r.nodes.length,
          kind: r.kind,
          layout: r.kind === 'sentinel' ? `1+${r.replicasPerMaster}, ${r.sentinel?.nodes.length ?? 0} sentinels` : `${r.masters}x${r.replicasPerMaster}`,
          ports: r.nodes.length ? `${Math.min(...r.nodes.map((n) => n.port))}-${Math.max(...r.nodes.map((n) => n.port))}` : '-',
          createdAt: r.createdAt,
          state: await liveState(r),
        })),
      );
      return {
        data: { clusters: rows },
        human: rows.length === 0 ? 'No clusters. Create one with `rctl create --masters 3 --replicas 1`.' : table(['name', 'kind', 'provider', 'nodes', 'layout', 'ports', 'state'], rows.map((r) => [r.name, r.kind, r.provider, r.nodes, r.layout, r.ports, r.state])),
      };
    }),
  );
}
