import type { Snapshot } from '../cluster/snapshot.js';
import { nodeById } from '../cluster/snapshot.js';
import { slotKeyCounts } from '../cluster/slot-counts.js';
import type { AdminConnections } from '../redis/connection.js';
import { applyPlan, assertFresh, DEFAULT_CONCURRENCY, type ApplyResult } from '../reshard/apply-plan.js';
import { planMoves, planSlots, type Plan } from '../reshard/plan.js';
import { planDrain, type DrainIntent } from '../reshard/plan-drain.js';
import { planRebalance, type RebalanceIntent } from '../reshard/plan-rebalance.js';
import { planReshard, type ReshardIntent } from '../reshard/plan-reshard.js';
import type { HandleCore } from './handle-core.js';
import { confirmed, type OperationOptions } from './operation.js';

export interface MoveOptions extends OperationOptions {
  /** Keys per MIGRATE (default 1000). */
  readonly pipeline?: number | undefined;
  /** MIGRATE timeout in ms (default 60000). */
  readonly timeoutMs?: number | undefined;
  /** Most slot batches in flight at once (default 8). */
  readonly concurrency?: number | undefined;
  readonly replace?: boolean | undefined;
  /** Let Redis turn a master left without slots into a replica of the receiver. */
  readonly allowReplicaMigration?: boolean | undefined;
  /** Clients delete keys during the move: fewer keys afterwards is a warning, not a failed verdict. */
  readonly expectDeletes?: boolean | undefined;
  /** Plan (and show) only: no lease, nothing moved. */
  readonly dryRun?: boolean | undefined;
  /** Called with the plan and the keys per planned slot before anything moves (the CLI shows it here). */
  readonly onPlan?: ((plan: Plan, keysPerSlot: ReadonlyMap<number, number>) => void | Promise<void>) | undefined;
}

/** A move's outcome: not applied (nothing to move, or a dry run), or applied with the executor's result. */
export type MoveOutcome =
  | { readonly applied: false; readonly reason: 'nothing-to-move' | 'dry-run'; readonly plan: Plan; readonly keysPerSlot: ReadonlyMap<number, number> }
  | { readonly applied: true; readonly plan: Plan; readonly keysPerSlot: ReadonlyMap<number, number>; readonly result: ApplyResult };

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

const withCluster = (core: HandleCore, p: Plan): Plan => (core.target.record ? { ...p, intent: { ...p.intent, cluster: core.target.record.name } } : p);

/** Pure planners on a fresh, healthy snapshot: inspect, serialise (toPlanFile) or apply the result. */
export async function planReshardUseCase(core: HandleCore, intent: ReshardIntent, o: OperationOptions = {}): Promise<Plan> {
  return withCluster(core, planReshard(await core.ready('a reshard', o), intent));
}
export async function planRebalanceUseCase(core: HandleCore, intent: RebalanceIntent = {}, o: OperationOptions = {}): Promise<Plan> {
  return withCluster(core, planRebalance(await core.ready('a rebalance', o), intent));
}
export async function planDrainUseCase(core: HandleCore, intent: DrainIntent, o: OperationOptions = {}): Promise<Plan> {
  return withCluster(core, planDrain(await core.ready('a drain', o), intent));
}

/**
 * Plan on the snapshot read under the lease, show it (onPlan), confirm, and apply it wave by wave,
 * checking between waves. `planFor` may ask questions (the CLI's prompts for missing flags).
 */
export async function movePlanned(core: HandleCore, op: string, planFor: (ready: Snapshot) => Plan | Promise<Plan>, o: MoveOptions): Promise<MoveOutcome> {
  return core.exclusive(op, o, { readOnly: Boolean(o.dryRun) }, async (_s, lease) => {
    const ready = await core.ready(`${op === 'apply' ? 'applying the plan' : `a ${op}`}`, o);
    const plan = withCluster(core, await planFor(ready));
    const keys = await keysPerSlot(core.conns, ready, plan);
    await o.onPlan?.(plan, keys);
    if (planSlots(plan) === 0) return { applied: false, reason: 'nothing-to-move', plan, keysPerSlot: keys };
    if (o.dryRun) return { applied: false, reason: 'dry-run', plan, keysPerSlot: keys };
    await confirmed(o, `Move ${planSlots(plan)} slot(s) as shown?`, `Moving ${planSlots(plan)} slot(s)`);
    const result = await applyPlan(plan, ready, {
      conns: core.conns,
      password: core.target.password,
      signal: o.signal,
      onEvent: o.onEvent,
      pipeline: o.pipeline ?? 1000,
      timeoutMs: o.timeoutMs ?? 60_000,
      concurrency: o.concurrency ?? DEFAULT_CONCURRENCY,
      replace: Boolean(o.replace),
      lease,
      allowReplicaMigration: Boolean(o.allowReplicaMigration),
      expectDeletes: Boolean(o.expectDeletes),
    });
    return { applied: true, plan, keysPerSlot: keys, result };
  });
}

/** Apply a plan made earlier (planReshard, a plan file): refused (REFUSED) if the cluster changed since it was planned. */
export function applyUseCase(core: HandleCore, plan: Plan, o: MoveOptions = {}): Promise<MoveOutcome> {
  return movePlanned(
    core,
    'apply',
    (ready) => {
      assertFresh(plan, ready);
      return plan;
    },
    o,
  );
}
