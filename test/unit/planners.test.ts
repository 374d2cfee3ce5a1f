import { describe, expect, it } from 'vitest';
import { RctlError } from '../../src/errors.js';
import { assertFresh } from '../../src/reshard/apply-plan.js';
import { fromPlanFile, planMoves, planSlots, summarize, toPlanFile, toWaves } from '../../src/reshard/plan.js';
import { planDrain } from '../../src/reshard/plan-drain.js';
import { planRebalance } from '../../src/reshard/plan-rebalance.js';
import { planReshard, proportionalSplit } from '../../src/reshard/plan-reshard.js';
import { fakeSnapshot, healthy3x1, type FakeNode } from './fixtures/snapshot.js';

const id = (c: string): string => c.padEnd(40, '0');
const withEmpty = (): FakeNode[] => [...healthy3x1(), { id: 'e1', port: 6387, role: 'master' }];
const four = (): FakeNode[] => [
  { id: 'a', port: 6381, role: 'master', slots: '0-4095' },
  { id: 'b', port: 6382, role: 'master', slots: '4096-8191' },
  { id: 'c', port: 6383, role: 'master', slots: '8192-12287' },
  { id: 'd', port: 6384, role: 'master', slots: '12288-16383' },
];
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return err instanceof RctlError ? `${err.code}: ${err.message}` : String(err);
  }
  return 'no error';
};
const after = (nodes: FakeNode[], moves: { slot: number; from: string; to: string }[]): Map<string, number> => {
  const count = new Map<string, number>();
  const s = fakeSnapshot(nodes);
  for (const n of s.nodes) if (n.role === 'master') count.set(n.id, n.self.slots.reduce((a, r) => a + r.end - r.start + 1, 0));
  for (const m of moves) {
    count.set(m.from, count.get(m.from)! - 1);
    count.set(m.to, count.get(m.to)! + 1);
  }
  return count;
};

describe('planReshard', () => {
  it('3 -> 4 masters: moves exactly 4096 slots to the empty master, proportionally, lowest slots first', () => {
    const s = fakeSnapshot(withEmpty());
    const p = planReshard(s, { from: 'all', to: '127.0.0.1:6387', slots: 4096 });
    expect(planSlots(p)).toBe(4096);
    const rows = summarize(p);
    expect(rows.map((r) => r.slots)).toEqual([1366, 1365, 1365]);
    expect(rows.every((r) => r.to === id('e1'))).toBe(true);
    expect(rows[0]).toMatchObject({ from: id('b'), ranges: [{ start: 5461, end: 6826 }] });
    expect(p.fingerprint).toBe(s.fingerprint);
  });

  it('moves exactly N even where redis-cli rounding would move fewer (2 slots from 3 equal sources)', () => {
    expect(planSlots(planReshard(fakeSnapshot(four()), { from: ['a000', 'b000', 'c000'], to: 'd000', slots: 2 }))).toBe(2);
    expect(proportionalSplit(2, [10, 10, 10])).toEqual([1, 1, 0]);
    expect(proportionalSplit(4096, [5461, 5462, 5461]).reduce((a, b) => a + b)).toBe(4096);
  });

  it('is deterministic', () => {
    const s = fakeSnapshot(withEmpty());
    expect(planReshard(s, { from: 'all', to: 'e100', slots: 1000 })).toEqual(planReshard(s, { from: 'all', to: 'e100', slots: 1000 }));
  });

  it('groups batches into waves that run every pair at once', () => {
    const p = planReshard(fakeSnapshot(withEmpty()), { from: 'all', to: 'e100', slots: 4096, slotsPerBatch: 100, batchesPerWave: 2 });
    expect(p.waves[0]).toHaveLength(6);
    expect(p.waves[0]!.every((b) => b.slots.length === 100)).toBe(true);
    expect(planMoves(p)).toHaveLength(4096);
    expect(new Set(planMoves(p).map((m) => m.slot)).size).toBe(4096);
  });

  it('refuses bad input with the flag in the message', () => {
    const s = fakeSnapshot(withEmpty());
    expect(codeOf(() => planReshard(s, { from: 'all', to: 'zzzz', slots: 10 }))).toMatch(/UNKNOWN_NODE: --to "zzzz" matches no node/);
    expect(codeOf(() => planReshard(s, { from: 'all', to: 'e100', slots: 0 }))).toMatch(/USAGE: --slots must be a positive integer/);
    expect(codeOf(() => planReshard(s, { from: 'all', to: 'e100', slots: 16385 }))).toMatch(/USAGE: --slots 16385 is more than the sources own \(16384\)/);
    expect(codeOf(() => planReshard(s, { from: ['a000'], to: 'e100', slots: 6000 }))).toMatch(/more than the sources own \(5461\)/);
    expect(codeOf(() => planReshard(s, { from: 'all', to: '127.0.0.1:6384', slots: 10 }))).toMatch(/REFUSED: --to 127.0.0.1:6384 is a replica/);
    expect(codeOf(() => planReshard(s, { from: ['a000', 'e100'], to: 'e100', slots: 10 }))).toMatch(/USAGE: --from contains the target/);
    expect(codeOf(() => planReshard(s, { from: ['d000'], to: 'e100', slots: 10 }))).toMatch(/REFUSED: --from 127.0.0.1:6384 is a replica/);
  });

  it('resolves ids, unique prefixes and host:port, and refuses ambiguous prefixes', () => {
    const nodes = withEmpty();
    nodes[0]!.id = 'abcd1';
    nodes[1]!.id = 'abcd2';
    nodes[3]!.master = 'abcd1';
    nodes[4]!.master = 'abcd2';
    const s = fakeSnapshot(nodes);
    expect(codeOf(() => planReshard(s, { from: ['abcd'], to: 'e100', slots: 1 }))).toMatch(/UNKNOWN_NODE: --from "abcd" is ambiguous/);
    expect(summarize(planReshard(s, { from: ['abcd1'], to: 'e100', slots: 1 }))[0]!.from).toBe(id('abcd1'));
    expect(summarize(planReshard(s, { from: ['127.0.0.1:6382'], to: id('e1'), slots: 1 }))[0]!.from).toBe(id('abcd2'));
  });
});

describe('planRebalance', () => {
  it('is a no-op within the threshold', () => {
    const p = planRebalance(fakeSnapshot(healthy3x1()));
    expect(planSlots(p)).toBe(0);
    expect(p.notes[0]).toMatch(/no rebalancing needed/);
  });

  it('leaves empty masters out unless --use-empty-masters, then gives them their share', () => {
    const s = fakeSnapshot(withEmpty());
    const without = planRebalance(s);
    expect(planSlots(without)).toBe(0);
    expect(without.notes.join(' ')).toMatch(/--use-empty-masters/);
    const p = planRebalance(s, { useEmptyMasters: true });
    const counts = after(withEmpty(), planMoves(p));
    expect(counts.get(id('e1'))).toBe(4096);
    for (const c of counts.values()) expect(Math.abs(c - 4096)).toBeLessThanOrEqual(1);
  });

  it('honours weights', () => {
    const p = planRebalance(fakeSnapshot(four()), { weights: ['a000=2'] });
    const counts = after(four(), planMoves(p));
    // total weight 5: shares are floor(16384/5 * w) = 6553 and 3276. The rounding remainder
    // (3 slots) stays on the givers, one each (redis-cli gives it to the taker: 3 more slots moved).
    expect(counts.get(id('a'))).toBe(6553);
    for (const k of ['b', 'c', 'd']) expect(counts.get(id(k))).toBe(3277);
    expect(planSlots(p)).toBe(3 * (4096 - 3277));
  });

  it('refuses malformed or non-positive weights and unknown masters', () => {
    const s = fakeSnapshot(four());
    expect(codeOf(() => planRebalance(s, { weights: ['a'] }))).toMatch(/USAGE: --weight "a" is not ID=WEIGHT/);
    expect(codeOf(() => planRebalance(s, { weights: ['a000=0'] }))).toMatch(/greater than 0/);
    expect(codeOf(() => planRebalance(s, { weights: ['a000=-1'] }))).toMatch(/greater than 0/);
    expect(codeOf(() => planRebalance(s, { weights: ['a000=x'] }))).toMatch(/greater than 0/);
    expect(codeOf(() => planRebalance(s, { weights: ['ffff=1'] }))).toMatch(/UNKNOWN_NODE/);
  });

  it('is deterministic', () => {
    const s = fakeSnapshot(withEmpty());
    expect(planRebalance(s, { useEmptyMasters: true })).toEqual(planRebalance(s, { useEmptyMasters: true }));
  });
});

describe('planDrain', () => {
  it('4 -> 3: empties a master evenly onto the others', () => {
    const p = planDrain(fakeSnapshot(four()), { nodes: ['d000'] });
    expect(planSlots(p)).toBe(4096);
    const counts = after(four(), planMoves(p));
    expect(counts.get(id('d'))).toBe(0);
    for (const k of ['a', 'b', 'c']) expect(Math.abs(counts.get(id(k))! - 5461)).toBeLessThanOrEqual(1);
  });
  it('with --to, everything goes to that master', () => {
    const counts = after(four(), planMoves(planDrain(fakeSnapshot(four()), { nodes: ['d000'], to: 'a000' })));
    expect(counts.get(id('a'))).toBe(8192);
    expect(counts.get(id('d'))).toBe(0);
  });
  it('refuses replicas, the target among the drained, and draining everyone', () => {
    expect(codeOf(() => planDrain(fakeSnapshot(healthy3x1()), { nodes: ['d000'] }))).toMatch(/REFUSED: .* is a replica/);
    expect(codeOf(() => planDrain(fakeSnapshot(four()), { nodes: ['d000'], to: 'd000' }))).toMatch(/USAGE: --to .* is one of the masters being drained/);
    expect(codeOf(() => planDrain(fakeSnapshot(four()), { nodes: ['a000', 'b000', 'c000', 'd000'] }))).toMatch(/REFUSED: Draining every master/);
  });
});

describe('plan files and staleness', () => {
  it('round-trips through JSON with slots as ranges', () => {
    const p = planReshard(fakeSnapshot(withEmpty()), { from: 'all', to: 'e100', slots: 4096 });
    const file = JSON.parse(JSON.stringify(toPlanFile(p, '2026-01-01T00:00:00Z')));
    expect(file.waves[0][0].slots).toMatch(/^\d+-\d+$/);
    expect(fromPlanFile(file)).toEqual(p);
  });
  it('rejects files that are not plans', () => {
    expect(() => fromPlanFile({ hello: 1 })).toThrow(/not an rctl plan/);
    expect(() => fromPlanFile({ rctlPlan: 1, fingerprint: 'x', nodes: {}, waves: [[{ from: 'a', to: 'b', slots: '5-1' }]] })).toThrow(/bad slots/);
  });
  it('refuses to apply a plan to a cluster that changed (stale fingerprint)', () => {
    const s = fakeSnapshot(withEmpty());
    const p = planReshard(s, { from: 'all', to: 'e100', slots: 10 });
    expect(() => assertFresh(p, s)).not.toThrow();
    const changed = withEmpty();
    changed[0]!.slots = '0-5459';
    changed[1]!.slots = '5460-10922';
    expect(codeOf(() => assertFresh(p, fakeSnapshot(changed)))).toMatch(/REFUSED: The cluster changed since this plan was made/);
  });
  it('toWaves keeps every move exactly once', () => {
    const moves = Array.from({ length: 1000 }, (_, i) => ({ slot: i, from: i % 2 ? 'x' : 'y', to: 'z' }));
    const w = toWaves(moves, 64, 3);
    expect(w.flat().flatMap((b) => b.slots).sort((a, b) => a - b)).toEqual(moves.map((m) => m.slot));
  });
});
