import { describe, expect, it } from 'vitest';
import { describeStep, planScaleIn, planScaleOut, type RecordedNode, type ScaleStep } from '../../src/cluster/scale-plan.js';
import { RctlError } from '../../src/errors.js';
import { fakeSnapshot, healthy3x1, type FakeNode } from './fixtures/snapshot.js';

const id = (c: string): string => c.padEnd(40, '0');
const recorded = (...indexes: number[]): RecordedNode[] => indexes.map((index) => ({ index, host: '127.0.0.1', port: 6380 + index }));
/** 4 shards: a/d, b/e, c/f (created), then 7/8 added by a scale-out (master 7 = ab1, replica 8 = ab2). */
const fourShards = (): FakeNode[] => [
  { id: 'a', port: 6381, role: 'master', slots: '0-4095' },
  { id: 'b', port: 6382, role: 'master', slots: '4096-8191' },
  { id: 'c', port: 6383, role: 'master', slots: '8192-12287' },
  { id: 'd', port: 6384, role: 'replica', master: 'a' },
  { id: 'e', port: 6385, role: 'replica', master: 'b' },
  { id: 'f', port: 6386, role: 'replica', master: 'c' },
  { id: 'ab1', port: 6387, role: 'master', slots: '12288-16383' },
  { id: 'ab2', port: 6388, role: 'replica', master: 'ab1' },
];
const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return err instanceof RctlError ? `${err.code}: ${err.message}` : `not an RctlError: ${String(err)}`;
  }
  return 'no error';
};

describe('planScaleOut', () => {
  it('1 shard of 1+1 on a 3x1 cluster: the next indexes and ports, master first, rebalance before the replica', () => {
    const p = planScaleOut(recorded(1, 2, 3, 4, 5, 6), 6381, { masters: 1, replicas: 1 });
    expect(p.kind).toBe('scale-out');
    expect(p.newNodes).toEqual([
      { index: 7, port: 6387, role: 'master' },
      { index: 8, port: 6388, role: 'replica', masterIndex: 7 },
    ]);
    expect(p.steps).toEqual<ScaleStep[]>([
      { kind: 'provision', indexes: [7, 8] },
      { kind: 'add-master', index: 7 },
      { kind: 'rebalance' },
      { kind: 'add-replica', index: 8, masterIndex: 7 },
      { kind: 'check' },
    ]);
  });

  it('2 shards of 1+2: all new masters first, then each master\'s replicas in order; numbering continues after the highest index', () => {
    // Index 4 was removed earlier: numbering continues after 6, it does not fill the gap.
    const p = planScaleOut(recorded(1, 2, 3, 5, 6), 7001, { masters: 2, replicas: 2 });
    expect(p.newNodes.map((n) => [n.index, n.port, n.role, n.masterIndex])).toEqual([
      [7, 7007, 'master', undefined],
      [8, 7008, 'master', undefined],
      [9, 7009, 'replica', 7],
      [10, 7010, 'replica', 7],
      [11, 7011, 'replica', 8],
      [12, 7012, 'replica', 8],
    ]);
    expect(p.steps.map((s) => s.kind)).toEqual(['provision', 'add-master', 'add-master', 'rebalance', 'add-replica', 'add-replica', 'add-replica', 'add-replica', 'check']);
  });

  it('no replicas: no add-replica step', () => {
    expect(planScaleOut(recorded(1, 2, 3), 6381, { masters: 1, replicas: 0 }).steps.map((s) => s.kind)).toEqual(['provision', 'add-master', 'rebalance', 'check']);
  });

  it.each([
    [{ masters: 0, replicas: 1 }, 'USAGE: --masters must be an integer of at least 1, got 0.'],
    [{ masters: 1.5, replicas: 1 }, 'USAGE: --masters must be an integer of at least 1, got 1.5.'],
    [{ masters: 1, replicas: -1 }, 'USAGE: --replicas must be an integer of at least 0, got -1.'],
  ])('refuses %j', (intent, message) => {
    expect(errorOf(() => planScaleOut(recorded(1, 2, 3), 6381, intent))).toBe(message);
  });
});

describe('planScaleIn', () => {
  const rec = recorded(1, 2, 3, 4, 5, 6, 7, 8);

  it('by default removes the shard holding the most recently added nodes: replica, drain, master, containers, check', () => {
    const p = planScaleIn(fakeSnapshot(fourShards()), rec, {});
    expect(p.shards.map((sh) => [sh.master.id, sh.replicas.map((r) => r.id)])).toEqual([[id('ab1'), [id('ab2')]]]);
    expect(p.steps).toEqual<ScaleStep[]>([
      { kind: 'del-replica', id: id('ab2'), address: '127.0.0.1:6388' },
      { kind: 'drain', masters: [id('ab1')], to: undefined, toAddress: undefined },
      { kind: 'del-master', id: id('ab1'), address: '127.0.0.1:6387' },
      { kind: 'remove-nodes', indexes: [7, 8] },
      { kind: 'check' },
    ]);
  });

  it('after a failover swapped roles in the newest shard, it still removes that shard (found from its current master)', () => {
    const swapped = fourShards().map((n): FakeNode => (n.id === 'ab1' ? { ...n, role: 'replica', slots: undefined, master: 'ab2' } : n.id === 'ab2' ? { ...n, role: 'master', slots: '12288-16383', master: undefined } : n));
    const s = fakeSnapshot(swapped);
    const p = planScaleIn(s, rec, {});
    expect(p.steps[0]).toEqual({ kind: 'del-replica', id: id('ab1'), address: '127.0.0.1:6387' });
    expect(p.steps[1]).toEqual({ kind: 'drain', masters: [id('ab2')], to: undefined, toAddress: undefined });
    expect(p.steps.find((x) => x.kind === 'remove-nodes')).toEqual({ kind: 'remove-nodes', indexes: [8, 7] });
    // Naming the node that was added as master (a replica now) selects the same shard.
    expect(planScaleIn(s, rec, { nodes: ['127.0.0.1:6387'] }).steps).toEqual(p.steps);
  });

  it('--node: any member names its shard, a shard named twice is removed once', () => {
    const p = planScaleIn(fakeSnapshot(fourShards()), rec, { nodes: ['127.0.0.1:6385', id('b').slice(0, 6)] });
    expect(p.shards.map((sh) => sh.master.id)).toEqual([id('b')]);
    expect(p.steps.map((s) => s.kind)).toEqual(['del-replica', 'drain', 'del-master', 'remove-nodes', 'check']);
    expect(p.steps.find((x) => x.kind === 'remove-nodes')).toEqual({ kind: 'remove-nodes', indexes: [2, 5] });
  });

  it('--to: every drained slot goes to that master, named by id and address', () => {
    const p = planScaleIn(fakeSnapshot(fourShards()), rec, { to: '127.0.0.1:6381' });
    expect(p.steps[1]).toEqual({ kind: 'drain', masters: [id('ab1')], to: id('a'), toAddress: '127.0.0.1:6381' });
    expect(describeStep(p.steps[1]!, String)).toBe('move every slot of 1 master(s) to 127.0.0.1:6381');
  });

  it('a cluster rctl did not create: no remove-nodes step, and the shard must be named', () => {
    const s = fakeSnapshot(fourShards());
    expect(planScaleIn(s, undefined, { nodes: ['127.0.0.1:6387'] }).steps.map((x) => x.kind)).toEqual(['del-replica', 'drain', 'del-master', 'check']);
    expect(errorOf(() => planScaleIn(s, undefined, {}))).toBe('USAGE: Name the shards to remove with --node on a cluster rctl did not create.');
  });

  it('refuses to go below 3 masters, a --to that is a replica or being removed, and a bad count', () => {
    expect(errorOf(() => planScaleIn(fakeSnapshot(healthy3x1()), recorded(1, 2, 3, 4, 5, 6), {}))).toBe('REFUSED: Removing 1 master(s) would leave 2; a cluster needs at least 3.');
    expect(errorOf(() => planScaleIn(fakeSnapshot(fourShards()), rec, { masters: 2 }))).toBe('REFUSED: Removing 2 master(s) would leave 2; a cluster needs at least 3.');
    expect(errorOf(() => planScaleIn(fakeSnapshot(fourShards()), rec, { to: '127.0.0.1:6384' }))).toBe('REFUSED: --to 127.0.0.1:6384 is a replica; slots can only move to a master.');
    expect(errorOf(() => planScaleIn(fakeSnapshot(fourShards()), rec, { to: '127.0.0.1:6387' }))).toBe('USAGE: --to 127.0.0.1:6387 is one of the masters being removed.');
    expect(errorOf(() => planScaleIn(fakeSnapshot(fourShards()), rec, { masters: 0 }))).toBe('USAGE: --masters must be an integer of at least 1, got 0.');
    expect(errorOf(() => planScaleIn(fakeSnapshot(fourShards()), rec, { nodes: ['127.0.0.1:9999'] }))).toBe('UNKNOWN_NODE: --node "127.0.0.1:9999" matches no node of this cluster.');
  });

  it('refuses a replica whose master cannot be reached', () => {
    const s = fakeSnapshot(fourShards());
    const withoutMaster = { ...s, nodes: s.nodes.filter((n) => n.id !== id('ab1')) };
    expect(errorOf(() => planScaleIn(withoutMaster, rec, { nodes: ['127.0.0.1:6388'] }))).toBe('REFUSED: 127.0.0.1:6388 follows a master that cannot be reached.');
  });
});

describe('describeStep', () => {
  it('says what each step does, with the node addresses', () => {
    const addr = (i: number): string => `127.0.0.1:${6380 + i}`;
    expect(describeStep({ kind: 'provision', indexes: [7, 8] }, addr)).toBe('provision 2 node(s): 127.0.0.1:6387, 127.0.0.1:6388');
    expect(describeStep({ kind: 'add-replica', index: 8, masterIndex: 7 }, addr)).toBe('add 127.0.0.1:6388 as a replica of 127.0.0.1:6387');
    expect(describeStep({ kind: 'drain', masters: [id('a'), id('b')], to: undefined }, addr)).toBe('move every slot of 2 master(s) to the remaining masters, evenly');
    expect(describeStep({ kind: 'drain', masters: [id('a')], to: id('c') }, addr)).toBe('move every slot of 1 master(s) to c0000000');
  });
});
