import type { Command } from 'commander';
import { checkCluster } from '../../cluster/check.js';
import { findStrayKeys } from '../../cluster/stray-keys.js';
import { ExitCode } from '../../errors.js';
import { outputOptions, targetOptions } from '../options.js';
import { toInt } from '../parse.js';
import { runCommand } from '../run.js';
import { openCluster, type TargetFlags } from '../target.js';
import { checkView } from '../views/cluster-views.js';

export function registerCheck(program: Command): void {
  outputOptions(
    targetOptions(program.command('check').description('checklist of cluster health; exit 0 healthy, 1 problems found, 2+ errors')).option(
      '--replicas <n>',
      'replicas every master should have (default: what rctl created it with)',
    ),
  ).action((flags: TargetFlags & { replicas?: string; json?: boolean; yes?: boolean }) =>
    runCommand(flags, async () => {
      const { conns, snapshot, target } = await openCluster(flags);
      try {
        const stray = await findStrayKeys(conns, snapshot);
        const expected = flags.replicas !== undefined ? toInt(flags.replicas, '--replicas') : target.record?.replicasPerMaster;
        const result = checkCluster(snapshot, { replicasPerMaster: expected }, stray);
        return {
          data: { healthy: result.healthy, fingerprint: snapshot.fingerprint, checklist: result.checklist, findings: result.findings },
          human: checkView(snapshot, result),
          exitCode: result.healthy ? ExitCode.ok : ExitCode.problems,
        };
      } finally {
        await conns.closeAll();
      }
    }),
  );
}
