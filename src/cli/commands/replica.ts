import type { Command } from 'commander';
import { waitUntilReady } from '../../cluster/ready.js';
import { attachReplica } from '../../cluster/replica-attach.js';
import { outputOptions } from '../options.js';
import { runCommand } from '../run.js';
import { changeTargetOptions, withExclusive, type LockFlags } from '../exclusive.js';
import { infoTable } from '../views/cluster-views.js';

export function registerReplica(program: Command): void {
  const replica = program.command('replica').description('replica management');
  outputOptions(
    changeTargetOptions(replica.command('attach').description('attach a node as replica of a master, or move a replica').argument('<replica>', 'id, unique id prefix or host:port')).requiredOption(
      '--master <id>',
      'the master to follow',
    ),
  ).action((ref: string, flags: LockFlags & { master: string; json?: boolean; yes?: boolean }) =>
    runCommand(flags, async (ctx) => {
      return withExclusive(flags, ctx, 'replica attach', async ({ conns, snapshot }) => {
        const s = await waitUntilReady(conns, snapshot.seed, { what: 'attaching a replica', signal: ctx.signal });
        const res = await attachReplica(s, ref, flags.master, { conns, signal: ctx.signal, onEvent: ctx.onEvent });
        return {
          data: { replicaId: res.replicaId, masterId: res.masterId, changed: res.changed },
          human: `${infoTable(res.snapshot)}\n\n${res.changed ? `${res.replicaId.slice(0, 8)} now replicates ${res.masterId.slice(0, 8)}, link up.` : `${res.replicaId.slice(0, 8)} already replicates ${res.masterId.slice(0, 8)}.`}`,
        };
      });
    }),
  );
  replica.commands.forEach((c) => c.exitOverride());
}
