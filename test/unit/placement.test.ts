import { describe, expect, it } from 'vitest';
import { planPlacement, PlacementError, type PlacementNode } from '../../src/cluster/placement.js';

const nodes = (n: number, machine = 'm1'): PlacementNode[] => Array.from({ length: n }, (_, i) => ({ key: `127.0.0.1:${6381 + i}`, machine }));

describe('planPlacement', () => {
  it('3x1 on one machine: first three are masters with redis-cli slot ranges, one replica each', () => {
    const p = planPlacement(nodes(6), { masters: 3, replicasPerMaster: 1 });
    expect(p.masters.map((m) => m.node)).toEqual(['127.0.0.1:6381', '127.0.0.1:6382', '127.0.0.1:6383']);
    expect(p.masters.map((m) => `${m.slots.start}-${m.slots.end}`)).toEqual(['0-5460', '5461-10922', '10923-16383']);
    expect(p.replicas).toEqual([
      { node: '127.0.0.1:6384', master: '127.0.0.1:6381' },
      { node: '127.0.0.1:6385', master: '127.0.0.1:6382' },
      { node: '127.0.0.1:6386', master: '127.0.0.1:6383' },
    ]);
    expect(p.notes.some((n) => n.includes('one machine'))).toBe(true);
  });

  it('3x0: masters only', () => {
    const p = planPlacement(nodes(3), { masters: 3, replicasPerMaster: 0 });
    expect(p.masters).toHaveLength(3);
    expect(p.replicas).toHaveLength(0);
  });

  it('5x2: every master gets two replicas, every node used once', () => {
    const p = planPlacement(nodes(15), { masters: 5, replicasPerMaster: 2 });
    expect(p.masters).toHaveLength(5);
    for (const m of p.masters) expect(p.replicas.filter((r) => r.master === m.node)).toHaveLength(2);
    const used = [...p.masters.map((m) => m.node), ...p.replicas.map((r) => r.node)];
    expect(new Set(used).size).toBe(15);
  });

  it('uneven: extra nodes become extra replicas of the masters with fewest', () => {
    const p = planPlacement(nodes(8), { masters: 3, replicasPerMaster: 1 });
    const counts = p.masters.map((m) => p.replicas.filter((r) => r.master === m.node).length);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(5);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it('multi-host: masters spread over machines and no replica shares its master machine', () => {
    const ns: PlacementNode[] = [
      ...nodes(3, 'a'),
      ...nodes(3, 'b').map((n, i) => ({ ...n, key: `10.0.0.2:${7000 + i}` })),
      ...nodes(3, 'c').map((n, i) => ({ ...n, key: `10.0.0.3:${7000 + i}` })),
    ];
    const p = planPlacement(ns, { masters: 3, replicasPerMaster: 2 });
    const machineOf = new Map(ns.map((n) => [n.key, n.machine]));
    expect(new Set(p.masters.map((m) => machineOf.get(m.node))).size).toBe(3);
    for (const r of p.replicas) expect(machineOf.get(r.node)).not.toBe(machineOf.get(r.master));
    // Two replicas of one master land on two different machines.
    for (const m of p.masters) {
      const ms = p.replicas.filter((r) => r.master === m.node).map((r) => machineOf.get(r.node));
      expect(new Set(ms).size).toBe(ms.length);
    }
    expect(p.notes).toEqual([]);
  });

  it('two machines, unequal: anti-affinity where possible, notes where not', () => {
    const ns: PlacementNode[] = [...nodes(5, 'big'), { key: 'other:1', machine: 'small' }];
    const p = planPlacement(ns, { masters: 3, replicasPerMaster: 1 });
    const machineOf = new Map(ns.map((n) => [n.key, n.machine]));
    // One master goes to the small machine; only its replica can live elsewhere (on big): exactly one
    // replica is on another machine than its master, and each of the other two gets a note.
    expect(p.masters.map((m) => machineOf.get(m.node)).sort()).toEqual(['big', 'big', 'small']);
    const crossMachine = p.replicas.filter((r) => machineOf.get(r.node) !== machineOf.get(r.master));
    expect(crossMachine.map((r) => machineOf.get(r.master))).toEqual(['small']);
    expect(p.notes).toHaveLength(2);
    for (const n of p.notes) expect(n).toMatch(/^replica \S+ shares machine big with its master \S+$/);
  });

  it('is deterministic', () => {
    expect(planPlacement(nodes(9), { masters: 3, replicasPerMaster: 2 })).toEqual(planPlacement(nodes(9), { masters: 3, replicasPerMaster: 2 }));
  });

  it('refuses impossible counts', () => {
    expect(() => planPlacement(nodes(5), { masters: 3, replicasPerMaster: 1 })).toThrow(PlacementError);
    expect(() => planPlacement(nodes(6), { masters: 0, replicasPerMaster: 1 })).toThrow(PlacementError);
    expect(() => planPlacement(nodes(6), { masters: 3, replicasPerMaster: -1 })).toThrow(PlacementError);
    expect(() => planPlacement([...nodes(3), ...nodes(3)], { masters: 3, replicasPerMaster: 1 })).toThrow(/twice/);
  });
});
