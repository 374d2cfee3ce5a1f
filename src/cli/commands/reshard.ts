import type { Command } from 'commander';
import { resolveNodeRef } from '../../cluster/node-ref.js';
import { askMaster, askSlots, askSources } from '../ask.js';
import { concurrencyOption } from '../concurrency.js';
import { outputOptions } from '../options.js';
import { durationMs, positiveInt } from '../parse.js';
import { runMove, type MoveFlags } from '../plan-flow.js';
import { checkPlanOut } from '../plan-out.js';
import { runCommand } from '../run.js';
import { changeTargetOptions, type LockFlags } from '../exclusive.js';
import { targetFlag, withTarget } from '../target.js';

export function moveOptions(cmd: Command): Command {
  return cmd
    .option('--dry-run', 'show the plan, change nothing')
    .option('--out <file>', 'save the plan as JSON (apply it later with `rctl apply`)')
    .option('--pipeline <n>', 'keys per MIGRATE', positiveInt, 1000)
    .option('--timeout <ms>', 'MIGRATE timeout in milliseconds', durationMs, 60_000)
    .addOption(concurrencyOption())
    .option('--replace', 'overwrite keys that already exist on the target (BUSYKEY)')
    .option('--expect-deletes', 'clients delete keys during the move: fewer keys afterwards is a warning, not a failed verdict');
}

type ReshardFlags = LockFlags & MoveFlags & { from?: string; to?: string; slots?: number; json?: boolean; yes?: boolean };

export function registerReshard(program: Command): void {
  outputOptions(
    moveOptions(
      changeTargetOptions(program.command('reshard').description('move N slots to one master, planned, checked after every wave'))
        .option('--from <all|id,...>', 'source masters: "all" or ids / prefixes / host:port')
        .option('--to <id>', 'receiving master')
        .option('--slots <n>', 'how many slots to move', positiveInt)
        .option('--allow-replica-migration', "let Redis turn a master left without slots into a replica of the receiver (default: it stays a master)"),
    ),
  ).action((flags: ReshardFlags) =>
    runCommand(flags, async (ctx) => {
      await checkPlanOut(ctx, flags.out);
      return withTarget(flags, (c) =>
        runMove(ctx, c, flags, targetFlag(flags), (o) =>
          c.reshard(async (ready) => {
            // Missing flags are asked for on a terminal, against the cluster as it is now.
            const slots = flags.slots ?? (await askSlots(ctx, '--slots'));
            const to = flags.to ?? (await askMaster(ctx, ready, '--to', 'Which master receives the slots?'));
            const toId = resolveNodeRef(ready, to, '--to').id;
            const from = flags.from !== undefined ? (flags.from.trim() === 'all' ? ('all' as const) : flags.from.split(',').filter(Boolean)) : await askSources(ctx, ready, toId);
            return { from, to, slots };
          }, o),
        ),
      );
    }),
  );
}
