import { describe, expect, it } from 'vitest';
import { disputedSlots, planCoverage, planSlotClose, planSlotOwner, slotsToRepair, uncoveredSlots, type FixAction } from '../../src/cluster/fix-plan.js';
import { nodeById, type Snapshot } from '../../src/cluster/snapshot.js';
import { fakeSnapshot, type FakeNode } from './fixtures/snapshot.js';

const id = (c: string): string => c.padEnd(40, '0');
const PORT: Record<string, number> = { a: 6381, b: 6382, c: 6383 };
/** A node as actions name it: id and the address rctl reaches it on. */
const n = (c: string): { id: string; addr: { host: string; port: number } } => ({ id: id(c), addr: { host: '127.0.0.1', port: PORT[c]! } });
const addr = (c: string): { host: string; port: number } => n(c).addr;
const migrating = (slot: number, to: string): string => `[${slot}->-${id(to)}]`;
const importing = (slot: number, from: string): string => `[${slot}-<-${id(from)}]`;

/** 3 masters (a: 0-5460, b: 5461-10922, c: 10923-16383), no replicas; `patch` edits them by id. */
function cluster(patch: Partial<Record<'a' | 'b' | 'c', Partial<FakeNode>>> = {}): Snapshot {
  const base: FakeNode[] = [
    { id: 'a', port: 6381, role: 'master', slots: '0-5460' },
    { id: 'b', port: 6382, role: 'master', slots: '5461-10922' },
    { id: 'c', port: 6383, role: 'master', slots: '10923-16383' },
  ];
  return fakeSnapshot(base.map((x) => ({ ...x, ...patch[x.id as 'a' | 'b' | 'c'] })));
}
const keys = (k: Partial<Record<'a' | 'b' | 'c', number>>): Map<string, number> => new Map(Object.entries(k).map(([c, v]) => [id(c), v]));
const owner = (s: Snapshot, c: string) => nodeById(s, id(c))!;

describe('slotsToRepair', () => {
  it('lists slots open anywhere and slots with stray keys, once each, ascending', () => {
    const s = cluster({ a: { open: `${migrating(100, 'b')} ${migrating(7, 'c')}` }, b: { open: importing(100, 'a') } });
    const stray = new Map([['127.0.0.1:6383', [{ slot: 42, keys: 3 }, { slot: 7, keys: 1 }]]]);
    expect(slotsToRepair(s, stray)).toEqual([7, 42, 100]);
  });
  it('is empty on a healthy cluster', () => {
    expect(slotsToRepair(cluster(), new Map())).toEqual([]);
  });
});

describe('planSlotOwner', () => {
  it('a slot with exactly one owner keeps it and needs no action', () => {
    const s = cluster({ a: { open: migrating(100, 'b') }, b: { open: importing(100, 'a') } });
    const p = planSlotOwner(s, 100, keys({ a: 5, b: 3 }));
    expect(p.owner.id).toBe(id('a'));
    expect(p.actions).toEqual([]);
  });

  it('no owner: the master with most keys gets it; holders that do not import yet import it first', () => {
    // Slot 42 is nobody's; b imports it (4 keys), c holds 7 stray keys without importing.
    const s = cluster({ a: { slots: '0-41,43-5460' }, b: { open: importing(42, 'a') } });
    const p = planSlotOwner(s, 42, keys({ a: 0, b: 4, c: 7 }));
    expect(p.owner.id).toBe(id('c'));
    expect(p.actions).toEqual<FixAction[]>([
      { kind: 'claim', node: n('c'), slots: [42] },
      { kind: 'note', text: 'slot 42: no owner, gave it to 127.0.0.1:6383 (7 keys there)' },
    ]);
    // c is the owner; b (importing already) needs nothing; a plain holder that does not import must.
    const q = planSlotOwner(s, 42, keys({ a: 2, b: 1, c: 7 }));
    expect(q.actions[0]).toEqual({ kind: 'set-importing', node: n('a'), slot: 42, from: id('c') });
    expect(q.actions.map((x) => x.kind)).toEqual(['set-importing', 'claim', 'note']);
  });

  it('no owner and no keys anywhere: an open node wins the tie, then the lowest id', () => {
    const s = cluster({ a: { slots: '0-41,43-5460' }, c: { open: importing(42, 'a') } });
    expect(planSlotOwner(s, 42, keys({})).owner.id).toBe(id('c'));
    const plain = cluster({ a: { slots: '0-41,43-5460' } });
    expect(planSlotOwner(plain, 42, keys({})).owner.id).toBe(id('a'));
  });

  it('several owners: the claimant with most keys wins, the others give it up and import it, non-owners holding keys import it', () => {
    // a and b both claim slot 100; c (not an owner) holds a stray key there.
    const s = cluster({ b: { slots: '100,5461-10922' } });
    const p = planSlotOwner(s, 100, keys({ a: 2, b: 5, c: 1 }));
    expect(p.owner.id).toBe(id('b'));
    expect(p.actions).toEqual<FixAction[]>([
      { kind: 'release-and-import', node: n('a'), slot: 100, from: id('b') },
      { kind: 'note', text: 'slot 100: 127.0.0.1:6381 also claimed it; it now imports it from 127.0.0.1:6382, its keys to follow' },
      { kind: 'set-importing', node: n('c'), slot: 100, from: id('b') },
      { kind: 'claim', node: n('b'), slots: [100] },
      { kind: 'note', text: 'slot 100: 2 owners, gave it to 127.0.0.1:6382 (5 keys there)' },
    ]);
  });

  it('several owners: only claimants are candidates, even if a non-owner holds more keys', () => {
    const s = cluster({ b: { slots: '100,5461-10922' } });
    expect(planSlotOwner(s, 100, keys({ a: 1, b: 2, c: 50 })).owner.id).toBe(id('b'));
  });
});

describe('planSlotClose', () => {
  it('migrating + importing (an interrupted move): re-open both sides, move the rest, owner first, then the source, then the others', () => {
    const s = cluster({ a: { open: migrating(100, 'b') }, b: { open: importing(100, 'a') } });
    expect(planSlotClose(s, 100, keys({ a: 8, b: 12 }), owner(s, 'a'))).toEqual<FixAction[]>([
      { kind: 'set-importing', node: n('b'), slot: 100, from: id('a') },
      { kind: 'set-migrating', node: n('a'), slot: 100, to: id('b') },
      { kind: 'migrate', from: n('a'), target: addr('b'), slot: 100, asking: false },
      { kind: 'assign', owner: n('b'), previous: n('a'), others: [n('c')], slot: 100 },
      { kind: 'note', text: 'slot 100: finished the move 127.0.0.1:6381 -> 127.0.0.1:6382 ({moved} keys)' },
    ]);
  });

  it('MIGRATE goes to the target as the source sees it (announced address), not as rctl reaches it', () => {
    const s = fakeSnapshot(
      [
        { id: 'a', port: 6381, role: 'master', slots: '0-5460', open: migrating(100, 'b') },
        { id: 'b', port: 6382, role: 'master', slots: '5461-10922', open: importing(100, 'a') },
        { id: 'c', port: 6383, role: 'master', slots: '10923-16383' },
      ],
      (me, view) => (me.id === 'a' ? view.map((l) => (l.id === id('b') ? { ...l, host: '172.18.0.3', port: 6379 } : l)) : view),
    );
    const m = planSlotClose(s, 100, keys({ a: 1 }), owner(s, 'a')).find((x) => x.kind === 'migrate');
    expect(m).toMatchObject({ target: { host: '172.18.0.3', port: 6379 } });
  });

  it('importing only: the importer\'s keys go to the owner (ASKING), every side is closed, ownership re-asserted', () => {
    const s = cluster({ b: { open: importing(100, 'a') } });
    expect(planSlotClose(s, 100, keys({ a: 5, b: 3 }), owner(s, 'a'))).toEqual<FixAction[]>([
      { kind: 'migrate', from: n('b'), target: addr('a'), slot: 100, asking: true },
      { kind: 'note', text: 'slot 100: moved {moved} keys from 127.0.0.1:6382 to the owner 127.0.0.1:6381' },
      { kind: 'stabilize', node: n('b'), slot: 100 },
      { kind: 'stabilize', node: n('a'), slot: 100 },
      { kind: 'assign', owner: n('a'), previous: undefined, others: [n('b'), n('c')], slot: 100 },
      { kind: 'note', text: 'slot 100: closed, owner 127.0.0.1:6381' },
    ]);
  });

  it('importing only, without keys: nothing moves, the slot is closed', () => {
    const s = cluster({ b: { open: importing(100, 'a') } });
    expect(planSlotClose(s, 100, keys({ a: 5 }), owner(s, 'a')).map((x) => x.kind)).toEqual(['stabilize', 'stabilize', 'assign', 'note']);
  });

  it('stray keys on a node that neither owns nor imports the slot: it imports first, then its keys go to the owner', () => {
    const s = cluster();
    expect(planSlotClose(s, 7, keys({ a: 2, c: 3 }), owner(s, 'a'))).toEqual<FixAction[]>([
      { kind: 'set-importing', node: n('c'), slot: 7, from: id('a') },
      { kind: 'migrate', from: n('c'), target: addr('a'), slot: 7, asking: true },
      { kind: 'note', text: 'slot 7: moved {moved} keys from 127.0.0.1:6383 to the owner 127.0.0.1:6381' },
      { kind: 'stabilize', node: n('c'), slot: 7 },
      { kind: 'stabilize', node: n('a'), slot: 7 },
      { kind: 'assign', owner: n('a'), previous: undefined, others: [n('b'), n('c')], slot: 7 },
      { kind: 'note', text: 'slot 7: closed, owner 127.0.0.1:6381' },
    ]);
  });

  it('migrating only, keys at the owner: closed', () => {
    const s = cluster({ a: { open: migrating(100, 'b') } });
    expect(planSlotClose(s, 100, keys({ a: 5 }), owner(s, 'a'))).toEqual<FixAction[]>([
      { kind: 'stabilize', node: n('a'), slot: 100 },
      { kind: 'note', text: 'slot 100: closed on 127.0.0.1:6381 (nothing was importing it)' },
    ]);
  });

  it('migrating only on a node that is not the owner and holds keys: refuses rather than guess', () => {
    const s = cluster({ b: { open: migrating(100, 'c') } });
    expect(planSlotClose(s, 100, keys({ a: 5, b: 2 }), owner(s, 'a'))).toEqual<FixAction[]>([
      { kind: 'refuse', slot: 100, migrating: ['127.0.0.1:6382'], importing: [], owner: '127.0.0.1:6381' },
    ]);
  });

  it('one migrating, several importing without keys: finishes towards the intended target, closes it elsewhere', () => {
    const s = cluster({ a: { open: migrating(100, 'c') }, b: { open: importing(100, 'a') }, c: { open: importing(100, 'a') } });
    expect(planSlotClose(s, 100, keys({ a: 4 }), owner(s, 'a'))).toEqual<FixAction[]>([
      { kind: 'set-migrating', node: n('a'), slot: 100, to: id('c') },
      { kind: 'migrate', from: n('a'), target: addr('c'), slot: 100, asking: false },
      { kind: 'assign', owner: n('c'), previous: n('a'), others: [n('b')], slot: 100 },
      { kind: 'stabilize', node: n('b'), slot: 100 },
      { kind: 'note', text: 'slot 100: finished the move 127.0.0.1:6381 -> 127.0.0.1:6383 ({moved} keys), closed it elsewhere' },
    ]);
  });

  it('one migrating towards a node that does not import, several importing: closes it everywhere', () => {
    const s = cluster({ a: { open: migrating(100, 'f') }, b: { open: importing(100, 'a') }, c: { open: importing(100, 'a') } });
    expect(planSlotClose(s, 100, keys({ a: 4 }), owner(s, 'a'))).toEqual<FixAction[]>([
      { kind: 'stabilize', node: n('a'), slot: 100 },
      { kind: 'stabilize', node: n('b'), slot: 100 },
      { kind: 'stabilize', node: n('c'), slot: 100 },
      { kind: 'note', text: 'slot 100: closed on 127.0.0.1:6381, 127.0.0.1:6382, 127.0.0.1:6383' },
    ]);
  });

  it('one migrating, several importing, one of them with keys: refuses', () => {
    const s = cluster({ a: { open: migrating(100, 'c') }, b: { open: importing(100, 'a') }, c: { open: importing(100, 'a') } });
    expect(planSlotClose(s, 100, keys({ a: 4, b: 1 }), owner(s, 'a'))).toEqual<FixAction[]>([
      { kind: 'refuse', slot: 100, migrating: ['127.0.0.1:6381'], importing: ['127.0.0.1:6382', '127.0.0.1:6383'], owner: '127.0.0.1:6381' },
    ]);
  });

  it('migrating on two nodes: refuses, after shielding stray holders', () => {
    const s = cluster({ a: { open: migrating(100, 'b') }, b: { open: migrating(100, 'a') } });
    const p = planSlotClose(s, 100, keys({ a: 4, b: 1, c: 2 }), owner(s, 'a'));
    expect(p).toEqual<FixAction[]>([
      { kind: 'set-importing', node: n('c'), slot: 100, from: id('a') },
      { kind: 'refuse', slot: 100, migrating: ['127.0.0.1:6381', '127.0.0.1:6382'], importing: ['127.0.0.1:6383'], owner: '127.0.0.1:6381' },
    ]);
  });

  it('nothing open and no stray keys: no action', () => {
    const s = cluster();
    expect(planSlotClose(s, 100, keys({ a: 4 }), owner(s, 'a'))).toEqual([]);
  });

  it('an owner that is no longer a master in the new reading is still the target (step-1 reading)', () => {
    const s0 = cluster();
    const s = fakeSnapshot([
      { id: 'a', port: 6381, role: 'replica', master: 'b' },
      { id: 'b', port: 6382, role: 'master', slots: '5461-10922', open: importing(100, 'a') },
      { id: 'c', port: 6383, role: 'master', slots: '10923-16383' },
    ]);
    const p = planSlotClose(s, 100, keys({ b: 3 }), owner(s0, 'a'));
    expect(p[0]).toEqual({ kind: 'migrate', from: n('b'), target: addr('a'), slot: 100, asking: true });
    expect(p.find((x) => x.kind === 'assign')).toEqual({ kind: 'assign', owner: n('a'), previous: undefined, others: [n('b'), n('c')], slot: 100 });
  });
});

describe('uncovered slots', () => {
  it('uncoveredSlots lists exactly the slots no master claims', () => {
    expect(uncoveredSlots(cluster())).toEqual([]);
    expect(uncoveredSlots(cluster({ a: { slots: '0-99,200-5460' }, c: { slots: '10923-16380' } }))).toEqual([...Array.from({ length: 100 }, (_, i) => 100 + i), 16381, 16382, 16383]);
  });

  it('to the holder of their keys (most keys wins; the other holder imports first, then hands its keys over); keyless ones to the masters with fewest slots', () => {
    // c owns 10923-16000 (5078 slots); 16001-16383 are nobody's.
    const s = cluster({ c: { slots: '10923-16000' } });
    const uncovered = uncoveredSlots(s);
    expect(uncovered).toHaveLength(383);
    const zeros = (): number[] => uncovered.map(() => 0);
    const [ca, cb, cc] = [zeros(), zeros(), zeros()];
    ca[0] = 3; // 16001: only on a
    cb[1] = 2; // 16002: on b and c, c has more
    cc[1] = 5;
    const p = planCoverage(s, uncovered, new Map([[id('a'), ca], [id('b'), cb], [id('c'), cc]]));
    // The rest have no keys: c has fewest slots (5079 after 16002) and stays below a and b (5462) to the end.
    expect(p).toEqual<FixAction[]>([
      { kind: 'set-importing', node: n('b'), slot: 16002, from: id('c') },
      { kind: 'claim', node: n('a'), slots: [16001] },
      { kind: 'note', text: 'uncovered slots 16001 assigned to 127.0.0.1:6381' },
      { kind: 'claim', node: n('c'), slots: uncovered.slice(1) },
      { kind: 'note', text: 'uncovered slots 16002-16383 assigned to 127.0.0.1:6383' },
      { kind: 'migrate', from: n('b'), target: addr('c'), slot: 16002, asking: true },
      { kind: 'stabilize', node: n('b'), slot: 16002 },
      { kind: 'note', text: 'slot 16002: moved {moved} keys from 127.0.0.1:6382 to its new owner 127.0.0.1:6383' },
    ]);
  });

  it('keyless slots are spread: each goes to the master with fewest slots at that moment, ties to the lowest id', () => {
    // a: 5459 slots, b: 5462, c: 5460; nobody owns 5459, 5460 and 16383.
    const s = cluster({ a: { slots: '0-5458' }, c: { slots: '10923-16382' } });
    const uncovered = uncoveredSlots(s);
    expect(uncovered).toEqual([5459, 5460, 16383]);
    // 5459 -> a (5459 -> 5460); 5460: a and c tie at 5460 -> a (lower id); 16383 -> c (5460 < 5461).
    expect(planCoverage(s, uncovered, new Map())).toEqual<FixAction[]>([
      { kind: 'claim', node: n('a'), slots: [5459, 5460] },
      { kind: 'note', text: 'uncovered slots 5459-5460 assigned to 127.0.0.1:6381' },
      { kind: 'claim', node: n('c'), slots: [16383] },
      { kind: 'note', text: 'uncovered slots 16383 assigned to 127.0.0.1:6383' },
    ]);
  });

  it('nothing uncovered: no action', () => {
    expect(planCoverage(cluster(), [], new Map())).toEqual([]);
  });
});

describe('disputed slots (owners the nodes disagree about)', () => {
  /** c's view names b as the owner of slots 100-101, which a claims in its own config and in everyone else's view. */
  function disputed(): Snapshot {
    const s = cluster();
    const nodes = s.nodes.map((node) =>
      node.id !== id('c')
        ? node
        : {
            ...node,
            view: node.view.map((l) =>
              l.id === id('a') ? { ...l, slots: [{ start: 0, end: 99 }, { start: 102, end: 5460 }] } : l.id === id('b') ? { ...l, slots: [{ start: 100, end: 101 }, ...l.slots] } : l,
            ),
          },
    );
    return { ...s, nodes };
  }

  it('lists the slots whose owner differs between views, and fix repairs them', () => {
    expect(disputedSlots(cluster())).toEqual([]);
    expect(disputedSlots(disputed())).toEqual([100, 101]);
    expect(slotsToRepair(disputed(), new Map())).toEqual([100, 101]);
  });

  it('the one claimant claims again with a new epoch (its claim must outrank the view it lost to)', () => {
    const p = planSlotOwner(disputed(), 100, keys({ a: 4 }), true);
    expect(p.owner.id).toBe(id('a'));
    expect(p.actions).toEqual<FixAction[]>([
      { kind: 'claim', node: n('a'), slots: [100] },
      { kind: 'note', text: 'slot 100: nodes disagreed about its owner, gave it to 127.0.0.1:6381 (4 keys there)' },
    ]);
    // Not disputed: one claimant keeps it, nothing to do.
    expect(planSlotOwner(disputed(), 100, keys({ a: 4 })).actions).toEqual([]);
  });
});
