import type { Command } from 'commander';
import { listClusters } from '../../index.js';
import { outputOptions } from '../options.js';
import { runCommand } from '../run.js';
import { table } from '../views/table.js';

export function registerLs(program: Command): void {
  outputOptions(program.command('ls').description('clusters rctl created: name, provider, nodes, state')).action((flags: { json?: boolean; yes?: boolean }) =>
    runCommand(flags, async () => {
      const listed = await listClusters({ live: true });
      const rows = await Promise.all(
        listed.map(async ({ record: r, live }) => {
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
