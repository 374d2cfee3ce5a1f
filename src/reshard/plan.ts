import { formatRanges, parseRange, rangesFromSlots, slotsOf, type SlotRange } from '../cluster/slots.js';

/** One batch of slots moving from one master to another. */
export interface SlotBatch {
  readonly from: string;
  readonly to: string;
  readonly slots: readonly number[];
}

/** Batches that can run concurrently; the executor checks the cluster after each wave. */
export type Wave = readonly SlotBatch[];

export interface Plan {
  readonly kind: 'reshard' | 'rebalance' | 'drain';
  /** Fingerprint of the snapshot the plan was made from; applying it to a changed cluster is refused. */
  readonly fingerprint: string;
  /** id -> host:port at planning time (for display, and as seeds for `rctl apply`). */
  readonly nodes: Readonly<Record<string, string>>;
  readonly waves: readonly Wave[];
  /** What the user asked for, for the record. */
  readonly intent: Readonly<Record<string, unknown>>;
  /** Notes the planner wants shown (e.g. "nothing to do"). */
  readonly notes: readonly string[];
}

export interface PlanSummaryRow {
  readonly from: string;
  readonly to: string;
  readonly slots: number;
  readonly ranges: readonly SlotRange[];
  /** Keys in those slots when planned, if counted. */
  readonly keys: number | undefined;
}

export const planSlots = (p: Plan): number => p.waves.reduce((n, w) => n + w.reduce((m, b) => m + b.slots.length, 0), 0);

export function planMoves(p: Plan): { slot: number; from: string; to: string }[] {
  return p.waves.flatMap((w) => w.flatMap((b) => b.slots.map((slot) => ({ slot, from: b.from, to: b.to }))));
}

/** One row per (from, to) pair, in order of first appearance. */
export function summarize(p: Plan, keysPerSlot?: ReadonlyMap<number, number>): PlanSummaryRow[] {
  const rows = new Map<string, { from: string; to: string; slots: number[] }>();
  for (const m of planMoves(p)) {
    const k = `${m.from}>${m.to}`;
    const r = rows.get(k) ?? { from: m.from, to: m.to, slots: [] };
    r.slots.push(m.slot);
    rows.set(k, r);
  }
  return [...rows.values()].map((r) => ({
    from: r.from,
    to: r.to,
    slots: r.slots.length,
    ranges: rangesFromSlots(r.slots),
    keys: keysPerSlot ? r.slots.reduce((n, s) => n + (keysPerSlot.get(s) ?? 0), 0) : undefined,
  }));
}

/**
 * Cut ordered moves into waves: wave k holds the next `batchesPerWave` batches (of up to
 * `slotsPerBatch` slots) of every (from, to) pair. All batches of a wave may run at once (up to the
 * executor's concurrency), so one batch's ownership changes (target-bound) overlap another's
 * MIGRATEs (source-bound) and different pairs move in parallel; each wave ends with a checkpoint.
 * Within a wave the batches are interleaved (spreadBatches) so that an executor taking them in
 * order with a bound on batches in flight keeps as many different nodes busy as it can.
 */
export function toWaves(moves: readonly { slot: number; from: string; to: string }[], slotsPerBatch: number, batchesPerWave = 1): Wave[] {
  const pairs = new Map<string, { from: string; to: string; slots: number[] }>();
  for (const m of moves) {
    const k = `${m.from}>${m.to}`;
    const p = pairs.get(k) ?? { from: m.from, to: m.to, slots: [] };
    p.slots.push(m.slot);
    pairs.set(k, p);
  }
  const waves: SlotBatch[][] = [];
  for (const p of pairs.values()) {
    for (let i = 0, b = 0; i < p.slots.length; i += slotsPerBatch, b++) {
      (waves[Math.floor(b / batchesPerWave)] ??= []).push({ from: p.from, to: p.to, slots: p.slots.slice(i, i + slotsPerBatch) });
    }
  }
  return waves.map(spreadBatches);
}

/**
 * Order a wave's batches so that consecutive ones share as few nodes as possible: each next batch
 * is the one whose source and target have appeared least so far (ties: the earlier batch). A node
 * serves commands one at a time, so two batches on the same source (or target) mostly queue behind
 * each other, while batches on disjoint nodes really run in parallel; after a rebalance onto 10 new
 * masters, grouping by pair would put one target's 5-6 sources first. Pure and deterministic.
 */
export function spreadBatches(wave: readonly SlotBatch[]): SlotBatch[] {
  const left = [...wave];
  const uses = new Map<string, number>();
  const out: SlotBatch[] = [];
  while (left.length > 0) {
    let best = 0;
    let bestScore = Infinity;
    for (let i = 0; i < left.length; i++) {
      const b = left[i]!;
      const f = uses.get(b.from) ?? 0;
      const t = uses.get(b.to) ?? 0;
      // The busier of the two nodes first, then the other one.
      const score = Math.max(f, t) * 1_000_000 + Math.min(f, t);
      if (score < bestScore) {
        best = i;
        bestScore = score;
      }
    }
    const [b] = left.splice(best, 1);
    out.push(b!);
    uses.set(b!.from, (uses.get(b!.from) ?? 0) + 1);
    uses.set(b!.to, (uses.get(b!.to) ?? 0) + 1);
  }
  return out;
}

/**
 * Split a wave into rounds, run one after the other, in which no node both gives and takes slots.
 * A target's claim bumps its config epoch (CLUSTER SETSLOT NODE on an importing node); if that node
 * is at the same moment the source of another batch whose new owner has claimed but has not told
 * it yet, its stale claim of that other slot now carries the higher epoch, the real owner yields
 * the slot and deletes its keys (cluster.c, dirty slots). Found by `fix` losing keys when it
 * claimed concurrently; rctl's planners never mix the roles in a wave, plan files may. Greedy and
 * order-keeping: a batch goes into the first round where neither of its nodes has the other role.
 */
export function disjointRounds(wave: readonly SlotBatch[]): SlotBatch[][] {
  const rounds: { batches: SlotBatch[]; gives: Set<string>; takes: Set<string> }[] = [];
  for (const b of wave) {
    let r = rounds.find((x) => !x.takes.has(b.from) && !x.gives.has(b.to));
    if (!r) {
      r = { batches: [], gives: new Set(), takes: new Set() };
      rounds.push(r);
    }
    r.batches.push(b);
    r.gives.add(b.from);
    r.takes.add(b.to);
  }
  return rounds.map((r) => r.batches);
}

/** The plan file format: versioned, slots written as ranges. */
export interface PlanFile {
  readonly rctlPlan: 1;
  readonly kind: Plan['kind'];
  readonly fingerprint: string;
  readonly nodes: Readonly<Record<string, string>>;
  readonly intent: Readonly<Record<string, unknown>>;
  readonly notes: readonly string[];
  readonly waves: readonly (readonly { from: string; to: string; slots: string }[])[];
  readonly createdAt?: string;
}

export function toPlanFile(p: Plan, createdAt?: string): PlanFile {
  return {
    rctlPlan: 1,
    kind: p.kind,
    fingerprint: p.fingerprint,
    nodes: p.nodes,
    intent: p.intent,
    notes: p.notes,
    waves: p.waves.map((w) => w.map((b) => ({ from: b.from, to: b.to, slots: formatRanges(rangesFromSlots(b.slots)) }))),
    ...(createdAt ? { createdAt } : {}),
  };
}

export class PlanFileError extends Error {}

export function fromPlanFile(raw: unknown): Plan {
  const f = raw as Partial<PlanFile> | undefined;
  if (!f || f.rctlPlan !== 1 || typeof f.fingerprint !== 'string' || !Array.isArray(f.waves) || typeof f.nodes !== 'object') {
    throw new PlanFileError('not an rctl plan file (version 1)');
  }
  const waves: Wave[] = f.waves.map((w, i) => {
    if (!Array.isArray(w)) throw new PlanFileError(`wave ${i + 1} is not a list`);
    return w.map((b) => {
      if (typeof b?.from !== 'string' || typeof b.to !== 'string' || typeof b.slots !== 'string') throw new PlanFileError(`wave ${i + 1} has a malformed batch`);
      const ranges = String(b.slots)
        .split(',')
        .map((x: string) => parseRange(x));
      if (ranges.some((r: SlotRange | undefined) => r === undefined)) throw new PlanFileError(`wave ${i + 1} has bad slots "${b.slots}"`);
      return { from: b.from, to: b.to, slots: [...slotsOf(ranges as SlotRange[])] };
    });
  });
  return { kind: f.kind ?? 'reshard', fingerprint: f.fingerprint, nodes: f.nodes as Record<string, string>, intent: f.intent ?? {}, notes: f.notes ?? [], waves };
}
