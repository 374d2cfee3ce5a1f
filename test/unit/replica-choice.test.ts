import { describe, expect, it } from 'vitest';
import { pickMasterForReplica } from '../../src/cluster/replica-choice.js';
import { fakeSnapshot, healthy3x1, type FakeNode } from './fixtures/snapshot.js';

const id = (c: string): string => c.padEnd(40, '0');
const machines = (m: Record<string, string>): Map<string, string> => new Map(Object.entries(m).map(([k, v]) => [id(k), v]));
/** 3 masters without replicas; b owns the most slots, then a, then c. */
const bare = (): FakeNode[] => [
  { id: 'a', port: 6381, role: 'master', slots: '0-5460' },
  { id: 'b', port: 6382, role: 'master', slots: '5461-10923' },
  { id: 'c', port: 6383, role: 'master', slots: '10924-16383' },
];

describe('pickMasterForReplica', () => {
  it('the master with fewest replicas first', () => {
    // c lost its replica f.
    expect(pickMasterForReplica(fakeSnapshot(healthy3x1().filter((n) => n.id !== 'f')), undefined)?.id).toBe(id('c'));
    // a has two, b and c one each: b (it owns 5462 slots, c 5461).
    expect(pickMasterForReplica(fakeSnapshot([...healthy3x1(), { id: 'ab', port: 6387, role: 'replica', master: 'a' }]), undefined)?.id).toBe(id('b'));
  });

  it('among equals, a master on another machine than the replica (anti-affinity)', () => {
    const s = fakeSnapshot(bare());
    expect(pickMasterForReplica(s, 'm1', machines({ a: 'm2', b: 'm1', c: 'm3' }))?.id).toBe(id('a'));
    // Fewer replicas beats anti-affinity: b on the same machine but the only master without a replica.
    const s2 = fakeSnapshot([...bare(), { id: 'd', port: 6384, role: 'replica', master: 'a' }, { id: 'e', port: 6385, role: 'replica', master: 'c' }]);
    expect(pickMasterForReplica(s2, 'm1', machines({ a: 'm2', b: 'm1', c: 'm3' }))?.id).toBe(id('b'));
  });

  it('then the master with most slots, then the lowest id', () => {
    expect(pickMasterForReplica(fakeSnapshot(bare()), undefined)?.id).toBe(id('b'));
    // Unknown machines (no map) never count as "same machine".
    expect(pickMasterForReplica(fakeSnapshot(bare()), 'm1')?.id).toBe(id('b'));
    const even = bare().map((n) => ({ ...n, slots: n.id === 'a' ? '0-99' : n.id === 'b' ? '100-199' : '200-299' }));
    expect(pickMasterForReplica(fakeSnapshot(even), undefined)?.id).toBe(id('a'));
  });

  it('skips a master flagged as failed in its own view', () => {
    const s = fakeSnapshot(bare(), (n, view) => (n.id === 'b' ? view.map((l) => (l.id === id('b') ? { ...l, flags: [...l.flags, 'fail'] } : l)) : view));
    expect(pickMasterForReplica(s, undefined)?.id).toBe(id('a'));
  });

  it('no master: undefined', () => {
    const s = fakeSnapshot(bare());
    expect(pickMasterForReplica({ ...s, nodes: [] }, undefined)).toBeUndefined();
  });
});
