import type { Command } from 'commander';
import { checkCluster } from '../../cluster/check.js';
import { fixCluster } from '../../cluster/fix.js';
import { waitSettled } from '../../cluster/ready.js';
import { takeSnapshot } from '../../cluster/snapshot.js';
import { findStrayKeys } from '../../cluster/stray-keys.js';
import { ExitCode } from '../../errors.js';
import { waitUntil } from '../../util/wait.js';
import { outputOptions, targetOptions } from '../options.js';
import { toInt } from '../parse.js';
import { confirmOrRefuse } from '../prompt.js';
import { runCommand } from '../run.js';
import { openCluster, type TargetFlags } from '../target.js';
import { checkView } from '../views/cluster-views.js';

type FixFlags = TargetFlags & { pipeline?: string; timeout?: string; replace?: boolean; json?: boolean; yes?: boolean };

export function registerFix(program: Command): void {
  outputOptions(
    targetOptions(program.command('fix').description('repair open slots, uncovered slots and multiple owners without losing keys'))
      .option('--pipeline <n>', 'keys per MIGRATE', '1000')
      .option('--timeout <ms>', 'MIGRATE timeout', '60000')
      .option('--replace', 'overwrite keys that already exist on the receiving node'),
  ).action((flags: FixFlags) =>
    runCommand(flags, async (ctx) => {
      const { conns, snapshot: first, target } = await openCluster(flags);
      try {
        const snapshot = await waitSettled(conns, first.seed, { signal: ctx.signal });
        const before = checkCluster(snapshot, {}, await findStrayKeys(conns, snapshot));
        const repairable = before.findings.filter((f) => ['OPEN_SLOT', 'SLOTS_UNCOVERED', 'MULTIPLE_OWNERS'].includes(f.code));
        if (repairable.length === 0) {
          return { data: { actions: [], healthy: before.healthy, findings: before.findings }, human: `Nothing to fix: no open slots, uncovered slots or stray keys.\n\n${checkView(snapshot, before)}`, exitCode: before.healthy ? 0 : ExitCode.problems };
        }
        const ok = await confirmOrRefuse(ctx, `Repair ${repairable.length} finding(s) (${[...new Set(repairable.map((f) => f.code))].join(', ')})?`, 'Repairing the cluster');
        if (!ok) return { data: { actions: [] }, human: 'Nothing changed.', exitCode: ExitCode.problems };
        const res = await fixCluster(snapshot, {
          conns,
          password: target.password,
          onEvent: ctx.onEvent,
          pipeline: toInt(flags.pipeline, '--pipeline', 1000),
          timeoutMs: toInt(flags.timeout, '--timeout', 60_000),
          replace: Boolean(flags.replace),
        });
        // Ownership changes reach every node by gossip; give it a moment before judging.
        const settled = await waitUntil(
          'the repaired cluster to settle',
          async () => {
            const s = await takeSnapshot(conns, snapshot.seed);
            const c = checkCluster(s, {}, await findStrayKeys(conns, s));
            return c.healthy ? { done: true, value: { s, c } } : { done: false, reason: c.findings.find((f) => f.severity === 'problem')?.message ?? '' };
          },
          { timeoutMs: 10_000, intervalMs: 100, signal: ctx.signal },
        ).catch(async () => {
          const s = await takeSnapshot(conns, snapshot.seed);
          return { s, c: checkCluster(s, {}, await findStrayKeys(conns, s)) };
        });
        const human = [
          ...res.actions.map((a) => `  - ${a}`),
          `Keys on all masters: ${res.keysBefore} before, ${res.keysAfter} after${res.keysAfter === res.keysBefore ? ': none lost' : ''}.`,
          '',
          checkView(settled.s, settled.c),
        ].join('\n');
        return {
          data: { actions: res.actions, keysBefore: res.keysBefore, keysAfter: res.keysAfter, healthy: settled.c.healthy, findings: settled.c.findings },
          human,
          exitCode: settled.c.healthy ? ExitCode.ok : ExitCode.problems,
        };
      } finally {
        await conns.closeAll();
      }
    }),
  );
}
