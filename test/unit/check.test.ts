import { describe, expect, it } from 'vitest';
import { checkCluster } from '../../src/cluster/check.js';
import { fakeSnapshot, healthy3x1 } from './fixtures/snapshot.js';

const codes = (r: ReturnType<typeof checkCluster>): string[] => r.findings.filter((f) => f.severity === 'problem').map((f) => f.code);

describe('checkCluster', () => {
  it('passes a healthy 3x1 cluster, every checklist item OK', () => {
    const r = checkCluster(fakeSnapshot(healthy3x1()), { replicasPerMaster: 1 }, new Map());
    expect(r.healthy).toBe(true);
    expect(r.findings).toEqual([]);
    expect(r.checklist.every((c) => c.ok)).toBe(true);
  });

  it('flags an open slot on the node that has it, with the slot and the fix', () => {
    const nodes = healthy3x1();
    nodes[0]!.open = `[42->-${'b'.padEnd(40, '0')}]`;
    const r = checkCluster(fakeSnapshot(nodes));
    expect(r.healthy).toBe(false);
    const f = r.findings.find((x) => x.code === 'OPEN_SLOT');
    expect(f).toMatchObject({ nodes: ['127.0.0.1:6381'], slots: [{ start: 42, end: 42 }] });
    expect(f?.message).toContain('migrating');
    expect(f?.fix).toContain('rctl fix');
  });

  it('flags uncovered slots as ranges', () => {
    const nodes = healthy3x1();
    nodes[2]!.slots = '10923-16000';
    const r = checkCluster(fakeSnapshot(nodes));
    const f = r.findings.find((x) => x.code === 'SLOTS_UNCOVERED');
    expect(f?.slots).toEqual([{ start: 16001, end: 16383 }]);
    expect(f?.message).toContain('383 slot(s)');
  });

  it('flags disagreement about slot ownership', () => {
    const r = checkCluster(
      fakeSnapshot(healthy3x1(), (n, view) => (n.id === 'f' ? view.map((l) => (l.id.startsWith('c') ? { ...l, slots: [{ start: 10923, end: 16000 }] } : l)) : view)),
    );
    expect(codes(r)).toContain('CONFIG_DISAGREEMENT');
  });

  it('flags a node some peers do not know, and role disagreement', () => {
    const r = checkCluster(
      fakeSnapshot(healthy3x1(), (n, view) => {
        if (n.id === 'a') return view.filter((l) => !l.id.startsWith('e'));
        if (n.id === 'b') return view.map((l) => (l.id.startsWith('d') ? { ...l, flags: ['master'], masterId: undefined } : l));
        return view;
      }),
    );
    expect(codes(r)).toEqual(expect.arrayContaining(['MEMBERSHIP_DISAGREEMENT', 'ROLE_DISAGREEMENT']));
  });

  it('flags failing nodes, cluster_state not ok and replica links down', () => {
    const nodes = healthy3x1();
    nodes[1]!.seenAs = 'fail?';
    nodes[1]!.state = 'fail';
    nodes[4]!.link = 'down';
    const r = checkCluster(fakeSnapshot(nodes));
    expect(codes(r)).toEqual(expect.arrayContaining(['NODE_FAILING', 'STATE_NOT_OK', 'REPLICA_LINK_DOWN']));
    expect(r.findings.find((f) => f.code === 'REPLICA_LINK_DOWN')?.message).toContain('cannot be promoted');
  });

  it('flags missing replicas against the expectation, and only warns without one', () => {
    const nodes = healthy3x1().slice(0, 5);
    expect(codes(checkCluster(fakeSnapshot(nodes), { replicasPerMaster: 1 }))).toContain('MISSING_REPLICAS');
    const loose = checkCluster(fakeSnapshot(nodes));
    expect(loose.healthy).toBe(true);
    expect(loose.findings.map((f) => f.code)).toEqual(['NO_REPLICAS']);
  });

  it('flags unreachable nodes', () => {
    const s = fakeSnapshot(healthy3x1());
    const r = checkCluster({ ...s, unreachable: [{ addr: { host: '127.0.0.1', port: 6390 }, id: 'z'.repeat(40), error: 'connection refused' }] });
    expect(codes(r)).toContain('NODE_UNREACHABLE');
  });

  it('flags keys held in slots a node does not own', () => {
    const r = checkCluster(fakeSnapshot(healthy3x1()), {}, new Map([['127.0.0.1:6383', [{ slot: 7, keys: 3 }]]]));
    const f = r.findings.find((x) => x.code === 'MULTIPLE_OWNERS');
    expect(f?.message).toContain('3 key(s) in 1 slot(s)');
  });

  it('fingerprint changes with topology and not with key counts', () => {
    const a = fakeSnapshot(healthy3x1());
    const more = healthy3x1().map((n) => ({ ...n, keys: 99 }));
    expect(fakeSnapshot(more).fingerprint).toBe(a.fingerprint);
    const moved = healthy3x1();
    moved[0]!.slots = '0-5459';
    moved[1]!.slots = '5460-10922';
    expect(fakeSnapshot(moved).fingerprint).not.toBe(a.fingerprint);
  });
});
