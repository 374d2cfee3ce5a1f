import { describe, expect, it } from 'vitest';
import { planScaleIn, planScaleOut, type RecordedNode } from '../../src/cluster/scale-plan.js';
import { disjointRounds, planMoves, planSlots, spreadBatches, summarize, toWaves, type SlotBatch } from '../../src/reshard/plan.js';
import { planDrain } from '../../src/reshard/plan-drain.js';
import { planRebalance } from '../../src/reshard/plan-rebalance.js';
import { fakeSnapshot, type FakeNode } from './fixtures/snapshot.js';

const SLOTS = 16384;
const id40 = (c: string): string => c.padEnd(40, '0');
const name = (prefix: string, i: number): string => `${prefix}${String(i).padStart(2, '0')}`;

/** `n` masters holding every slot in contiguous ranges, as redis-cli create splits them; then `empty` masters without slots. */
function cluster(n: number, empty: number, prefix = 'a', emptyPrefix = 'e'): FakeNode[] {
  const nodes: FakeNode[] = [];
  for (let i = 0; i < n; i++) {
    const start = Math.floor((i * SLOTS) / n);
    const end = Math.floor(((i + 1) * SLOTS) / n) - 1;
    nodes.push({ id: name(prefix, i + 1), port: 19001 + i, role: 'master', slots: `${start}-${end}` });
  }
  for (let i = 0; i < empty; i++) nodes.push({ id: name(emptyPrefix, i + 1), port: 19001 + n + i, role: 'master' });
  return nodes;
}

const countsOf = (nodes: FakeNode[]): Map<string, number> => {
  const s = fakeSnapshot(nodes);
  return new Map(s.nodes.filter((x) => x.role === 'master').map((x) => [x.id, x.self.slots.reduce((a, r) => a + r.end - r.start + 1, 0)]));
};
const apply = (before: Map<string, number>, moves: { from: string; to: string }[]): Map<string, number> => {
  const c = new Map(before);
  for (const m of moves) {
    c.set(m.from, c.get(m.from)! - 1);
    c.set(m.to, c.get(m.to)! + 1);
  }
  return c;
};

/**
 * The least any plan can move to reach shares `share` (+1 for `remainder` of the masters): every
 * master above its final count must give the difference, and the best a remainder slot can do is
 * stay on a giver (one slot less to move each), computed here without the planner's code.
 */
function lowerBound(counts: number[], share: number, remainder: number): number {
  const above = counts.map((c) => c - share).filter((d) => d > 0);
  return above.reduce((a, b) => a + b, 0) - Math.min(remainder, above.length);
}

describe('rebalance after adding 10 empty masters to 50 (synthetic 60-master snapshot)', () => {
  const nodes = cluster(50, 10);
  const s = fakeSnapshot(nodes);
  const plan = planRebalance(s, { useEmptyMasters: true });
  const before = countsOf(nodes);
  const share = Math.floor(SLOTS / 60);
  const remainder = SLOTS - 60 * share;

  it('moves the minimum number of slots: the sum of the positive balances, no slot twice', () => {
    expect(share).toBe(273);
    expect(remainder).toBe(4);
    const bound = lowerBound([...before.values()], share, remainder);
    // 34 masters of 328 slots give 55, 16 of 327 give 54 (2734); four of them keep one remainder slot.
    expect([...before.values()].filter((c) => c === 328)).toHaveLength(34);
    expect(bound).toBe(34 * 55 + 16 * 54 - 4);
    expect(planSlots(plan)).toBe(bound);
    const moves = planMoves(plan);
    expect(new Set(moves.map((m) => m.slot)).size).toBe(moves.length);
    // Only the 10 new masters receive, only the 50 old ones give.
    expect(new Set(moves.map((m) => m.to))).toEqual(new Set(nodes.slice(50).map((n) => id40(n.id))));
    expect(moves.every((m) => m.from.startsWith('a'))).toBe(true);
  });

  it('ends with every master on its share (273, or 274 for the 4 remainder slots)', () => {
    const after = apply(before, planMoves(plan));
    expect([...after.values()].reduce((a, b) => a + b, 0)).toBe(SLOTS);
    expect([...after.values()].filter((c) => c === share + 1)).toHaveLength(remainder);
    expect([...after.values()].filter((c) => c === share)).toHaveLength(60 - remainder);
    // A second rebalance on the result has nothing to do.
    const owned = ownedAfter(nodes, planMoves(plan));
    const moved = fakeSnapshot(nodes.map((n) => ({ ...n, slots: rangesText(owned.get(id40(n.id)) ?? []) })));
    expect(planSlots(planRebalance(moved, { useEmptyMasters: true, threshold: 0 }))).toBe(0);
  });

  it('lays the moves out as pairs that run side by side: one wave, 59 pairs, no pair waiting for another', () => {
    const pairs = summarize(plan);
    expect(pairs.length).toBeLessThanOrEqual(59);
    expect(pairs.length).toBeGreaterThanOrEqual(50);
    expect(plan.waves).toHaveLength(1);
    expect(plan.waves[0]).toHaveLength(pairs.length);
    // The first 10 batches an executor takes touch 20 different nodes: all 10 targets, 10 sources.
    const first = plan.waves[0]!.slice(0, 10);
    expect(new Set(first.map((b) => b.to)).size).toBe(10);
    expect(new Set(first.map((b) => b.from)).size).toBe(10);
  });

  it('is deterministic: the same plan again, and whatever order the snapshot lists the nodes in', () => {
    expect(planRebalance(s, { useEmptyMasters: true })).toEqual(plan);
    const shuffled = fakeSnapshot([...nodes].reverse());
    expect(planRebalance(shuffled, { useEmptyMasters: true }).waves).toEqual(plan.waves);
  });
});

describe('scale-in by 10 masters of 60 (drain)', () => {
  const nodes = cluster(60, 0);
  const s = fakeSnapshot(nodes);
  const leaving = nodes.slice(50).map((n) => id40(n.id));
  const plan = planDrain(s, { nodes: leaving });
  const before = countsOf(nodes);

  it('moves exactly the drained masters\' slots, evenly onto the 50 others, in few pairs and one wave', () => {
    const drainedSlots = leaving.reduce((a, n) => a + before.get(n)!, 0);
    expect(planSlots(plan)).toBe(drainedSlots);
    const after = apply(before, planMoves(plan));
    for (const n of leaving) expect(after.get(n)).toBe(0);
    const kept = nodes.slice(0, 50).map((n) => after.get(id40(n.id))!);
    expect(Math.max(...kept) - Math.min(...kept)).toBeLessThanOrEqual(1);
    const pairs = summarize(plan);
    expect(pairs.length).toBeLessThanOrEqual(59);
    expect(plan.waves).toHaveLength(1);
    expect(new Set(plan.waves[0]!.slice(0, 10).map((b) => b.from)).size).toBe(10);
  });

  it('scale-in --masters 10 plans one drain of all 10 shards, not ten drains', () => {
    const recorded: RecordedNode[] = nodes.map((n, i) => ({ index: i + 1, host: '127.0.0.1', port: n.port }));
    const p = planScaleIn(s, recorded, { masters: 10 });
    const drains = p.steps.filter((st) => st.kind === 'drain');
    expect(drains).toHaveLength(1);
    expect(new Set(drains[0]!.kind === 'drain' ? drains[0]!.masters : [])).toEqual(new Set(leaving));
    expect(planDrain(s, { nodes: drains[0]!.kind === "drain" ? [...drains[0]!.masters] : [] }).waves).toEqual(plan.waves);
  });

  it('scale-out --masters 10 adds all masters before one rebalance', () => {
    const recorded: RecordedNode[] = cluster(50, 0).map((n, i) => ({ index: i + 1, host: '127.0.0.1', port: n.port }));
    const kinds = planScaleOut(recorded, 19001, { masters: 10, replicas: 0 }).steps.map((st) => st.kind);
    expect(kinds).toEqual(['provision', ...Array<string>(10).fill('add-master'), 'rebalance', 'check']);
  });
});

describe('spreadBatches', () => {
  it('interleaves a wave so consecutive batches use different nodes where it can', () => {
    const b = (from: string, to: string): SlotBatch => ({ from, to, slots: [0] });
    // Grouped by target, as a largest-first matching produces them.
    const wave = [b('s1', 'T1'), b('s2', 'T1'), b('s3', 'T1'), b('s4', 'T2'), b('s5', 'T2'), b('s6', 'T2'), b('s7', 'T3')];
    const out = spreadBatches(wave);
    expect(out.map((x) => `${x.from}>${x.to}`)).toEqual(['s1>T1', 's4>T2', 's7>T3', 's2>T1', 's5>T2', 's3>T1', 's6>T2']);
    expect([...out].sort((x, y) => x.from.localeCompare(y.from))).toEqual(wave);
  });

  it('toWaves keeps each pair\'s batches in slot order and every pair\'s next batches in the same wave', () => {
    const moves = [...Array.from({ length: 300 }, (_, i) => ({ slot: i, from: 'x', to: 'z' })), ...Array.from({ length: 100 }, (_, i) => ({ slot: 1000 + i, from: 'y', to: 'z' }))];
    const w = toWaves(moves, 64, 2);
    expect(w.map((wave) => wave.map((x) => `${x.from}:${x.slots[0]}`))).toEqual([['x:0', 'y:1000', 'x:64', 'y:1064'], ['x:128', 'x:192'], ['x:256']]);
  });
});

function ownedAfter(nodes: FakeNode[], moves: { slot: number; to: string }[]): Map<string, number[]> {
  const owner = new Map<number, string>();
  for (const n of nodes) {
    if (!n.slots) continue;
    const [a, b] = n.slots.split('-').map(Number) as [number, number];
    for (let x = a; x <= b; x++) owner.set(x, id40(n.id));
  }
  for (const m of moves) owner.set(m.slot, m.to);
  const out = new Map<string, number[]>();
  for (const [slot, o] of [...owner].sort((x, y) => x[0] - y[0])) {
    if (!out.has(o)) out.set(o, []);
    out.get(o)!.push(slot);
  }
  return out;
}

function rangesText(slots: number[]): string | undefined {
  if (slots.length === 0) return undefined;
  const parts: string[] = [];
  let start = slots[0]!;
  for (let i = 1; i <= slots.length; i++) {
    if (i === slots.length || slots[i] !== slots[i - 1]! + 1) {
      parts.push(start === slots[i - 1] ? `${start}` : `${start}-${slots[i - 1]}`);
      start = slots[i]!;
    }
  }
  return parts.join(',');
}

describe('disjointRounds', () => {
  const b = (from: string, to: string, slot: number): SlotBatch => ({ from, to, slots: [slot] });
  it('keeps a wave whole when no node both gives and takes', () => {
    const wave = [b('a', 'x', 1), b('b', 'x', 2), b('c', 'y', 3)];
    expect(disjointRounds(wave)).toEqual([wave]);
  });
  it('never lets a node give and take in the same round, keeping every batch once and in order', () => {
    const wave = [b('a', 'b', 1), b('b', 'c', 2), b('c', 'a', 3), b('d', 'e', 4)];
    const rounds = disjointRounds(wave);
    for (const r of rounds) {
      const gives = new Set(r.map((x) => x.from));
      for (const x of r) expect(gives.has(x.to)).toBe(false);
    }
    expect(rounds.flat().map((x) => x.slots[0]).sort()).toEqual([1, 2, 3, 4]);
    expect(rounds[0]!.map((x) => x.slots[0])).toEqual([1, 4]);
  });
});
