import type { Command } from 'commander';
import { outputOptions } from '../options.js';
import { nonNegativeNumber } from '../parse.js';
import { runMove, type MoveFlags } from '../plan-flow.js';
import { checkPlanOut } from '../plan-out.js';
import { runCommand } from '../run.js';
import { changeTargetOptions, type LockFlags } from '../exclusive.js';
import { targetFlag, withTarget } from '../target.js';
import { moveOptions } from './reshard.js';

type RebalanceFlags = LockFlags & MoveFlags & { weight?: string[]; threshold?: number; useEmptyMasters?: boolean; json?: boolean; yes?: boolean };

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function registerRebalance(program: Command): void {
  outputOptions(
    moveOptions(
      changeTargetOptions(program.command('rebalance').description('even out slots over masters (by weight), planned, checked after every wave'))
        .option('--weight <id=w>', 'relative weight of a master (repeatable)', collect)
        .option('--threshold <percent>', 'move only if some master is off its share by more than this', nonNegativeNumber, 2)
        .option('--use-empty-masters', 'also give slots to masters that have none'),
    ),
  ).action((flags: RebalanceFlags) =>
    runCommand(flags, async (ctx) => {
      await checkPlanOut(ctx, flags.out);
      const threshold = flags.threshold ?? 2;
      return withTarget(flags, (c) => runMove(ctx, c, flags, targetFlag(flags), (o) => c.rebalance({ weights: flags.weight ?? [], threshold, useEmptyMasters: Boolean(flags.useEmptyMasters) }, o)));
    }),
  );
}
