import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode, RctlError, fromPlanFile, planSlots, toPlanFile, type ClusterHandle, type MoveOptions, type MoveOutcome, type Plan } from '../index.js';
import { PlanFileError } from '../reshard/plan.js';
import { rctlHome } from '../state/paths.js';
import type { CommandContext, CommandOutput } from './context.js';
import { opts, orDeclined } from './target.js';
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
  breakLock?: boolean;
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
 * Run a move through the API, showing the plan (table on stderr), saving it (--out), stopping
 * (--dry-run) or confirming and executing it; on Ctrl-C save the remaining plan and say how to
 * continue. `move` is the API call (reshard, rebalance, apply) given the options built here.
 */
export async function runMove(ctx: CommandContext, c: ClusterHandle, flags: MoveFlags, target: string, move: (o: MoveOptions) => Promise<MoveOutcome>): Promise<CommandOutput> {
  let shown = '';
  let planData: Record<string, unknown> = {};
  const o: MoveOptions = {
    ...opts(ctx, flags),
    dryRun: Boolean(flags.dryRun),
    pipeline: flags.pipeline,
    timeoutMs: flags.timeout,
    concurrency: flags.concurrency,
    replace: flags.replace,
    allowReplicaMigration: flags.allowReplicaMigration,
    expectDeletes: flags.expectDeletes,
    onPlan: async (plan, keys) => {
      shown = planTable(plan, keys);
      planData = planJson(plan, keys);
      if (flags.out) await savePlan(plan, flags.out);
      if (!flags.dryRun && planSlots(plan) > 0 && !ctx.json) process.stderr.write(`${shown}\n`);
      ctx.setRepairHint(`Slots of the batch in flight may be open: run \`rctl fix ${target}\`, then \`rctl check ${target}\`.`);
    },
  };
  return orDeclined(
    async () => {
      const out = await move(o);
      if (!out.applied) {
        if (out.reason === 'nothing-to-move') return { data: { plan: planData, applied: false }, human: `${shown}\nNothing to move.` };
        return { data: { plan: planData, applied: false, dryRun: true }, human: `${shown}\n(dry run: nothing changed${flags.out ? `; plan saved to ${flags.out}` : ''})` };
      }
      const result = out.result;
      let human = applyView(result);
      let remainingFile: string | undefined;
      if (result.interrupted && result.remaining) {
        await mkdir(join(rctlHome(), 'plans'), { recursive: true, mode: 0o700 });
        remainingFile = join(rctlHome(), 'plans', `remaining-${result.remaining.fingerprint}.json`);
        await savePlan(result.remaining, remainingFile);
        human += `\n${planSlots(result.remaining)} slot(s) not moved yet. No slot is open. Continue with:\n  rctl apply ${remainingFile}${target ? ` ${target}` : ''}`;
      }
      const exitCode = result.interrupted ? ExitCode.interrupted : result.check.healthy ? ExitCode.ok : ExitCode.problems;
      return { data: { plan: planData, applied: true, ...applyJson(result), ...(remainingFile ? { remainingPlan: remainingFile } : {}) }, human, exitCode };
    },
    () => ({ plan: planData, applied: false }),
    'Nothing moved.',
  );
}
