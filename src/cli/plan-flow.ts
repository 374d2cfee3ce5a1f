import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { slotKeyCounts } from '../cluster/slot-counts.js';
import { nodeById } from '../cluster/snapshot.js';
import type { Snapshot } from '../cluster/snapshot.js';
import type { AdminConnections } from '../redis/connection.js';
import { ExitCode, RctlError } from '../errors.js';
import type { Lease } from '../cluster/lease.js';
import { applyPlan, DEFAULT_CONCURRENCY } from '../reshard/apply-plan.js';
import { fromPlanFile, planMoves, planSlots, PlanFileError, toPlanFile, type Plan } from '../reshard/plan.js';
import { rctlHome } from '../state/paths.js';
import type { CommandContext, CommandOutput } from './context.js';
import { declined } from './declined.js';
import { confirmOrRefuse } from './prompt.js';
import { applyJson } from './views/apply-json.js';
import { applyView, planJson, planTable } from './views/plan-view.js';

export interface MoveFlags {
  dryRun?: boolean;
  out?: string;
  pipeline?: number;
  timeout?: number;
  /** Most slot batches in flight at once (--concurrency). */
  concurrency?: number;
  replace?: boolean;
  allowReplicaMigration?: boolean;
  expectDeletes?: boolean;
}

/** Keys per planned slot, counted on the sources (one server-side loop each): the "est. keys" column. */
export async function keysPerSlot(conns: AdminConnections, s: Snapshot, p: Plan): Promise<Map<number, number>> {
  const sources = new Set(planMoves(p).map((m) => m.from));
  const out = new Map<number, number>();
  await Promise.all(
    [...sources].map(async (id) => {
      const node = nodeById(s, id);
      if (!node) return;
      for (const [slot, n] of await slotKeyCounts(conns, node.addr)) out.set(slot, n);
    }),
  );
  return out;
}

export async function savePlan(p: Plan, file: string): Promise<void> {
  await writeFile(file, JSON.stringify(toPlanFile(p, new Date().toISOString()), null, 2) + '\n');
}

export async function loadPlan(file: string): Promise<Plan> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new RctlError('USAGE', `Cannot read plan file ${file}: ${(err as Error).message}.`, { hint: 'Pass a file written by `rctl reshard|rebalance --out`.' });
  }
  try {
    return fromPlanFile(raw);
  } catch (err) {
    if (err instanceof PlanFileError) throw new RctlError('USAGE', `${file} is not a usable plan: ${err.message}.`, { hint: 'Pass a file written by `rctl reshard|rebalance --out`.' });
    throw err;
  }
}

/**
 * Show the plan, save it (--out), stop (--dry-run) or confirm and execute it, checking between
 * waves; on Ctrl-C save the remaining plan and say how to continue.
 */
export async function runPlan(ctx: CommandContext, conns: AdminConnections, s: Snapshot, plan: Plan, flags: MoveFlags, password: string | undefined, target: string, lease?: Lease): Promise<CommandOutput> {
  const keys = await keysPerSlot(conns, s, plan);
  const shown = planTable(plan, keys);
  if (flags.out) await savePlan(plan, flags.out);
  if (planSlots(plan) === 0) {
    return { data: { plan: planJson(plan, keys), applied: false }, human: `${shown}\nNothing to move.` };
  }
  if (flags.dryRun) {
    return { data: { plan: planJson(plan, keys), applied: false, dryRun: true }, human: `${shown}\n(dry run: nothing changed${flags.out ? `; plan saved to ${flags.out}` : ''})` };
  }
  if (!ctx.json) process.stderr.write(`${shown}\n`);
  const ok = await confirmOrRefuse(ctx, `Move ${planSlots(plan)} slot(s) as shown?`, `Moving ${planSlots(plan)} slot(s)`);
  if (!ok) return declined({ plan: planJson(plan, keys), applied: false }, 'Nothing moved.');
  ctx.setRepairHint(`Slots of the batch in flight may be open: run \`rctl fix ${target}\`, then \`rctl check ${target}\`.`);
  const result = await applyPlan(plan, s, {
    conns,
    password,
    signal: ctx.signal,
    onEvent: ctx.onEvent,
    pipeline: flags.pipeline ?? 1000,
    timeoutMs: flags.timeout ?? 60_000,
    concurrency: flags.concurrency ?? DEFAULT_CONCURRENCY,
    replace: Boolean(flags.replace),
    lease,
    allowReplicaMigration: Boolean(flags.allowReplicaMigration),
    expectDeletes: Boolean(flags.expectDeletes),
  });
  let human = applyView(result);
  let remainingFile: string | undefined;
  if (result.interrupted && result.remaining) {
    await mkdir(join(rctlHome(), 'plans'), { recursive: true, mode: 0o700 });
    remainingFile = join(rctlHome(), 'plans', `remaining-${result.remaining.fingerprint}.json`);
    await savePlan(result.remaining, remainingFile);
    human += `\n${planSlots(result.remaining)} slot(s) not moved yet. No slot is open. Continue with:\n  rctl apply ${remainingFile}${target ? ` ${target}` : ''}`;
  }
  const exitCode = result.interrupted ? ExitCode.interrupted : result.check.healthy ? ExitCode.ok : ExitCode.problems;
  return { data: { plan: planJson(plan, keys), applied: true, ...applyJson(result), ...(remainingFile ? { remainingPlan: remainingFile } : {}) }, human, exitCode };
}
