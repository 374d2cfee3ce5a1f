import { Option, type Command } from 'commander';
import { mastersOf } from '../../cluster/snapshot.js';
import { describeStep, planScaleIn, planScaleOut, type ScalePlan } from '../../cluster/scale-plan.js';
import { runScalePlan } from '../../reshard/scale-run.js';
import { waitUntilReady } from '../../cluster/ready.js';
import { ExitCode, RctlError } from '../../errors.js';
import { providerFor } from '../../provision/select.js';
import { recordedNodes } from '../../provision/recorded-nodes.js';
import { readRecord, writeRecord, type ClusterRecord } from '../../state/records.js';
import type { CommandContext, CommandOutput } from '../context.js';
import { outputOptions, recordedTargetOptions } from '../options.js';
import { nonNegativeInt, positiveInt } from '../parse.js';
import { declined } from '../declined.js';
import { confirmOrRefuse } from '../prompt.js';
import { runCommand } from '../run.js';
import { changeTargetOptions, withExclusive, type LockFlags } from '../exclusive.js';
import { targetFlag } from '../target.js';
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
  return withExclusive(flags, ctx, kind, async ({ conns, snapshot, target, lease }) => {
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
    else if (kind === 'scale-out') plan = planScaleOut(rec!.nodes, rec!.portBase, { masters: flags.masters ?? 1, replicas: flags.replicas ?? 1 });
    else plan = planScaleIn(s, rec?.nodes, { masters: flags.masters, nodes: flags.node, to: flags.to });

    const provisioner = rec ? await recordedNodes(rec.name, await providerFor(rec.provider, rec.image), conns, ctx.onEvent, ctx.signal) : undefined;
    const addrOf = (i: number): string => (provisioner ? `${provisioner.addressOf(i).host}:${provisioner.addressOf(i).port}` : `#${i}`);
    const shown = `${continuing ? `Continuing the interrupted ${kind} started ${rec!.pending!.startedAt}:\n` : ''}${table(['step', 'what'], plan.steps.map((st, i) => [i + 1, describeStep(st, addrOf)]))}`;
    const stepsJson = plan.steps.map((st) => ({ ...st, description: describeStep(st, addrOf) }));
    if (flags.dryRun) return { data: { kind, dryRun: true, continuing, steps: stepsJson }, human: `${shown}\n(dry run: nothing changed)` };
    if (!ctx.json) process.stderr.write(`${shown}\n`);
    const ok = await confirmOrRefuse(ctx, `Run these ${plan.steps.length} steps?`, `${kind} (${plan.steps.length} steps)`);
    if (!ok) return declined({ kind, applied: false });

    if (rec && !continuing) await writeRecord({ ...(await readRecord(rec.name))!, pending: { kind, plan, startedAt: new Date().toISOString() } });
    ctx.setRepairHint(`Run \`rctl ${kind} ${targetFlag(flags)}\` again: it continues where it stopped. Then \`rctl check ${targetFlag(flags)}\`.`);
    const t0 = performance.now();
    const res = await runScalePlan(plan, s, { conns, password: target.password, provisioner, signal: ctx.signal, onEvent: ctx.onEvent, lease, concurrency: flags.concurrency });
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
  }, { readOnly: Boolean(flags.dryRun) });
}
