import { describe, expect, it } from 'vitest';
import { parseClusterNodes, type LineCache } from '../../src/cluster/cluster-nodes.js';
import { checkCluster } from '../../src/cluster/check.js';
import { infoField, slotSignature } from '../../src/cluster/snapshot.js';
import { fakeSnapshot, healthy3x1, viewFrom } from './fixtures/snapshot.js';

const A = 'e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca';
const B = '67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1';
const C = '292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f';
/** The same three nodes as two of them print them: different timestamps, myself flags, link states. */
const VIEW_A = [
  `${A} 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460 [5461->-${B}]`,
  `${B} 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922`,
  `${C} 127.0.0.1:30003@31003 master,fail? - 1426238316000 1426238316232 3 disconnected 10923-16383`,
].join('\n');
const VIEW_B = [
  `${A} 127.0.0.1:30001@31001 master - 0 1426238399999 1 connected 0-5460`,
  `${B} 127.0.0.1:30002@31002 myself,master - 0 0 2 connected 5461-10922 [5461-<-${A}]`,
  `${C} 127.0.0.1:30003@31003 master - 0 1426238316232 3 connected 10923-16383`,
].join('\n');

describe('parseClusterNodes with a shared line cache', () => {
  it('gives exactly what parsing without a cache gives, view by view', () => {
    const cache: LineCache = new Map();
    expect(parseClusterNodes(VIEW_A, cache)).toEqual(parseClusterNodes(VIEW_A));
    expect(parseClusterNodes(VIEW_B, cache)).toEqual(parseClusterNodes(VIEW_B));
    // Parsed again with a warm cache: still each view's own timestamps and flags.
    const again = parseClusterNodes(VIEW_A, cache);
    expect(again).toEqual(parseClusterNodes(VIEW_A));
    expect(again[1]).toMatchObject({ id: B, pingSent: 0, pongRecv: 1426238316232 });
    expect(parseClusterNodes(VIEW_B, cache)[0]).toMatchObject({ id: A, pongRecv: 1426238399999, flags: ['master'] });
  });

  it('shares the parsed slot lists between views of the same node', () => {
    const cache: LineCache = new Map();
    const a = parseClusterNodes(VIEW_A, cache);
    const b = parseClusterNodes(VIEW_B, cache);
    const c = parseClusterNodes(VIEW_A.replace(`${B} 127.0.0.1:30002@31002 master - 0 1426238316232`, `${B} 127.0.0.1:30002@31002 master - 0 1426238317000`), cache);
    expect(c[1]!.slots).toBe(a[1]!.slots);
    expect(c[1]!.pongRecv).toBe(1426238317000);
    expect(b[2]!.slots).not.toBe(a[2]!.slots); // C's line differs (fail?, disconnected): parsed on its own
    expect(b[2]!.slots).toEqual(a[2]!.slots);
  });

  it('still rejects garbage', () => {
    expect(() => parseClusterNodes('a 127.0.0.1:1@2 master - 0 0 1 connected 16384', new Map())).toThrow(/slot/);
    expect(() => parseClusterNodes('a 127.0.0.1:1@2 master - 0 0 1 connected 5-3', new Map())).toThrow(/slot/);
    expect(() => parseClusterNodes('a 127.0.0.1:1@2 master - 0 0 1 connected x', new Map())).toThrow(/slot/);
  });
});

describe('infoField', () => {
  const info = '# Replication\r\nrole:slave\r\nmaster_link_status:up\r\nslave_repl_offset:42\r\nmaster_repl_offset:43\r\n# Memory\r\nused_memory:1000\r\nused_memory_human:1000B\r\n# Keyspace\r\ndb0:keys=5,expires=1,avg_ttl=0\r\n';
  it('reads one field, exactly that key', () => {
    expect(infoField(info, 'role')).toBe('slave');
    expect(infoField(info, 'master_link_status')).toBe('up');
    expect(infoField(info, 'slave_repl_offset')).toBe('42');
    expect(infoField(info, 'master_repl_offset')).toBe('43');
    expect(infoField(info, 'used_memory')).toBe('1000');
    expect(infoField(info, 'db0')).toBe('keys=5,expires=1,avg_ttl=0');
    expect(infoField(info, 'db1')).toBeUndefined();
    expect(infoField('cluster_state:ok\r\ncluster_known_nodes:6', 'cluster_state')).toBe('ok');
    expect(infoField('cluster_state:ok\r\ncluster_known_nodes:6', 'cluster_known_nodes')).toBe('6');
  });
});

describe('check: slot agreement on many views', () => {
  it('groups views by slot ownership exactly as their signatures do', () => {
    const all = healthy3x1();
    // Node c's view says b owns 5461-5470 less: a disagreement, in one view only.
    const s = fakeSnapshot(all, (n, view) => (n.id === 'c' ? viewFrom(n, all.map((x) => (x.id === 'b' ? { ...x, slots: '5471-10922' } : x))) : view));
    const f = checkCluster(s).findings.find((x) => x.code === 'CONFIG_DISAGREEMENT');
    expect(f?.message).toContain('2 different views');
    const sigs = new Set(s.nodes.map((n) => slotSignature(n.view)));
    expect(sigs.size).toBe(2);
    const healthy = fakeSnapshot(all);
    expect(checkCluster(healthy).findings.filter((x) => x.code === 'CONFIG_DISAGREEMENT')).toEqual([]);
  });
});
