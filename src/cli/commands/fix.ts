import type { Command } from 'commander';
import { ExitCode } from '../../index.js';
import { outputOptions } from '../options.js';
import { durationMs, positiveInt } from '../parse.js';
import { runCommand } from '../run.js';
import { changeTargetOptions, type LockFlags } from '../exclusive.js';
import { opts, orDeclined, withTarget } from '../target.js';
import { checkView } from '../views/cluster-views.js';

type FixFlags = LockFlags & { pipeline?: number; timeout?: number; replace?: boolean; json?: boolean; yes?: boolean };

export function registerFix(program: Command): void {
  outputOptions(
    changeTargetOptions(program.command('fix').description('repair open slots, uncovered slots and multiple owners without losing keys'))
      .option('--pipeline <n>', 'keys per MIGRATE', positiveInt, 1000)
      .option('--timeout <ms>', 'MIGRATE timeout in milliseconds', durationMs, 60_000)
      .option('--replace', 'overwrite keys that already exist on the receiving node'),
  ).action((flags: FixFlags) =>
    runCommand(flags, (ctx) =>
      orDeclined(
        () =>
          withTarget(flags, async (c) => {
            const r = await c.fix({ ...opts(ctx, flags), pipeline: flags.pipeline, timeoutMs: flags.timeout, replace: flags.replace });
            if (r.repairable.length === 0) {
              return { data: { actions: [], healthy: r.healthy, findings: r.findings }, human: `Nothing to fix: no open slots, uncovered slots or stray keys.\n\n${checkView(r.snapshot, r.check)}`, exitCode: r.healthy ? 0 : ExitCode.problems };
            }
            const human = [
              ...r.actions.map((a) => `  - ${a}`),
              `Keys on all masters: ${r.keysBefore} before, ${r.keysAfter} after${r.keysAfter === r.keysBefore ? ': none lost' : ''}.`,
              '',
              checkView(r.snapshot, r.check),
            ].join('\n');
            return {
              data: { actions: r.actions, keysBefore: r.keysBefore, keysAfter: r.keysAfter, healthy: r.healthy, findings: r.findings },
              human,
              exitCode: r.healthy ? ExitCode.ok : ExitCode.problems,
            };
          }),
        { actions: [] },
      ),
    ),
  );
}
