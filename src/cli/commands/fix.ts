import type { Command } from 'commander';
import { checkCluster } from '../../cluster/check.js';
import { fixCluster } from '../../cluster/fix.js';
import { settledVerdict, waitSettled } from '../../cluster/ready.js';
import { mastersOf } from '../../cluster/snapshot.js';
import { findStrayKeys } from '../../cluster/stray-keys.js';
import { ExitCode } from '../../errors.js';
import { outputOptions } from '../options.js';
import { durationMs, positiveInt } from '../parse.js';
import { declined } from '../declined.js';
import { confirmOrRefuse } from '../prompt.js';
import { runCommand } from '../run.js';
import { changeTargetOptions, withExclusive, type LockFlags } from '../exclusive.js';
import { checkView } from '../views/cluster-views.js';

type FixFlags = LockFlags & { pipeline?: number; timeout?: number; replace?: boolean; json?: boolean; yes?: boolean };

export function registerFix(program: Command): void {
  outputOptions(
    changeTargetOptions(program.command('fix').description('repair open slots, uncovered slots and multiple owners without losing keys'))
      .option('--pipeline <n>', 'keys per MIGRATE', positiveInt, 1000)
      .option('--timeout <ms>', 'MIGRATE timeout in milliseconds', durationMs, 60_000)
      .option('--replace', 'overwrite keys that already exist on the receiving node'),
  ).action((flags: FixFlags) =>
    runCommand(flags, async (ctx) => {
      // A repair must run even when the lease's own slot is not served (it may be what needs fixing).
      return withExclusive(flags, ctx, 'fix', async ({ conns, snapshot: first, target, lease }) => {
        const snapshot = await waitSettled(conns, first.seed, { signal: ctx.signal });
        const stray = await findStrayKeys(conns, snapshot);
        const before = checkCluster(snapshot, {}, stray);
        const repairable = before.findings.filter((f) => ['OPEN_SLOT', 'SLOTS_UNCOVERED', 'MULTIPLE_OWNERS'].includes(f.code));
        if (repairable.length === 0) {
          return { data: { actions: [], healthy: before.healthy, findings: before.findings }, human: `Nothing to fix: no open slots, uncovered slots or stray keys.\n\n${checkView(snapshot, before)}`, exitCode: before.healthy ? 0 : ExitCode.problems };
        }
        const ok = await confirmOrRefuse(ctx, `Repair ${repairable.length} finding(s) (${[...new Set(repairable.map((f) => f.code))].join(', ')})?`, 'Repairing the cluster');
        if (!ok) return declined({ actions: [] });
        const res = await fixCluster(snapshot, {
          conns,
          password: target.password,
          onEvent: ctx.onEvent,
          pipeline: flags.pipeline ?? 1000,
          timeoutMs: flags.timeout ?? 60_000,
          replace: Boolean(flags.replace),
          ownKeys: lease.exclusive ? 1 : 0,
          stray,
        });
        // Ownership changes reach every node by gossip: judge once they settled (bounded), on what is still wrong.
        const verdict = await settledVerdict(conns, snapshot.seed, { signal: ctx.signal, expect: { keysBefore: { keys: res.keysBefore, expires: mastersOf(snapshot).reduce((n, m) => n + m.expires, 0) }, ownKeys: lease.exclusive ? 1 : 0 } });
        const settled = { s: verdict.snapshot, c: verdict.check };
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
      }, { allowUnserved: true });
    }),
  );
}
