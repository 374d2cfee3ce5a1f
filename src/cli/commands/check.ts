import type { Command } from 'commander';
import { ExitCode } from '../../index.js';
import { readRecord } from '../../state/records.js';
import { describeHolder } from '../../cluster/lease.js';
import { outputOptions, targetOptions } from '../options.js';
import { nonNegativeInt } from '../parse.js';
import { runCommand } from '../run.js';
import { sentinelStatusOutput } from './sentinel.js';
import { DEFAULT_NAME, withTarget, type TargetFlags } from '../target.js';
import { checkView } from '../views/cluster-views.js';

export function registerCheck(program: Command): void {
  outputOptions(
    targetOptions(program.command('check').description('checklist of cluster health; exit 0 healthy, 1 problems found, 2+ errors')).option(
      '--replicas <n>',
      'replicas every master should have (default: what rctl created it with)',
      nonNegativeInt,
    ),
  ).action((flags: TargetFlags & { replicas?: number; json?: boolean; yes?: boolean }) =>
    runCommand(flags, async () => {
      // A Sentinel group has no cluster to check: answer with its Sentinel verdict (same exit codes).
      const group = flags.seed ? undefined : await readRecord(flags.name ?? DEFAULT_NAME);
      if (group?.kind === 'sentinel') return sentinelStatusOutput({ name: group.name, password: flags.password, passwordFile: flags.passwordFile, json: flags.json }, { replicas: flags.replicas });
      return withTarget(flags, async (c) => {
        const r = await c.check({ replicas: flags.replicas });
        const leaseLine = r.lease ? `\nAn operation is changing this cluster: ${describeHolder(r.lease)}.` : '';
        return {
          data: { healthy: r.healthy, fingerprint: r.fingerprint, checklist: r.checklist, findings: r.findings, lease: r.lease },
          human: checkView(r.snapshot, r.check) + leaseLine,
          exitCode: r.healthy ? ExitCode.ok : ExitCode.problems,
        };
      });
    }),
  );
}
