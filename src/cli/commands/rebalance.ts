import type { Command } from 'commander';
import { waitUntilReady } from '../../cluster/ready.js';
import { planRebalance } from '../../reshard/plan-rebalance.js';
import { outputOptions, targetOptions } from '../options.js';
import { runPlan, type MoveFlags } from '../plan-flow.js';
import { runCommand } from '../run.js';
import { openCluster, targetFlag, type TargetFlags } from '../target.js';
import { moveOptions } from './reshard.js';

type RebalanceFlags = TargetFlags & MoveFlags & { weight?: string[]; threshold?: string; useEmptyMasters?: boolean; json?: boolean; yes?: boolean };

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function registerRebalance(program: Command): void {
  outputOptions(
    moveOptions(
      targetOptions(program.command('rebalance').description('even out slots over masters (by weight), planned, checked after every wave'))
        .option('--weight <id=w>', 'relative weight of a master (repeatable)', collect)
        .option('--threshold <percent>', 'move only if some master is off its share by more than this', '2')
        .option('--use-empty-masters', 'also give slots to masters that have none'),
    ),
  ).action((flags: RebalanceFlags) =>
    runCommand(flags, async (ctx) => {
      const threshold = Number(flags.threshold ?? '2');
      const { conns, snapshot, target } = await openCluster(flags);
      try {
        const ready = await waitUntilReady(conns, snapshot.seed, { what: 'a rebalance', signal: ctx.signal });
        const plan = planRebalance(ready, { weights: flags.weight ?? [], threshold, useEmptyMasters: Boolean(flags.useEmptyMasters) });
        return await runPlan(ctx, conns, ready, { ...plan, intent: { ...plan.intent, cluster: target.record?.name } }, flags, target.password, targetFlag(flags));
      } finally {
        await conns.closeAll();
      }
    }),
  );
}
