import { addrKey } from '../redis/address.js';
import { resolveNodeRef } from '../cluster/node-ref.js';
import { mastersOf, type Snapshot } from '../cluster/snapshot.js';
import { countSlots, SLOT_COUNT, slotsOf, type SlotRange } from '../cluster/slots.js';
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
 * `threshold` percent; masters without slots take part only with `useEmptyMasters`.
 *
 * It moves the fewest slots that reach those shares: flooring leaves a remainder of fewer slots
 * than masters, and each of those slots stays, one each, on the masters furthest above their share
 * (redis-cli hands the remainder to the takers instead, which moves up to one slot more per
 * master). Then every giver's surplus is matched to the takers largest-first, so each slot moves
 * at most once, only from a master above its share to one below it, and there are fewer
 * source->target pairs than masters; toWaves runs those pairs side by side. Ties are broken by
 * node id so the plan is deterministic.
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

  const moves = matchBalances(settleRemainder(nodes.map((n) => ({ id: n.m.id, balance: n.balance, slots: n.m.self.slots }))));
  return { ...base, waves: toWaves(moves, intent.slotsPerBatch ?? DEFAULT_SLOTS_PER_BATCH, intent.batchesPerWave ?? DEFAULT_BATCHES_PER_WAVE), notes: emptyNote };
}

export interface Balance {
  readonly id: string;
  /** Slots above (> 0) or below (< 0) the share. */
  balance: number;
  readonly slots: readonly SlotRange[];
}

/**
 * Flooring the shares leaves the balances summing to R > 0 (fewer than the number of masters when
 * weights are equal). One slot of the remainder stays on each of the R masters with the largest
 * balance: on a giver that is one slot less to move, on anyone else it is one slot more to take.
 * Balances then sum to zero. Pure; ties by id.
 */
export function settleRemainder(nodes: Balance[]): Balance[] {
  let left = nodes.reduce((n, x) => n + x.balance, 0);
  const order = [...nodes].sort((a, b) => b.balance - a.balance || a.id.localeCompare(b.id));
  while (left > 0) {
    for (const n of order) {
      if (left === 0) break;
      n.balance--;
      left--;
    }
  }
  return nodes;
}

/**
 * Givers (balance > 0) and takers (balance < 0), both largest first: the biggest giver fills the
 * biggest taker, and whichever of the two is done first is replaced by the next. Each step ends at
 * least one of them, so there are fewer pairs than masters, and the total moved is the sum of the
 * positive balances: the least any plan reaching these shares can move. A giver gives its lowest
 * slots first, so each pair's slots are contiguous where the giver's are.
 */
export function matchBalances(nodes: readonly Balance[]): { slot: number; from: string; to: string }[] {
  const givers = nodes.filter((n) => n.balance > 0).sort((a, b) => b.balance - a.balance || a.id.localeCompare(b.id));
  const takers = nodes.filter((n) => n.balance < 0).sort((a, b) => a.balance - b.balance || a.id.localeCompare(b.id));
  const need = takers.map((t) => -t.balance);
  const moves: { slot: number; from: string; to: string }[] = [];
  let t = 0;
  for (const g of givers) {
    const own = [...slotsOf(g.slots)];
    let given = 0;
    while (given < g.balance && t < takers.length) {
      const n = Math.min(g.balance - given, need[t]!);
      for (let k = 0; k < n; k++) moves.push({ slot: own[given + k]!, from: g.id, to: takers[t]!.id });
      given += n;
      need[t]! -= n;
      if (need[t] === 0) t++;
    }
  }
  return moves;
}
