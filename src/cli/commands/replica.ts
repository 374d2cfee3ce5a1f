import type { Command } from 'commander';
import { outputOptions } from '../options.js';
import { runCommand } from '../run.js';
import { changeTargetOptions, type LockFlags } from '../exclusive.js';
import { opts, withTarget } from '../target.js';
import { infoTable } from '../views/cluster-views.js';

export function registerReplica(program: Command): void {
  const replica = program.command('replica').description('replica management');
  outputOptions(
    changeTargetOptions(replica.command('attach').description('attach a node as replica of a master, or move a replica').argument('<replica>', 'id, unique id prefix or host:port')).requiredOption(
      '--master <id>',
      'the master to follow',
    ),
  ).action((ref: string, flags: LockFlags & { master: string; json?: boolean; yes?: boolean }) =>
    runCommand(flags, (ctx) =>
      withTarget(flags, async (c) => {
        const res = await c.attachReplica(ref, flags.master, opts(ctx, flags));
        return {
          data: { replicaId: res.replicaId, masterId: res.masterId, changed: res.changed },
          human: `${infoTable(res.snapshot)}\n\n${res.changed ? `${res.replicaId.slice(0, 8)} now replicates ${res.masterId.slice(0, 8)}, link up.` : `${res.replicaId.slice(0, 8)} already replicates ${res.masterId.slice(0, 8)}.`}`,
        };
      }),
    ),
  );
  replica.commands.forEach((c) => c.exitOverride());
}
