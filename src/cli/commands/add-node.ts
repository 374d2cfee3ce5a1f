import type { Command } from 'commander';
import { outputOptions } from '../options.js';
import { runCommand } from '../run.js';
import { changeTargetOptions, type LockFlags } from '../exclusive.js';
import { opts, withTarget } from '../target.js';
import { infoTable, nodeRow, orderedNodes } from '../views/cluster-views.js';

type AddFlags = LockFlags & { addr?: string; replicaOf?: string; json?: boolean; yes?: boolean };

export function registerAddNode(program: Command): void {
  outputOptions(
    changeTargetOptions(program.command('add-node').description('add an empty node as master or replica; without --addr, provision a new container/process'))
      .option('--addr <host:port>', 'a running, empty, cluster-enabled node to add')
      .option('--replica-of <id|auto>', 'join as a replica of this master ("auto": fewest replicas, another machine preferred)'),
  ).action((flags: AddFlags) =>
    runCommand(flags, (ctx) =>
      withTarget(flags, async (c) => {
        const res = await c.addNode({ ...opts(ctx, flags), addr: flags.addr, replicaOf: flags.replicaOf });
        const s = res.snapshot;
        return {
          data: { id: res.id, address: `${res.addr.host}:${res.addr.port}`, role: res.role, masterId: res.masterId ?? null, nodes: orderedNodes(s).map((n) => nodeRow(s, n)) },
          human: `${infoTable(s)}\n\nAdded ${res.addr.host}:${res.addr.port} (${res.id.slice(0, 8)}) as ${res.role === 'master' ? 'an empty master: give it slots with `rctl rebalance --use-empty-masters`' : `a replica of ${res.masterId?.slice(0, 8)}`}.`,
        };
      }),
    ),
  );
}
