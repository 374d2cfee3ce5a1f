import type { Command } from 'commander';
import { mastersOf } from '../../cluster/snapshot.js';
import { describeStep, planScaleIn, planScaleOut, type ScalePlan } from '../../cluster/scale-plan.js';
import { runScalePlan } from '../../cluster/scale-run.js';
import { waitUntilReady } from '../../cluster/ready.js';
import { ExitCode, RctlError } from '../../errors.js';
import { providerFor } from '../../provision/select.js';
import { recordedNodes } from '../../provision/recorded-nodes.js';
import { readRecord, writeRecord, type ClusterRecord } from '../../state/records.js';
import type { CommandContext, CommandOutput } from '../context.js';
import { outputOptions, targetOptions } from '../options.js';
import { toInt } from '../parse.js';
import { confirmOrRefuse } from '../prompt.js';
import { runCommand } from '../run.js';
import { openCluster, targetFlag, type TargetFlags } from '../target.js';
import { infoTable } from '../views/cluster-views.js';
import { ms, table } from '../views/table.js';

type ScaleFlags = TargetFlags & { masters?: string; replicas?: string; node?: string[]; to?: string; dryRun?: boolean; json?: boolean; yes?: boolean };

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function registerScale(program: Command): void {
  outputOptions(
    targetOptions(program.command('scale-out').description('add shards: provision, add masters, rebalance, attach replicas, check between every step'))
      .option('--masters <n>', 'masters to add', '1')
      .option('--replicas <n>', 'replicas for each new master', '1')
      .option('--dry-run', 'show the steps, change nothing'),
  ).action((flags: ScaleFlags) => runCommand(flags, (ctx) => scale(ctx, flags, 'scale-out')));

  outputOptions(
    targetOptions(program.command('scale-in').description('remove shards: replicas, drain slots, remove the master, delete containers, check between every step'))
      .option('--masters <n>', 'shards to remove (default 1: the most recently added)')
      .option('--node <id>', 'remove the shard of this node (repeatable); a replica names its master\'s shard', collect)
      .option('--to <id>', 'move all drained slots to this master (default: spread evenly)')
      .option('--dry-run', 'show the steps, change nothing'),
  ).action((flags: ScaleFlags) => runCommand(flags, (ctx) => scale(ctx, flags, 'scale-in')));
}

async function scale(ctx: CommandContext, flags: ScaleFlags, kind: 'scale-out' | 'scale-in'): Promise<CommandOutput> {
  const { conns, snapshot, target } = await openCluster(flags);
  try {
    const rec = target.record;
    if (kind === 'scale-out' && !rec) {
      throw new RctlError('USAGE', 'scale-out starts new nodes, which rctl can only do for clusters it created.', {
        hint: 'On other clusters, start empty nodes yourself and use `rctl add-node --addr host:port` (then `rctl rebalance --use-empty-masters`).',
      });
    }
    const s = await waitUntilReady(conns, snapshot.seed, { what: kind, signal: ctx.signal });
    // An interrupted run of the same kind is continued, not started again.
    const continuing = rec?.pending?.kind === kind;
    let plan: ScalePlan;
    if (continuing) plan = rec!.pending!.plan as ScalePlan;
    else if (kind === 'scale-out') plan = planScaleOut(rec!.nodes, rec!.portBase, { masters: toInt(flags.masters, '--masters', 1), replicas: toInt(flags.replicas, '--replicas', 1) });
    else plan = planScaleIn(s, rec?.nodes, { masters: flags.masters !== undefined ? toInt(flags.masters, '--masters') : undefined, nodes: flags.node, to: flags.to });

    const provisioner = rec ? await recordedNodes(rec.name, await providerFor(rec.provider, rec.image), conns, ctx.onEvent, ctx.signal) : undefined;
    const addrOf = (i: number): string => (provisioner ? `${provisioner.addressOf(i).host}:${provisioner.addressOf(i).port}` : `#${i}`);
    const shown = `${continuing ? `Continuing the interrupted ${kind} started ${rec!.pending!.startedAt}:\n` : ''}${table(['step', 'what'], plan.steps.map((st, i) => [i + 1, describeStep(st, addrOf)]))}`;
    const stepsJson = plan.steps.map((st) => ({ ...st, description: describeStep(st, addrOf) }));
    if (flags.dryRun) return { data: { kind, dryRun: true, continuing, steps: stepsJson }, human: `${shown}\n(dry run: nothing changed)` };
    if (!ctx.json) process.stderr.write(`${shown}\n`);
    const ok = await confirmOrRefuse(ctx, `Run these ${plan.steps.length} steps?`, `${kind} (${plan.steps.length} steps)`);
    if (!ok) return { data: { kind, applied: false }, human: 'Nothing changed.', exitCode: ExitCode.problems };

    if (rec && !continuing) await writeRecord({ ...(await readRecord(rec.name))!, pending: { kind, plan, startedAt: new Date().toISOString() } });
    ctx.setRepairHint(`Run \`rctl ${kind} ${targetFlag(flags)}\` again: it continues where it stopped. Then \`rctl check ${targetFlag(flags)}\`.`);
    const t0 = performance.now();
    const res = await runScalePlan(plan, s, { conns, password: target.password, provisioner, signal: ctx.signal, onEvent: ctx.onEvent });
    if (rec) {
      const latest = (await readRecord(rec.name)) as ClusterRecord;
      const { pending: _done, ...rest } = latest;
      // New shards' intended roles, so `roles restore` knows them too.
      const roleOf = new Map(plan.newNodes.map((n) => [n.index, n.role]));
      const nodes = rest.nodes.map((n) => (roleOf.has(n.index) ? { ...n, role: roleOf.get(n.index) } : n));
      await writeRecord({ ...rest, nodes, masters: mastersOf(res.snapshot).length });
    }
    const human = [
      table(['step', 'took', 'result'], res.rows.map((r) => [r.step, ms(r.ms), r.detail])),
      `${kind} done in ${ms(performance.now() - t0)}.`,
      '',
      infoTable(res.snapshot),
      res.check.healthy ? 'Check: healthy.' : `Check: ${res.check.findings.filter((f) => f.severity === 'problem').map((f) => f.message).join(' ')}`,
    ].join('\n');
    return {
      data: { kind, applied: true, steps: res.rows, healthy: res.check.healthy, findings: res.check.findings, masters: mastersOf(res.snapshot).length },
      human,
      exitCode: res.check.healthy ? ExitCode.ok : ExitCode.problems,
    };
  } finally {
    await conns.closeAll();
  }
}
