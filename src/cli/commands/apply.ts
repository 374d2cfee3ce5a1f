import type { Command } from 'commander';
import { parseHostPort } from '../../redis/address.js';
import { concurrencyOption } from '../concurrency.js';
import { outputOptions } from '../options.js';
import { loadPlan, runMove, type MoveFlags } from '../plan-flow.js';
import { durationMs, positiveInt } from '../parse.js';
import { runCommand } from '../run.js';
import { changeTargetOptions, type LockFlags } from '../exclusive.js';
import { targetFlag, withTarget } from '../target.js';

type ApplyFlags = LockFlags & Omit<MoveFlags, 'out'> & { json?: boolean; yes?: boolean };

export function registerApply(program: Command): void {
  outputOptions(
    changeTargetOptions(program.command('apply').description('execute a saved plan; refused if the cluster changed since it was planned').argument('<plan.json>', 'plan file'))
      .option('--dry-run', 'show the plan and whether it still applies, change nothing')
      .option('--pipeline <n>', 'keys per MIGRATE', positiveInt, 1000)
      .option('--timeout <ms>', 'MIGRATE timeout in milliseconds', durationMs, 60_000)
      .addOption(concurrencyOption())
      .option('--replace', 'overwrite keys that already exist on the target (BUSYKEY)')
      .option('--expect-deletes', 'clients delete keys during the move: fewer keys afterwards is a warning, not a failed verdict'),
  ).action((file: string, flags: ApplyFlags) =>
    runCommand(flags, async (ctx) => {
      const plan = await loadPlan(file);
      // Without --seed/--name, the plan's own node addresses are the seeds.
      const cluster = typeof plan.intent['cluster'] === 'string' ? (plan.intent['cluster'] as string) : undefined;
      const firstAddr = Object.values(plan.nodes)[0];
      const tflags: LockFlags = flags.seed || flags.name ? flags : cluster ? { ...flags, name: cluster } : { ...flags, seed: firstAddr ? `${parseHostPort(firstAddr).host}:${parseHostPort(firstAddr).port}` : undefined };
      return withTarget(tflags, (c) => runMove(ctx, c, flags, targetFlag(tflags), (o) => c.apply(plan, o)));
    }),
  );
}
