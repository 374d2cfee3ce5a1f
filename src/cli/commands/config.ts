import type { Command } from 'commander';
import { outputOptions } from '../options.js';
import { intAtLeast, nonNegativeInt, toInt } from '../parse.js';
import { runCommand } from '../run.js';
import { changeTargetOptions, type LockFlags } from '../exclusive.js';
import { opts, withTarget } from '../target.js';
import { table } from '../views/table.js';

type WriteSafetyFlags = LockFlags & { minReplicasToWrite?: number; minReplicasMaxLag?: number; json?: boolean; yes?: boolean };

/** `rctl config <setting>`: change a setting on every node of a running cluster, verified. */
export function registerConfig(program: Command): void {
  const config = program.command('config').description('change settings on every node of a running cluster');
  outputOptions(
    changeTargetOptions(
      config
        .command('write-safety')
        .description('set min-replicas-to-write / min-replicas-max-lag on every node (CONFIG SET, verified): a master cut from its replicas stops acknowledging writes after ≈ max-lag')
        .requiredOption('--min-replicas-to-write <n>', 'replicas that must have acknowledged within --min-replicas-max-lag for a master to accept writes (0: off)', nonNegativeInt)
        .option('--min-replicas-max-lag <s>', 'min-replicas-max-lag in seconds (default: unchanged)', intAtLeast(1)),
    ),
  ).action((flags: WriteSafetyFlags) =>
    runCommand(flags, (ctx) =>
      withTarget(flags, async (c) => {
        const r = await c.setWriteSafety({
          ...opts(ctx, flags),
          minReplicasToWrite: toInt(flags.minReplicasToWrite, '--min-replicas-to-write'),
          minReplicasMaxLagS: flags.minReplicasMaxLag === undefined ? undefined : toInt(flags.minReplicasMaxLag, '--min-replicas-max-lag'),
        });
        const notPersisted = r.nodes.filter((n) => !n.persisted).length;
        return {
          data: { minReplicasToWrite: r.minReplicasToWrite, minReplicasMaxLagS: r.minReplicasMaxLagS, recorded: r.recorded, nodes: r.nodes },
          human: [
            table(['node', 'role', 'min-replicas-to-write', 'min-replicas-max-lag', 'saved'], r.nodes.map((n) => [n.address, n.role, n.minReplicasToWrite, `${n.minReplicasMaxLagS} s`, n.persisted ? 'yes' : 'no'])),
            '',
            r.minReplicasToWrite === 0
              ? `Write fence off on ${r.nodes.length} node(s): an isolated master acknowledges writes until it notices the partition (≈ cluster-node-timeout).`
              : `Every node now needs ${r.minReplicasToWrite} replica(s) acknowledged within ${r.minReplicasMaxLagS} s to accept writes as a master (${r.nodes.length} node(s), read back with CONFIG GET).`,
            ...(notPersisted > 0 ? [`${notPersisted} node(s) have no config file to save it to (CONFIG REWRITE failed): they lose it on restart${r.recorded ? '; nodes rctl starts later get it from the record' : ''}.`] : []),
          ].join('\n'),
        };
      }),
    ),
  );
}
