import { describe, expect, it } from 'vitest';
import { keySlot } from '../../src/cluster/keyslot.js';
import { summarizeLostWrites, type WriteRecord } from '../../src/failover/lost-writes-report.js';
import { tagsForRanges } from '../../src/failover/lost-writes.js';
import { agrees, predictLoss } from '../../src/failover/loss-prediction.js';

const rec = (side: string, id: number, doneMs: number, outcome: 'ok' | 'error', node?: string): WriteRecord => ({
  side,
  id,
  key: `p:${side}:${id}`,
  value: `v${id}`,
  sentMs: doneMs - 1,
  doneMs,
  outcome,
  ...(outcome === 'error' ? { error: 'CLUSTERDOWN' } : {}),
  ...(node ? { node } : {}),
});

describe('summarizeLostWrites', () => {
  it('counts nothing lost when every acknowledged write reads back with its value', () => {
    const rs = [rec('a', 0, 10, 'ok', 'n1'), rec('a', 1, 20, 'ok', 'n1'), rec('b', 0, 15, 'ok', 'n2')];
    const rb = new Map(rs.map((r) => [r.key, r.value]));
    const s = summarizeLostWrites(rs, rb);
    expect(s).toMatchObject({ attempted: 3, acknowledged: 3, failed: 0, failedPresent: 0, unread: 0, faultAtMs: 0 });
    expect(s.lost).toEqual({ count: 0, wrongValue: 0, firstAckMs: undefined, lastAckMs: undefined, windowMs: undefined, byNode: {} });
    expect(Object.keys(s.perSide)).toEqual(['a', 'b']);
    expect(s.perSide['a']).toMatchObject({ attempted: 2, acknowledged: 2 });
  });

  it('counts absent and wrong-valued acknowledged writes as lost, with the window relative to the fault and by node', () => {
    const rs = [
      rec('old', 0, 900, 'ok', 'm1'), // kept
      rec('old', 1, 980, 'ok', 'm1'), // lost: acknowledged 20 ms before the fault (replication lag)
      rec('old', 2, 1500, 'ok', 'm1'), // lost
      rec('old', 3, 2100, 'ok', 'm1'), // lost, wrong value
      rec('old', 4, 2200, 'error'), // failed, absent
      rec('new', 0, 1600, 'ok', 'm2'), // kept
      rec('new', 1, 1700, 'ok'), // lost, node unknown
    ];
    const rb = new Map<string, string | null>([
      ['p:old:0', 'v0'],
      ['p:old:1', null],
      ['p:old:2', null],
      ['p:old:3', 'other'],
      ['p:old:4', null],
      ['p:new:0', 'v0'],
      ['p:new:1', null],
    ]);
    const s = summarizeLostWrites(rs, rb, { faultAtMs: 1000 });
    expect(s).toMatchObject({ attempted: 7, acknowledged: 6, failed: 1, failedPresent: 0, unread: 0, faultAtMs: 1000 });
    expect(s.lost).toEqual({ count: 4, wrongValue: 1, firstAckMs: -20, lastAckMs: 1100, windowMs: 1120, byNode: { m1: 3, unknown: 1 } });
    expect(s.perSide['old']!.lost).toMatchObject({ count: 3, firstAckMs: -20, lastAckMs: 1100, byNode: { m1: 3 } });
    expect(s.perSide['new']!.lost).toMatchObject({ count: 1, firstAckMs: 700, lastAckMs: 700, windowMs: 0, byNode: { unknown: 1 } });
  });

  it('counts failed writes that landed anyway, but not a failed key holding another value', () => {
    const rs = [rec('a', 0, 10, 'error'), rec('a', 1, 20, 'error'), rec('a', 2, 30, 'error')];
    const rb = new Map<string, string | null>([
      ['p:a:0', 'v0'],
      ['p:a:1', 'x'],
      ['p:a:2', null],
    ]);
    const s = summarizeLostWrites(rs, rb);
    expect(s).toMatchObject({ attempted: 3, acknowledged: 0, failed: 3, failedPresent: 1, unread: 0 });
    expect(s.lost.count).toBe(0);
  });

  it('keeps keys the read-back could not answer out of lost and present (unread)', () => {
    const rs = [rec('a', 0, 10, 'ok', 'n'), rec('a', 1, 20, 'error')];
    const s = summarizeLostWrites(rs, new Map());
    expect(s).toMatchObject({ attempted: 2, acknowledged: 1, failed: 1, unread: 2, failedPresent: 0 });
    expect(s.lost.count).toBe(0);
  });

  it('handles no records at all', () => {
    const s = summarizeLostWrites([], new Map());
    expect(s).toMatchObject({ attempted: 0, acknowledged: 0, failed: 0, unread: 0, perSide: {} });
  });
});

describe('tagsForRanges', () => {
  it('finds one tag per range, each hashing into its range, including one-slot ranges', () => {
    const ranges = [
      { start: 0, end: 5460 },
      { start: 7000, end: 7000 },
      { start: 16383, end: 16383 },
    ];
    const tags = tagsForRanges(ranges);
    expect(tags).toHaveLength(3);
    tags.forEach((t, i) => {
      const slot = keySlot(`anything:${i}{${t}}`);
      expect(slot).toBeGreaterThanOrEqual(ranges[i]!.start);
      expect(slot).toBeLessThanOrEqual(ranges[i]!.end);
    });
  });

  it('caps the tags and spreads them over many ranges', () => {
    const ranges = Array.from({ length: 200 }, (_, i) => ({ start: i * 80, end: i * 80 + 39 }));
    const tags = tagsForRanges(ranges, 10);
    expect(tags).toHaveLength(10);
    for (const t of tags) expect(ranges.some((r) => r.start <= keySlot(`{${t}}`) && keySlot(`{${t}}`) <= r.end)).toBe(true);
  });
});

describe('predictLoss', () => {
  it('master cut for less than node-timeout: no failover, no loss', () => {
    const p = predictLoss({ kind: 'cluster-bus-partition', durationMs: 500, nodeTimeoutMs: 2000 });
    expect(p).toMatchObject({ failover: false, lossExpected: false, borderline: false });
    expect(p.windowMs).toBeUndefined();
    expect(p.text).toContain('cluster-node-timeout');
  });

  it('master cut for node-timeout + a few seconds: failover, loss over ≈ node-timeout', () => {
    const p = predictLoss({ kind: 'cluster-bus-partition', durationMs: 6000, nodeTimeoutMs: 2000 });
    expect(p).toMatchObject({ failover: true, lossExpected: true, windowMs: 2000, borderline: false });
    expect(p.text).toContain('stops accepting writes');
  });

  it('min-replicas-to-write shrinks the window to ≈ max-lag (+ the ACK period) when that is below node-timeout', () => {
    const p = predictLoss({ kind: 'cluster-bus-partition', durationMs: 15_000, nodeTimeoutMs: 5000, minReplicasToWrite: 1, minReplicasMaxLagS: 1 });
    expect(p).toMatchObject({ failover: true, lossExpected: true, windowMs: 2000 });
    // A max-lag above node-timeout changes nothing: the cluster fences first.
    expect(predictLoss({ kind: 'cluster-bus-partition', durationMs: 15_000, nodeTimeoutMs: 2000, minReplicasToWrite: 1 }).windowMs).toBe(2000);
  });

  it('bus-only cut with replication intact: failover but no loss predicted', () => {
    const p = predictLoss({ kind: 'cluster-bus-partition', durationMs: 6000, nodeTimeoutMs: 2000, replicationCut: false });
    expect(p).toMatchObject({ failover: true, lossExpected: false });
  });

  it('flags durations near the threshold as borderline', () => {
    expect(predictLoss({ kind: 'cluster-bus-partition', durationMs: 2200, nodeTimeoutMs: 2000 }).borderline).toBe(true);
    expect(predictLoss({ kind: 'cluster-bus-partition', durationMs: 1800, nodeTimeoutMs: 2000 }).borderline).toBe(true);
  });

  it('replica isolated: no failover, no loss', () => {
    expect(predictLoss({ kind: 'replica-isolated', durationMs: 60_000, nodeTimeoutMs: 1000 })).toMatchObject({ failover: false, lossExpected: false });
  });

  it('sentinel: the old master loses the whole partition, or ≈ max-lag with min-replicas-to-write', () => {
    expect(predictLoss({ kind: 'sentinel-partition', durationMs: 10_000, nodeTimeoutMs: 0, downAfterMs: 2000 })).toMatchObject({ failover: true, lossExpected: true, windowMs: 10_000 });
    expect(predictLoss({ kind: 'sentinel-partition', durationMs: 10_000, nodeTimeoutMs: 0, downAfterMs: 2000, minReplicasToWrite: 1, minReplicasMaxLagS: 2 }).windowMs).toBe(3000);
    expect(predictLoss({ kind: 'sentinel-partition', durationMs: 1000, nodeTimeoutMs: 0, downAfterMs: 5000 })).toMatchObject({ failover: false, lossExpected: false });
  });
});

describe('agrees', () => {
  const loss = predictLoss({ kind: 'cluster-bus-partition', durationMs: 6000, nodeTimeoutMs: 2000 });
  const none = predictLoss({ kind: 'cluster-bus-partition', durationMs: 500, nodeTimeoutMs: 2000 });

  it('no loss predicted: agrees only with exactly 0 lost', () => {
    expect(agrees(none, { failover: false, lost: { count: 0, lastAckMs: undefined } }).agrees).toBe(true);
    const bad = agrees(none, { failover: false, lost: { count: 1, lastAckMs: 10 } });
    expect(bad.agrees).toBe(false);
    expect(bad.reasons.join('\n')).toContain('lost 1, predicted 0: disagrees');
  });

  it('a failover that contradicts a clear prediction disagrees', () => {
    expect(agrees(none, { failover: true, lost: { count: 0, lastAckMs: undefined } }).agrees).toBe(false);
  });

  it('loss predicted: the window must be within max(1 s, 50 %) of node-timeout', () => {
    expect(agrees(loss, { failover: true, lost: { count: 900, lastAckMs: 2400 } }).agrees).toBe(true);
    expect(agrees(loss, { failover: true, lost: { count: 900, lastAckMs: 2999 } }).agrees).toBe(true);
    expect(agrees(loss, { failover: true, lost: { count: 900, lastAckMs: 3100 } }).agrees).toBe(false);
    expect(agrees(loss, { failover: true, lost: { count: 5, lastAckMs: 200 } }).agrees).toBe(false);
  });

  it('loss predicted but the failover did not happen: nothing may be lost', () => {
    expect(agrees(loss, { failover: false, lost: { count: 0, lastAckMs: undefined } }).agrees).toBe(false);
    const borderline = predictLoss({ kind: 'cluster-bus-partition', durationMs: 2500, nodeTimeoutMs: 2000 });
    expect(agrees(borderline, { failover: false, lost: { count: 0, lastAckMs: undefined } }).agrees).toBe(true);
    expect(agrees(borderline, { failover: false, lost: { count: 3, lastAckMs: 1000 } }).agrees).toBe(false);
  });

  it('loss predicted but none measured is reported, not a disagreement', () => {
    const a = agrees(loss, { failover: true, lost: { count: 0, lastAckMs: undefined } });
    expect(a.agrees).toBe(true);
    expect(a.reasons.join('\n')).toContain('no write was acknowledged in the window');
  });
});

describe('min-replicas-to-write: the loss window is an upper bound', () => {
  it('a master fenced well before max-lag + 1 s agrees; one exposed far longer does not', () => {
    const p = predictLoss({ kind: 'cluster-bus-partition', durationMs: 7000, nodeTimeoutMs: 2000, minReplicasToWrite: 1, minReplicasMaxLagS: 1 });
    expect(p.windowIsBound).toBe(true);
    expect(p.windowMs).toBe(2000);
    expect(agrees(p, { failover: true, lost: { count: 66, lastAckMs: 208 } }).agrees).toBe(true);
    expect(agrees(p, { failover: true, lost: { count: 900, lastAckMs: 4500 } }).agrees).toBe(false);
    // Without the setting, the window is an estimate of node-timeout either way.
    const q = predictLoss({ kind: 'cluster-bus-partition', durationMs: 7000, nodeTimeoutMs: 2000 });
    expect(q.windowIsBound).toBeUndefined();
  });
});
