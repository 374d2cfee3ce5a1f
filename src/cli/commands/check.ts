import type { Command } from 'commander';
import { checkCluster } from '../../cluster/check.js';
import { describeHolder, readLease } from '../../cluster/lease.js';
import { findStrayKeys } from '../../cluster/stray-keys.js';
import { ExitCode } from '../../errors.js';
import { outputOptions, targetOptions } from '../options.js';
import { nonNegativeInt } from '../parse.js';
import { runCommand } from '../run.js';
import { readRecord } from '../../state/records.js';
import { sentinelStatusOutput } from './sentinel.js';
import { DEFAULT_NAME, openCluster, type TargetFlags } from '../target.js';
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
      const { conns, snapshot, target } = await openCluster(flags);
      try {
        // Read-only: shows who holds the lease (an operation under way explains transient findings), never
        // takes it. Read while the stray keys are counted: independent round trips, no need to wait in turn.
        const [stray, lease] = await Promise.all([findStrayKeys(conns, snapshot), readLease(conns, snapshot).catch(() => undefined)]);
        const expected = flags.replicas ?? target.record?.replicasPerMaster;
        const result = checkCluster(snapshot, { replicasPerMaster: expected }, stray);
        const leaseLine = lease ? `\nAn operation is changing this cluster: ${describeHolder(lease)}.` : '';
        return {
          data: {
            healthy: result.healthy,
            fingerprint: snapshot.fingerprint,
            checklist: result.checklist,
            findings: result.findings,
            lease: lease ? { op: lease.op, user: lease.user, host: lease.host, pid: lease.pid, since: lease.since, expiresInMs: lease.expiresInMs } : null,
          },
          human: checkView(snapshot, result) + leaseLine,
          exitCode: result.healthy ? ExitCode.ok : ExitCode.problems,
        };
      } finally {
        await conns.closeAll();
      }
    }),
  );
}
