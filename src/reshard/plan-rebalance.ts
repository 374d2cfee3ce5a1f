import { addrKey } from '../cluster/address.js';
import { resolveNodeRef } from '../cluster/node-ref.js';
import { mastersOf, type Snapshot } from '../cluster/snapshot.js';
import { countSlots, SLOT_COUNT, slotsOf } from '../cluster/slots.js';
import { RctlError, usageError } from '../errors.js';
import { toWaves, type Plan } from './plan.js';
import { DEFAULT_BATCHES_PER_WAVE, DEFAULT_SLOTS_PER_BATCH, nodeAddresses } from './plan-reshard.js';

export interface RebalanceIntent {
  /** "ID=W" strings as typed (ids, prefixes or host:port). */
  readonly weights?: readonly string[];
  /** Percent difference from the ideal share that triggers a move (redis-cli default 2). */
  readonly threshold?: number;
  /** Give slots to masters that have none (e.g. right after add-node). */
  readonly useEmptyMasters?: boolean;
  readonly slotsPerBatch?: number;
  readonly batchesPerWave?: number;
}

/** Parse "ID=W" items into id -> weight; weights must be positive numbers. */
export function parseWeights(s: Snapshot, items: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of items) {
    const eq = item.lastIndexOf('=');
    if (eq <= 0) throw usageError(`--weight "${item}" is not ID=WEIGHT.`, 'Write it like --weight 3f2a=2 or --weight 127.0.0.1:6381=0.5.');
    const w = Number(item.slice(eq + 1));
    if (!Number.isFinite(w) || w <= 0 || item.slice(eq + 1).trim() === '') {
      throw usageError(`--weight "${item}": the weight must be a number greater than 0.`, 'To empty a master, use `rctl scale-in` or `rctl reshard --from <it>`.');
    }
    const node = resolveNodeRef(s, item.slice(0, eq), '--weight');
    if (node.role !== 'master') throw new RctlError('REFUSED', `--weight names ${addrKey(node.addr)}, a replica; weights apply to masters.`);
    out.set(node.id, w);
  }
  return out;
}

/**
 * Pure rebalance planner with redis-cli's rules: each involved master's ideal share is
 * floor(16384 / total weight * weight); nothing moves unless some master is off by more than
 * `threshold` percent; masters without slots take part only with `useEmptyMasters`. Givers and
 * takers are matched largest-first; ties are broken by node id so the plan is deterministic.
 */
export function planRebalance(s: Snapshot, intent: RebalanceIntent = {}): Plan {
  const threshold = intent.threshold ?? 2;
  if (!Number.isFinite(threshold) || threshold < 0) throw usageError(`--threshold must be a number of at least 0, got ${intent.threshold}.`, 'It is a percentage, e.g. --threshold 2 (the default).');
  const weights = parseWeights(s, intent.weights ?? []);
  const involved = mastersOf(s)
    .filter((m) => intent.useEmptyMasters || m.self.slots.length > 0)
    .sort((a, b) => a.id.localeCompare(b.id));
  const base: Omit<Plan, 'waves' | 'notes'> = {
    kind: 'rebalance',
    fingerprint: s.fingerprint,
    nodes: nodeAddresses(s),
    intent: { weights: Object.fromEntries(weights), threshold, useEmptyMasters: Boolean(intent.useEmptyMasters) },
  };
  const empty = mastersOf(s).filter((m) => m.self.slots.length === 0);
  const emptyNote = !intent.useEmptyMasters && empty.length > 0 ? [`${empty.length} master(s) without slots left out (pass --use-empty-masters to include them)`] : [];
  const totalWeight = involved.reduce((n, m) => n + (weights.get(m.id) ?? 1), 0);
  if (involved.length < 2 || totalWeight === 0) return { ...base, waves: [], notes: ['fewer than two masters take part: nothing to balance', ...emptyNote] };

  const nodes = involved.map((m) => {
    const count = countSlots(m.self.slots);
    const expected = Math.floor((SLOT_COUNT / totalWeight) * (weights.get(m.id) ?? 1));
    return { m, count, expected, balance: count - expected };
  });
  const over = nodes.some((n) => (n.count > 0 ? Math.abs(100 - (100 * n.expected) / n.count) > threshold : n.expected > 1));
  if (!over) return { ...base, waves: [], notes: [`no rebalancing needed: every master is within ${threshold}% of its share`, ...emptyNote] };

  // Rounding down leaves the balances summing above zero: the takers absorb the remainder.
  let total = nodes.reduce((n, x) => n + x.balance, 0);
  while (total > 0) {
    for (const n of nodes) {
      if (n.balance <= 0 && total > 0) {
        n.balance--;
        total--;
      }
    }
  }
  nodes.sort((a, b) => a.balance - b.balance || a.m.id.localeCompare(b.m.id));
  const nextSlots = new Map(nodes.map((n) => [n.m.id, [...slotsOf(n.m.self.slots)]]));
  const moves: { slot: number; from: string; to: string }[] = [];
  let dst = 0;
  let src = nodes.length - 1;
  while (dst < src) {
    const d = nodes[dst]!;
    const g = nodes[src]!;
    const n = Math.min(Math.abs(d.balance), Math.abs(g.balance));
    if (n > 0) for (const slot of nextSlots.get(g.m.id)!.splice(0, n)) moves.push({ slot, from: g.m.id, to: d.m.id });
    d.balance += n;
    g.balance -= n;
    if (d.balance === 0) dst++;
    if (g.balance === 0) src--;
    if (n === 0 && d.balance !== 0 && g.balance !== 0) break;
  }
  return { ...base, waves: toWaves(moves, intent.slotsPerBatch ?? DEFAULT_SLOTS_PER_BATCH, intent.batchesPerWave ?? DEFAULT_BATCHES_PER_WAVE), notes: emptyNote };
}
