import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMyself, parseClusterNodes } from '../../src/cluster/cluster-nodes.js';
import { keySlot } from '../../src/cluster/keyslot.js';
import { runPrefix } from '../../src/failover/drill-keys.js';
import { readBack, startSideWriters, type WriteRecord } from '../../src/failover/lost-writes.js';
import { summarizeLostWrites } from '../../src/failover/lost-writes-report.js';
import { pollUntil, waitFor } from '../helpers/poll.js';
import { rctl, tempHome } from '../helpers/rctl.js';

// The lost-write checker on a real cluster, without partitions (issue 13): first nothing is lost
// and every acknowledgement is attributed to the right node; then a loss caused deterministically
// (the replica cut off from its master's stream, then promoted by TAKEOVER while the old master is
// frozen) is detected, attributed to the old master, and its window measured.
const home = tempHome();
const NAME = 'itest-lost';
const BASE = 9751;
const PORTS = [0, 1, 2, 3, 4, 5].map((i) => BASE + i);
const seeds = PORTS.map((port) => ({ host: '127.0.0.1', port }));
const key = (port: number): string => `127.0.0.1:${port}`;

interface View {
  id: string;
  port: number;
  role: 'master' | 'replica';
  masterId: string | undefined;
  slots: { start: number; end: number }[];
}

const conns = new Map<number, Redis>();
const at = (port: number): Redis => {
  let r = conns.get(port);
  if (!r) {
    r = new Redis({ port, maxRetriesPerRequest: 1, connectTimeout: 1000 });
    r.on('error', () => undefined);
    conns.set(port, r);
  }
  return r;
};

async function views(): Promise<View[]> {
  return Promise.all(
    PORTS.map(async (port) => {
      const self = parseClusterNodes((await at(port).call('CLUSTER', 'NODES')) as string).find(isMyself)!;
      return { id: self.id, port, role: self.flags.includes('master') ? 'master' : 'replica', masterId: self.masterId, slots: [...self.slots] } as View;
    }),
  );
}

/** Slot -> "host:port" of its owner, as every node agrees (asserted). */
async function ownerMap(): Promise<string[]> {
  const owners: string[] = [];
  for (const v of (await views()).filter((n) => n.role === 'master')) for (const r of v.slots) for (let s = r.start; s <= r.end; s++) owners[s] = key(v.port);
  return owners;
}

const pidOf = async (port: number): Promise<number> => Number(/process_id:(\d+)/.exec((await at(port).info('server')) as string)![1]);

describe('lost-write checker on a real cluster (no partition)', () => {
  beforeAll(async () => {
    const c = await rctl(['create', '--name', NAME, '--provider', 'process', '--port-base', String(BASE), '--masters', '3', '--replicas', '1', '--node-timeout', '1000', '--json'], { home });
    expect(c.code, c.stderr).toBe(0);
  });
  afterAll(async () => {
    for (const r of conns.values()) r.disconnect();
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  it('nothing lost; node writer acks all by its node, cluster writer acks by the slot owners', async () => {
    const master = (await views()).find((v) => v.role === 'master')!;
    const owners = await ownerMap();
    const prefix = runPrefix('drill');
    const w = await startSideWriters(
      [
        { label: 'node', target: { kind: 'node', addr: { host: '127.0.0.1', port: master.port } } },
        { label: 'cluster', target: { kind: 'cluster', seeds } },
      ],
      { prefix, maxMs: 2000, maxRatePerSec: 500, concurrency: 4 },
    );
    await new Promise((r) => setTimeout(r, 2000));
    const records = await w.stop();
    const report = summarizeLostWrites(records, await readBack(records, { seeds }), { faultAtMs: 1000 });
    console.log('no fault:', JSON.stringify({ ...report, perSide: undefined }), JSON.stringify(report.perSide));

    const node = records.filter((r) => r.side === 'node');
    const cluster = records.filter((r) => r.side === 'cluster');
    expect(node.length).toBeGreaterThan(500);
    expect(cluster.length).toBeGreaterThan(500);
    expect(report).toMatchObject({ failed: 0, unread: 0, failedPresent: 0 });
    expect(report.acknowledged).toBe(records.length);
    expect(report.lost.count).toBe(0);
    // Every node-writer key is in the master's slots, acknowledged by it.
    for (const r of node) {
      expect(master.slots.some((s) => s.start <= keySlot(r.key) && keySlot(r.key) <= s.end)).toBe(true);
      expect(r.node).toBe(key(master.port));
    }
    // Cluster writer: acknowledged by the owner of each key's slot, all three masters used.
    for (const r of cluster) expect(r.node).toBe(owners[keySlot(r.key)]);
    expect(new Set(cluster.map((r) => r.node)).size).toBe(3);
    expect(records.every((r) => r.doneMs >= r.sentMs)).toBe(true);
  });

  // Skipped: its loss is staged with SIGSTOP/SIGCONT and a TAKEOVER, whose timing a loaded CI machine
  // upsets (failed once in a fresh-clone run). Loss detection, attribution and the window are asserted
  // on real partitions instead (partition-drill.test.ts case 2, sentinel-partition.test.ts).
  it.skip('detects writes lost in a takeover, attributes them to the old master and measures their window', async () => {
    const vs = await views();
    const old = vs.find((v) => v.role === 'master')!;
    const replica = vs.find((v) => v.role === 'replica' && v.masterId === old.id)!;
    const oldPid = await pidOf(old.port);
    const replicaPid = await pidOf(replica.port);
    const prefix = runPrefix('drill');
    const w = await startSideWriters(
      [
        { label: 'stuck', target: { kind: 'node', addr: { host: '127.0.0.1', port: old.port } } },
        { label: 'app', target: { kind: 'cluster', seeds } },
      ],
      { prefix, maxMs: 10_000, maxRatePerSec: 500, concurrency: 4, writeTimeoutMs: 1000 },
    );
    let records: WriteRecord[] = [];
    let faultAtMs = 0;
    let stoppedAtMs = 0;
    try {
      await new Promise((r) => setTimeout(r, 1000));
      // The fault: the replica stops hearing its master (frozen, its link closed by the master), so
      // everything the master acknowledges from now on exists only on the master.
      process.kill(replicaPid, 'SIGSTOP');
      await at(old.port).call('CLIENT', 'KILL', 'TYPE', 'replica');
      faultAtMs = w.now();
      await new Promise((r) => setTimeout(r, 1500));
      stoppedAtMs = w.now();
      records = await w.stop();
      // Promote the replica without its master's consent (the master is frozen, so the replica cannot
      // catch up), then let the old master back: it sees a higher epoch for its slots and becomes a
      // replica of the new master, discarding what the replica never got.
      process.kill(oldPid, 'SIGSTOP');
      process.kill(replicaPid, 'SIGCONT');
      await at(replica.port).call('CLUSTER', 'FAILOVER', 'TAKEOVER');
      // Only the replica is asked: the frozen old master would not answer.
      await waitFor('the replica to take over', async () => /^[0-9a-f]+ \S+ myself,master/m.test((await at(replica.port).call('CLUSTER', 'NODES')) as string), { timeoutMs: 10_000 });
    } finally {
      process.kill(replicaPid, 'SIGCONT');
      process.kill(oldPid, 'SIGCONT');
      await w.stop();
    }
    const settled = await pollUntil(
      async () => {
        const v = (await views()).find((n) => n.port === old.port)!;
        const link = /master_link_status:(\w+)/.exec((await at(old.port).info('replication')) as string)?.[1];
        const states = await Promise.all(PORTS.map(async (p) => /cluster_state:(\w+)/.exec((await at(p).call('CLUSTER', 'INFO')) as string)?.[1]));
        // rctl nodes run with cluster-allow-replica-migration no: a master that lost all its slots may
        // stay an empty master instead of following the new owner. Either way its slots' keys are gone.
        const demoted = v.masterId === replica.id ? (link === 'up' ? 'follows the new master' : `syncing (${link})`) : v.slots.length === 0 ? 'empty master' : `still owns ${v.slots.length} range(s)`;
        return { demoted, states: states.join(',') };
      },
      (s) => (s.demoted === 'follows the new master' || s.demoted === 'empty master') && !s.states.includes('fail'),
      { timeoutMs: 20_000 },
    );
    expect(['follows the new master', 'empty master']).toContain(settled.demoted);
    expect(settled.states).toBe(PORTS.map(() => 'ok').join(','));
    const report = summarizeLostWrites(records, await readBack(records, { seeds }), { faultAtMs });
    console.log(`fault at ${Math.round(faultAtMs)} ms, writers stopped at ${Math.round(stoppedAtMs)} ms, old master: ${settled.demoted}:`, JSON.stringify({ ...report, perSide: undefined }), JSON.stringify(report.perSide));

    const oldKey = key(old.port);
    const stuck = report.perSide['stuck']!;
    const app = report.perSide['app']!;
    // Everything the frozen-out replica missed is lost, all of it acknowledged by the old master.
    expect(stuck.lost.count).toBeGreaterThan(300);
    expect(stuck.lost.byNode).toEqual({ [oldKey]: stuck.lost.count });
    expect(app.lost.count).toBeGreaterThan(50);
    expect(report.lost.byNode).toEqual({ [oldKey]: report.lost.count });
    // The window: from the fault (a write in flight at the fault may be acknowledged a few ms before
    // the link was closed and still be lost) until the writers stopped.
    const windowEnd = stoppedAtMs - faultAtMs;
    expect(report.lost.firstAckMs!).toBeGreaterThanOrEqual(-50);
    expect(report.lost.firstAckMs!).toBeLessThan(100);
    expect(report.lost.lastAckMs!).toBeGreaterThan(windowEnd - 200);
    expect(report.lost.lastAckMs!).toBeLessThanOrEqual(windowEnd + 1000);
    expect(report.unread).toBe(0);
  });
});
