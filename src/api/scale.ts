import type { CheckResult } from '../cluster/check.js';
import { waitUntilReady } from '../cluster/ready.js';
import { describeStep, planScaleIn, planScaleOut, type ScalePlan } from '../cluster/scale-plan.js';
import { mastersOf, type Snapshot } from '../cluster/snapshot.js';
import { RctlError } from '../errors.js';
import { recordedNodes } from '../provision/recorded-nodes.js';
import { providerFor } from '../provision/select.js';
import { runScalePlan, type ScaleRow } from '../reshard/scale-run.js';
import { readRecord, writeRecord, type ClusterRecord } from '../state/records.js';
import type { HandleCore } from './handle-core.js';
import { confirmed, type OperationOptions } from './operation.js';

export type ScaleKind = 'scale-out' | 'scale-in';

export interface ScaleOptions extends OperationOptions {
  /** scale-out: masters to add (default 1); scale-in: shards to remove (default 1, the most recently added). */
  readonly masters?: number | undefined;
  /** scale-out: replicas for each new master (default 1). */
  readonly replicas?: number | undefined;
  /** scale-in: remove the shards of these nodes (a replica names its master's shard). */
  readonly nodes?: readonly string[] | undefined;
  /** scale-in: move all drained slots to this master (default: spread evenly). */
  readonly to?: string | undefined;
  /** Most slot batches in flight at once in the rebalance/drain steps. */
  readonly concurrency?: number | undefined;
  /** Show the steps only (onSteps): nothing changes, no lease. */
  readonly dryRun?: boolean | undefined;
  /** Called with the steps (described) before any runs; `continuing` when an interrupted run is resumed. */
  readonly onSteps?: ((steps: readonly ScaleStepView[], continuing: ScaleContinuation | undefined) => void | Promise<void>) | undefined;
}

export type ScaleStepView = ScalePlan['steps'][number] & { readonly description: string };
export interface ScaleContinuation {
  readonly startedAt: string;
}

export interface ScaleReport {
  readonly kind: ScaleKind;
  readonly applied: boolean;
  readonly continuing: boolean;
  readonly steps: readonly ScaleStepView[];
  /** Present when applied: each step with its duration and result. */
  readonly rows?: readonly ScaleRow[];
  readonly check?: CheckResult;
  readonly snapshot?: Snapshot;
  readonly masters?: number;
}

const NOT_RECORDED_HINT = 'On other clusters, start empty nodes yourself and use `rctl add-node --addr host:port` (then `rctl rebalance --use-empty-masters`).';

/**
 * Scale out (start nodes, add masters, rebalance, attach replicas) or in (move replicas, drain,
 * remove masters, delete nodes), checking between every step. The plan is written to rctl's
 * record before the first step, so running the same kind again after an interruption continues
 * it instead of starting another.
 */
export async function scaleUseCase(core: HandleCore, kind: ScaleKind, o: ScaleOptions = {}): Promise<ScaleReport> {
  const rec0 = core.target.record;
  if (kind === 'scale-out' && (!rec0 || core.target.flag.startsWith('--seed'))) {
    throw new RctlError('USAGE', 'scale-out starts new nodes, which rctl can only do for clusters it created: pass --name, not --seed.', { hint: NOT_RECORDED_HINT });
  }
  return core.exclusive(kind, o, { readOnly: Boolean(o.dryRun) }, async (snapshot, lease) => {
    const rec = rec0 ? ((await readRecord(rec0.name)) ?? rec0) : undefined;
    const s = await waitUntilReady(core.conns, snapshot.seed, { what: kind, signal: o.signal });
    const pending = rec?.pending?.kind === kind ? rec.pending : undefined;
    let plan: ScalePlan;
    if (pending) plan = pending.plan as ScalePlan;
    else if (kind === 'scale-out') plan = planScaleOut(rec!.nodes, rec!.portBase, { masters: o.masters ?? 1, replicas: o.replicas ?? 1 });
    else plan = planScaleIn(s, rec?.nodes, { masters: o.masters, nodes: o.nodes ? [...o.nodes] : undefined, to: o.to });

    const provisioner = rec ? await recordedNodes(rec.name, await providerFor(rec.provider, rec.image), core.conns, o.onEvent ?? (() => undefined), o.signal) : undefined;
    const addrOf = (i: number): string => (provisioner ? `${provisioner.addressOf(i).host}:${provisioner.addressOf(i).port}` : `#${i}`);
    const steps = plan.steps.map((st) => ({ ...st, description: describeStep(st, addrOf) }));
    const continuing = pending ? { startedAt: pending.startedAt } : undefined;
    await o.onSteps?.(steps, continuing);
    if (o.dryRun) return { kind, applied: false, continuing: Boolean(pending), steps };
    await confirmed(o, `Run these ${plan.steps.length} steps?`, `${kind} (${plan.steps.length} steps)`);

    if (rec && !pending) await writeRecord({ ...((await readRecord(rec.name)) ?? rec), pending: { kind, plan, startedAt: new Date().toISOString() } });
    const res = await runScalePlan(plan, s, { conns: core.conns, password: core.target.password, provisioner, signal: o.signal, onEvent: o.onEvent, lease, concurrency: o.concurrency });
    if (rec) {
      const latest = (await readRecord(rec.name)) as ClusterRecord;
      const { pending: _done, ...rest } = latest;
      // New shards' intended roles, so `roles restore` knows them too.
      const roleOf = new Map(plan.newNodes.map((n) => [n.index, n.role]));
      const nodes = rest.nodes.map((n) => (roleOf.has(n.index) ? { ...n, role: roleOf.get(n.index) } : n));
      await writeRecord({ ...rest, nodes, masters: mastersOf(res.snapshot).length });
    }
    return { kind, applied: true, continuing: Boolean(pending), steps, rows: res.rows, check: res.check, snapshot: res.snapshot, masters: mastersOf(res.snapshot).length };
  });
}
