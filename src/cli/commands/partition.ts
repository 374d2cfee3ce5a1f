import type { Command } from 'commander';
import { ExitCode, type PartitionDrillReport, type PartitionMode } from '../../index.js';
import { lockOptions, type LockFlags } from '../exclusive.js';
import { outputOptions, targetOptions } from '../options.js';
import { durationMs, nonNegativeInt } from '../parse.js';
import { runCommand } from '../run.js';
import { opts, targetFlag, withTarget } from '../target.js';
import { ms, table } from '../views/table.js';

type PartitionFlags = LockFlags & {
  isolate?: string[];
  busOnly?: boolean;
  oneWay?: boolean;
  duration?: number;
  load?: boolean;
  keepKeys?: boolean;
  maxLost?: number;
  maxFailoverMs?: number;
  json?: boolean;
  yes?: boolean;
};

const collect = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(',').filter(Boolean)];

/** `rctl drill partition`: registered under the `drill` command group. */
export function registerDrillPartition(drill: Command): void {
  outputOptions(
    lockOptions(
      targetOptions(drill.command('partition').description('cut nodes off the rest (network rules), watch, heal, count acknowledged writes lost; needs --address-per-node, iptables, root')),
    )
      .option('--isolate <master|replica|node,...>', 'what to cut off: a random master with a synced replica, a replica, or node ids / host:port (repeatable)', collect)
      .option('--bus-only', 'cut only the cluster bus: clients and replication still reach the isolated node')
      .option('--one-way', 'the isolated side cannot reach the rest; the rest still reaches it')
      .option('--duration <ms>', 'how long the cut lasts (default node-timeout + 5000: long enough for a failover)', durationMs)
      .option('--no-load', 'no writers, no lost-write report')
      .option('--keep-keys', "leave the writers' keys in place")
      .option('--max-lost <n>', `CI gate: exit ${ExitCode.gateFailed} if more acknowledged writes were lost`, nonNegativeInt)
      .option('--max-failover-ms <n>', `CI gate: exit ${ExitCode.gateFailed} if a failover took longer (promotion after the cut)`, nonNegativeInt),
  ).action((flags: PartitionFlags) =>
    runCommand(flags, (ctx) =>
      withTarget(flags, async (c) => {
        const isolate = !flags.isolate || flags.isolate.length === 0 ? 'master' : flags.isolate.length === 1 && ['master', 'replica'].includes(flags.isolate[0]!) ? (flags.isolate[0] as 'master' | 'replica') : flags.isolate;
        const mode: PartitionMode = flags.busOnly ? 'bus-only' : flags.oneWay ? 'one-way' : 'full';
        ctx.setRepairHint(`Network rules may remain: run \`rctl heal ${flags.seed ? '--all' : targetFlag(flags)}\`, then \`rctl check ${targetFlag(flags)}\`.`);
        const r = await c.drillPartition({ ...opts(ctx, flags), isolate, mode, durationMs: flags.duration, load: flags.load !== false, keepKeys: flags.keepKeys });
        const gates = gateFailures(r, flags);
        const exitCode = gates.length > 0 ? ExitCode.gateFailed : r.check.healthy ? ExitCode.ok : ExitCode.problems;
        return { data: { ...reportJson(r), gates: { failed: gates } }, human: view(r, gates), exitCode };
      }),
    ),
  );
}

function gateFailures(r: PartitionDrillReport, f: PartitionFlags): string[] {
  const out: string[] = [];
  const lost = r.lostWrites?.lost.count ?? 0;
  if (f.maxLost !== undefined && lost > f.maxLost) out.push(`${lost} acknowledged write(s) lost, more than --max-lost ${f.maxLost}`);
  const promoted = r.timeline.promotedMs;
  if (f.maxFailoverMs !== undefined && promoted !== undefined && promoted > f.maxFailoverMs) out.push(`failover took ${promoted} ms, more than --max-failover-ms ${f.maxFailoverMs}`);
  return out;
}

const nul = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

function reportJson(r: PartitionDrillReport): Record<string, unknown> {
  const t = r.timeline;
  return {
    isolated: r.isolated,
    mode: r.mode,
    durationMs: r.durationMs,
    nodeTimeoutMs: r.nodeTimeoutMs,
    timeline: { pfailMs: nul(t.pfailMs), failMs: nul(t.failMs), promotedMs: nul(t.promotedMs), healedMs: t.healedMs, settledMs: nul(t.settledMs) },
    failover: r.failover,
    newMaster: nul(r.newMaster),
    lostWrites: r.lostWrites ?? null,
    prediction: r.prediction,
    agreement: r.agreement ?? null,
    keys: r.keys,
    healthy: r.check.healthy,
    findings: r.check.findings,
  };
}

function view(r: PartitionDrillReport, gates: readonly string[]): string {
  const t = r.timeline;
  const f = (x: number | undefined): string => (x === undefined ? '-' : ms(x));
  const lines = [
    `Drill: ${r.mode} partition of ${r.isolated.map((n) => `${n.role} ${n.address}`).join(', ')} for ${ms(r.durationMs)}, cluster-node-timeout ${r.nodeTimeoutMs} ms`,
    table(
      ['after the cut', 'time'],
      [
        ['the majority flags it PFAIL', f(t.pfailMs)],
        ['FAIL (a majority of masters agree)', f(t.failMs)],
        ['a replica of it promoted', f(t.promotedMs)],
        ['healed', ms(t.healedMs)],
        ['settled (every node agrees, state ok)', f(t.settledMs)],
      ],
    ),
  ];
  const w = r.lostWrites;
  if (w) {
    lines.push(
      table(
        ['writes', 'count'],
        [
          ['attempted', w.attempted],
          ['acknowledged', w.acknowledged],
          ['failed (client saw an error)', w.failed],
          ['lost (acknowledged, not readable afterwards)', w.lost.count],
          ['landed despite an error', w.failedPresent],
        ],
      ),
    );
    if (w.lost.count > 0) lines.push(`lost writes were acknowledged from ${w.lost.firstAckMs} to ${w.lost.lastAckMs} ms after the cut, by ${Object.entries(w.lost.byNode).map(([n, k]) => `${n} (${k})`).join(', ')}`);
  }
  lines.push(`Redis predicts: ${r.prediction.text}`);
  if (r.agreement) lines.push(r.agreement.agrees ? 'The measurement agrees with the prediction.' : `The measurement does not agree: ${r.agreement.reasons.join('; ')}`);
  lines.push(r.check.healthy ? 'Check after the drill: healthy.' : `Check after the drill: ${r.check.findings.filter((x) => x.severity === 'problem').map((x) => x.message).join(' ')}`);
  if (gates.length > 0) lines.push(`Gate failed: ${gates.join('; ')}.`);
  return lines.join('\n');
}
