import type { Command } from 'commander';
import { ExitCode, usageError, type DrillReport, type FailoverMode } from '../../index.js';
import { outputOptions, recordedTargetOptions } from '../options.js';
import { choiceOption, oneOf } from '../parse.js';
import { runCommand } from '../run.js';
import { changeTargetOptions, lockOptions, type LockFlags } from '../exclusive.js';
import { opts, targetFlag, withTarget } from '../target.js';
import { registerDrillPartition } from './partition.js';
import { infoTable } from '../views/cluster-views.js';
import { loadJson, withNulls } from '../views/drill-json.js';
import { keysJson, keysLine } from '../views/keys-view.js';
import { ms, table } from '../views/table.js';

type FailoverFlags = LockFlags & { force?: boolean; takeover?: boolean; json?: boolean; yes?: boolean };
type DrillFlags = LockFlags & { node?: string; mode?: string; load?: boolean; keepKeys?: boolean; restore?: boolean; json?: boolean; yes?: boolean };

export function registerFailover(program: Command): void {
  outputOptions(
    changeTargetOptions(program.command('failover').description('promote a replica (CLUSTER FAILOVER): coordinated by default, --force or --takeover').argument('<replica>', 'id, unique id prefix or host:port'))
      .option('--force', 'the master is unreachable: promote without its agreement')
      .option('--takeover', 'no majority of masters: promote without a vote'),
  ).action((ref: string, flags: FailoverFlags) =>
    runCommand(flags, async (ctx) => {
      if (flags.force && flags.takeover) throw usageError('--force and --takeover exclude each other.', 'Use --force when the master is down, --takeover when most masters are.');
      const mode: FailoverMode = flags.takeover ? 'takeover' : flags.force ? 'force' : 'coordinated';
      return withTarget(flags, async (c) => {
        const res = await c.failover(ref, { ...opts(ctx, flags), mode });
        return {
          data: { newMaster: res.newMaster, oldMaster: res.oldMaster, mode, ms: res.ms, writeGapMs: res.probe?.maxGapMs ?? null, probeWrites: res.probe?.writes ?? null, probeFailures: res.probe?.failures ?? null, keys: res.keys ? keysJson(res.keys) : null },
          human: `${infoTable(res.snapshot)}\n\n${res.newMaster.slice(0, 8)} is master (was ${res.oldMaster.slice(0, 8)}), ${mode} failover in ${ms(res.ms)}.${res.probe ? ` Writes to that shard paused for at most ${ms(res.probe.maxGapMs)} (${res.probe.writes} probe writes, ${res.probe.failures} failed)${res.keys?.error ? `; its key ${res.keys.prefix} may remain` : ', its key removed'}.` : ''}`,
        };
      });
    }),
  );

  const drill = program.command('drill').description('rehearse failures on a cluster rctl created');
  outputOptions(
    lockOptions(recordedTargetOptions(drill.command('failover').description('fault a master (stop, kill, pause), time the failover, bring it back, check, count lost writes'))
      .option('--node <id|random>', 'the master to fault', 'random')
      .addOption(choiceOption('--mode <mode>', 'stop: SIGTERM/docker stop; kill: SIGKILL; pause: SIGSTOP/docker pause', ['stop', 'kill', 'pause'], 'kill'))
      .option('--load', 'run a bounded writer through a cluster client and count what is lost (its keys are removed afterwards)')
      .option('--keep-keys', 'leave the keys the writer wrote in place (they share one per-run prefix)')
      .option('--restore', 'afterwards, hand the master role back to the faulted node')),
  ).action((flags: DrillFlags) =>
    runCommand(flags, async (ctx) => {
      const mode = oneOf(flags.mode, '--mode', ['stop', 'kill', 'pause'] as const, 'kill')!;
      return withTarget(flags, async (c) => {
        const report = await c.drillFailover({
          ...opts(ctx, flags),
          node: flags.node,
          mode,
          load: Boolean(flags.load),
          keepKeys: Boolean(flags.keepKeys),
          restore: Boolean(flags.restore),
          onTarget: (m) =>
            ctx.setRepairHint(
              `${m.address} may still be ${mode === 'pause' ? 'frozen' : 'stopped'}: ${m.container ? `\`docker ${mode === 'pause' ? 'unpause' : 'start'} ${m.container}\`` : `${mode === 'pause' ? 'kill -CONT' : 'restart'} pid ${m.pid}`}, then \`rctl check ${targetFlag(flags)}\`.${flags.load ? ' Keys the drill wrote (rctl-drill:<run>:<n>, named in its first note) may remain.' : ''}`,
            ),
        });
        return { data: drillJson(report), human: drillView(report), exitCode: report.check.healthy ? ExitCode.ok : ExitCode.problems };
      });
    }),
  );
  registerDrillPartition(drill);
  drill.commands.forEach((c) => c.exitOverride());

  const roles = program.command('roles').description('master roles');
  outputOptions(lockOptions(recordedTargetOptions(roles.command('restore').description('return every shard\'s master role to the node rctl gave it')))).action((flags: LockFlags & { json?: boolean; yes?: boolean }) =>
    runCommand(flags, (ctx) =>
      withTarget(flags, async (c) => {
        const res = await c.restoreRoles(opts(ctx, flags));
        return {
          data: { moved: res.moved, skipped: res.skipped },
          human: `${infoTable(res.snapshot)}\n\n${res.moved.length === 0 ? 'Every shard already has its original master.' : res.moved.map((m) => `${m.node} is master again (${ms(m.ms)})`).join('\n')}${res.skipped.length ? `\nskipped: ${res.skipped.join('; ')}` : ''}`,
        };
      }),
    ),
  );
  roles.commands.forEach((c) => c.exitOverride());
}

function drillJson(r: DrillReport): Record<string, unknown> {
  return { master: r.master, mode: r.mode, nodeTimeoutMs: r.nodeTimeoutMs, newMaster: r.newMaster ?? null, timeline: withNulls(r.timeline), load: loadJson(r.load), keys: keysJson(r.keys), healthy: r.check.healthy, findings: r.check.findings };
}

function drillView(r: DrillReport): string {
  const t = r.timeline;
  const f = (x: number | undefined): string => (x === undefined ? '-' : ms(x));
  const lines = [
    `Drill: ${r.mode} of master ${r.master.address} (${r.master.id.slice(0, 8)}), cluster-node-timeout ${r.nodeTimeoutMs} ms`,
    table(
      ['after the fault', 'time'],
      [
        ['some node flags it PFAIL', f(t.pfailMs)],
        ['FAIL (a majority of masters agree)', f(t.failMs)],
        [`replica ${r.newMaster?.slice(0, 8) ?? '?'} promoted`, f(t.promotedMs)],
        ['cluster_state:ok everywhere', f(t.stateOkMs)],
        ['old master back as a replica, link up', f(t.rejoinedMs)],
        ...(t.restoredMs !== undefined ? [['roles restored (coordinated failover)', ms(t.restoredMs)]] : []),
      ],
    ),
  ];
  if (r.load) {
    lines.push(
      table(
        ['writes', 'count'],
        [
          ['attempted', r.load.attempted],
          ['acknowledged', r.load.acknowledged],
          ['failed (client saw an error)', r.load.failed],
          ['lost (acknowledged, not readable afterwards)', r.load.lost],
          ['landed despite an error (failed, readable afterwards)', r.load.failedPresent],
        ],
      ),
    );
    const errs = Object.entries(r.load.errors);
    if (errs.length) lines.push(`client errors: ${errs.map(([m, n]) => `${n}× ${m}`).join('; ')}`);
    lines.push(keysLine(r.keys));
  }
  lines.push(r.check.healthy ? 'Check after the drill: healthy.' : `Check after the drill: ${r.check.findings.filter((x) => x.severity === 'problem').map((x) => x.message).join(' ')}`);
  return lines.join('\n');
}
