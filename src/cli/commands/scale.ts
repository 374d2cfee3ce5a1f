import { Option, type Command } from 'commander';
import { ExitCode, RctlError, type ScaleStepView } from '../../index.js';
import type { CommandContext, CommandOutput } from '../context.js';
import { outputOptions, recordedTargetOptions } from '../options.js';
import { nonNegativeInt, positiveInt } from '../parse.js';
import { runCommand } from '../run.js';
import { changeTargetOptions, type LockFlags } from '../exclusive.js';
import { opts, orDeclined, targetFlag, withTarget } from '../target.js';
import { concurrencyOption } from '../concurrency.js';
import { infoTable } from '../views/cluster-views.js';
import { ms, table } from '../views/table.js';

type ScaleFlags = LockFlags & { masters?: number; replicas?: number; node?: string[]; to?: string; concurrency?: number; dryRun?: boolean; json?: boolean; yes?: boolean };

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function registerScale(program: Command): void {
  outputOptions(
    // It starts nodes like create did, so it needs the cluster's record: --name, never --seed (hidden: refused with a reason).
    recordedTargetOptions(program.command('scale-out').description('add shards: provision, add masters, rebalance, attach replicas, check between every step'))
      .addOption(new Option('--seed <host:port>').hideHelp())
      .option('--masters <n>', 'masters to add', positiveInt, 1)
      .option('--replicas <n>', 'replicas for each new master', nonNegativeInt, 1)
      .option('--break-lock', "take the cluster's lease even if another operation holds it (asks first; --yes confirms)")
      .addOption(concurrencyOption())
      .option('--dry-run', 'show the steps, change nothing'),
  ).action((flags: ScaleFlags) => runCommand(flags, (ctx) => scale(ctx, flags, 'scale-out')));

  outputOptions(
    changeTargetOptions(program.command('scale-in').description('remove shards: replicas, drain slots, remove the master, delete containers, check between every step'))
      .option('--masters <n>', 'shards to remove (default 1: the most recently added)', positiveInt)
      .option('--node <id>', 'remove the shard of this node (repeatable); a replica names its master\'s shard', collect)
      .option('--to <id>', 'move all drained slots to this master (default: spread evenly)')
      .addOption(concurrencyOption())
      .option('--dry-run', 'show the steps, change nothing'),
  ).action((flags: ScaleFlags) => runCommand(flags, (ctx) => scale(ctx, flags, 'scale-in')));
}

async function scale(ctx: CommandContext, flags: ScaleFlags, kind: 'scale-out' | 'scale-in'): Promise<CommandOutput> {
  if (kind === 'scale-out' && flags.seed) {
    throw new RctlError('USAGE', 'scale-out starts new nodes, which rctl can only do for clusters it created: pass --name, not --seed.', {
      hint: 'On other clusters, start empty nodes yourself and use `rctl add-node --addr host:port` (then `rctl rebalance --use-empty-masters`).',
    });
  }
  return orDeclined(
    () =>
      withTarget(flags, async (c) => {
        ctx.setRepairHint(`Run \`rctl ${kind} ${targetFlag(flags)}\` again: it continues where it stopped. Then \`rctl check ${targetFlag(flags)}\`.`);
        let shown = '';
        const t0 = performance.now();
        const o = {
          ...opts(ctx, flags),
          masters: flags.masters,
          replicas: flags.replicas,
          nodes: flags.node,
          to: flags.to,
          concurrency: flags.concurrency,
          dryRun: Boolean(flags.dryRun),
          onSteps: (steps: readonly ScaleStepView[], continuing: { startedAt: string } | undefined) => {
            shown = `${continuing ? `Continuing the interrupted ${kind} started ${continuing.startedAt}:\n` : ''}${table(['step', 'what'], steps.map((st, i) => [i + 1, st.description]))}`;
            if (!flags.dryRun && !ctx.json) process.stderr.write(`${shown}\n`);
          },
        };
        const res = kind === 'scale-out' ? await c.scaleOut(o) : await c.scaleIn(o);
        if (!res.applied) return { data: { kind, dryRun: true, continuing: res.continuing, steps: res.steps }, human: `${shown}\n(dry run: nothing changed)` };
        const human = [
          table(['step', 'took', 'result'], (res.rows ?? []).map((r) => [r.step, ms(r.ms), r.detail])),
          `${kind} done in ${ms(performance.now() - t0)}.`,
          '',
          infoTable(res.snapshot!),
          res.check!.healthy ? 'Check: healthy.' : `Check: ${res.check!.findings.filter((f) => f.severity === 'problem').map((f) => f.message).join(' ')}`,
        ].join('\n');
        return {
          data: { kind, applied: true, steps: res.rows, healthy: res.check!.healthy, findings: res.check!.findings, masters: res.masters },
          human,
          exitCode: res.check!.healthy ? ExitCode.ok : ExitCode.problems,
        };
      }),
    { kind, applied: false },
  );
}
