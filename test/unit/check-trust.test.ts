import { describe, expect, it } from 'vitest';
import { checkCluster } from '../../src/cluster/check.js';
import { breakGraceMs } from '../../src/cluster/lease.js';
import { settleBoundMs } from '../../src/cluster/ready.js';
import { mastersEmptiedBy } from '../../src/reshard/emptied.js';
import type { Plan } from '../../src/reshard/plan.js';
import { fakeSnapshot, healthy3x1 } from './fixtures/snapshot.js';

const id40 = (id: string): string => id.padEnd(40, '0');
const problems = (r: ReturnType<typeof checkCluster>): string[] => r.findings.filter((f) => f.severity === 'problem').map((f) => f.code);

// Issue #10: what check missed after two concurrent reshards.
describe('check: findings for lost or diverging data', () => {
  it('flags a replica in sync that holds keys its master lacks, naming the recovery', () => {
    const nodes = healthy3x1();
    nodes[0]!.keys = 90;
    nodes[0]!.offset = 5000;
    nodes[3]!.keys = 100;
    nodes[3]!.offset = 5000;
    const r = checkCluster(fakeSnapshot(nodes));
    const f = r.findings.find((x) => x.code === 'REPLICA_DIVERGED');
    expect(f?.severity).toBe('problem');
    expect(f?.message).toBe('Replica 127.0.0.1:6384 (d0000000) holds 100 key(s) and its master 127.0.0.1:6381 (a0000000) 90, at the same replication offset: 10 key(s) readable on the replica are missing on the master.');
    expect(f?.fix).toMatch(/rctl failover d0000000/);
  });

  it('does not compare a replica that is behind (different offset): async replication, not divergence', () => {
    const nodes = healthy3x1();
    nodes[0]!.keys = 90;
    nodes[0]!.offset = 5100;
    nodes[3]!.keys = 100;
    nodes[3]!.offset = 5000;
    expect(problems(checkCluster(fakeSnapshot(nodes)))).toEqual([]);
  });

  it('flags two masters claiming one slot in their own lines', () => {
    const nodes = healthy3x1();
    nodes[1]!.slots = '5000-10922';
    const r = checkCluster(fakeSnapshot(nodes));
    const f = r.findings.find((x) => x.code === 'SLOT_CLAIMED_TWICE');
    expect(f?.slots).toEqual([{ start: 5000, end: 5460 }]);
    expect(f?.nodes).toEqual(['127.0.0.1:6381', '127.0.0.1:6382']);
  });

  it('flags fewer keys after an operation than before as loss unless TTLs explain it', () => {
    const nodes = healthy3x1().map((n) => (n.role === 'master' ? { ...n, keys: 100 } : n));
    const lost = checkCluster(fakeSnapshot(nodes), { keysBefore: { keys: 310, expires: 5 } });
    expect(lost.findings.find((f) => f.code === 'KEYS_DROPPED')).toMatchObject({ severity: 'problem' });
    expect(lost.healthy).toBe(false);
    const expired = checkCluster(fakeSnapshot(nodes), { keysBefore: { keys: 310, expires: 50 } });
    expect(expired.findings.find((f) => f.code === 'KEYS_DROPPED')).toMatchObject({ severity: 'warning' });
    expect(expired.healthy).toBe(true);
    // rctl's own lease key is left out of the count.
    const own = checkCluster(fakeSnapshot(nodes), { keysBefore: { keys: 299, expires: 0 }, ownKeys: 1 });
    expect(own.findings.find((f) => f.code === 'KEYS_DROPPED')).toBeUndefined();
    const ownLost = checkCluster(fakeSnapshot(nodes), { keysBefore: { keys: 300, expires: 0 }, ownKeys: 1 });
    expect(ownLost.findings.find((f) => f.code === 'KEYS_DROPPED')?.message).toMatch(/^The masters hold 299 key\(s\), 1 fewer than the 300 before/);
  });

  it('no KEYS_DROPPED when the count grew (clients wrote meanwhile)', () => {
    const nodes = healthy3x1().map((n) => (n.role === 'master' ? { ...n, keys: 100 } : n));
    expect(checkCluster(fakeSnapshot(nodes), { keysBefore: { keys: 250, expires: 0 } }).findings).toEqual([]);
  });
});

describe('mastersEmptiedBy', () => {
  const s = fakeSnapshot(healthy3x1());
  const plan = (moves: { from: string; to: string; slots: number[] }[]): Plan => ({ kind: 'reshard', fingerprint: s.fingerprint, nodes: {}, waves: [moves], intent: {}, notes: [] });
  it('names a master that gives away every slot it owns', () => {
    const all = Array.from({ length: 5461 }, (_, i) => i);
    expect(mastersEmptiedBy(plan([{ from: id40('a'), to: id40('b'), slots: all }]), s)).toEqual([id40('a')]);
  });
  it('does not name a master that keeps a slot, or one that also receives', () => {
    const most = Array.from({ length: 5460 }, (_, i) => i);
    expect(mastersEmptiedBy(plan([{ from: id40('a'), to: id40('b'), slots: most }]), s)).toEqual([]);
  });
});

describe('settleBoundMs', () => {
  it('grows with node-timeout and cluster size, within limits', () => {
    expect(settleBoundMs(1000, 6)).toBe(5600);
    expect(settleBoundMs(5000, 6)).toBe(10_600);
    expect(settleBoundMs(15_000, 200)).toBe(50_000);
    expect(settleBoundMs(120_000, 1000)).toBe(120_000);
  });
});

describe('breakGraceMs', () => {
  const held = { v: 1 as const, token: 't', op: 'reshard', user: 'u', host: 'here', pid: 42, since: '', raw: '', expiresInMs: 5000, ttlMs: 21_000 };
  it('waits a third of the TTL plus 2 s for a holder that may still run', () => {
    expect(breakGraceMs(held, () => true, 'here')).toBe(9000);
    expect(breakGraceMs({ ...held, host: 'elsewhere' }, () => false, 'here')).toBe(9000);
  });
  it('does not wait for a dead process on this host', () => {
    expect(breakGraceMs(held, () => false, 'here')).toBe(0);
  });
});
