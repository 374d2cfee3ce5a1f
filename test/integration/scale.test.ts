import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countLost, startLoad } from '../../src/failover/load-generator.js';
import { clusterNodes } from '../helpers/cluster.js';
import { clusterClient, countBadKeys, writeKeys } from '../helpers/load.js';
import { pollUntil } from '../helpers/poll.js';
import { dockerLeftovers, rctl, redisCliCheckSettled, tempHome } from '../helpers/rctl.js';

const home = tempHome();
const NAME = 'itest-scale';
const BASE = 7901;
const SEED = `127.0.0.1:${BASE}`;
const KEYS = 200_000;
const seeds = [{ host: '127.0.0.1', port: BASE }];

type Node = { id: string; address: string; role: string; masterId: string | null; slotCount: number };
const nodes = async (): Promise<Node[]> => (await rctl(['info', '--name', NAME, '--json'], { home })).json?.['nodes'] as Node[];
const intact = async (): Promise<number> => {
  const c = clusterClient(seeds);
  try {
    return await countBadKeys(c, KEYS);
  } finally {
    c.disconnect();
  }
};

describe('the manual scale-out / scale-in procedure as two commands, under live traffic', () => {
  beforeAll(async () => {
    const c = await rctl(['create', '--name', NAME, '--provider', 'docker', '--port-base', String(BASE)], { home });
    expect(c.code, c.stderr).toBe(0);
    const client = clusterClient(seeds);
    await writeKeys(client, KEYS);
    client.disconnect();
  });
  afterAll(async () => {
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  it('3x1 -> scale-out 1x1 -> scale-in --to the first master: checked, nothing lost, no client error', async () => {
    const load = startLoad({ seeds, prefix: 'scale', maxWrites: 3_000_000, maxMs: 150_000, concurrency: 8, readEvery: 4 });

    const dry = await rctl(['scale-out', '--name', NAME, '--dry-run', '--json'], { home });
    expect(dry.code).toBe(0);
    expect((dry.json?.['steps'] as { kind: string }[]).map((s) => s.kind)).toEqual(['provision', 'add-master', 'rebalance', 'add-replica', 'check']);
    expect((await nodes()).length).toBe(6);

    const out = await rctl(['scale-out', '--name', NAME, '--masters', '1', '--replicas', '1', '--yes', '--json'], { home });
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(out.json).toMatchObject({ applied: true, healthy: true, masters: 4 });
    expect((await redisCliCheckSettled(SEED)).ok).toBe(true);
    const after = await nodes();
    const masters = after.filter((n) => n.role === 'master');
    expect(masters).toHaveLength(4);
    for (const m of masters) {
      expect(Math.abs(m.slotCount - 4096)).toBeLessThanOrEqual(Math.ceil(4096 * 0.02));
      expect(after.filter((n) => n.masterId === m.id)).toHaveLength(1);
    }
    expect((await rctl(['check', '--name', NAME], { home })).code).toBe(0);
    expect(await dockerLeftovers(NAME)).toContain(`${NAME}-node-7`);

    const first = after.find((n) => n.address === SEED)!;
    const inn = await rctl(['scale-in', '--name', NAME, '--masters', '1', '--to', first.id, '--yes', '--json'], { home });
    expect(inn.code, inn.stdout + inn.stderr).toBe(0);
    expect(inn.json).toMatchObject({ applied: true, healthy: true, masters: 3 });
    expect((await redisCliCheckSettled(SEED)).ok).toBe(true);
    const final = await nodes();
    expect(final).toHaveLength(6);
    expect(final.filter((n) => n.role === 'master').reduce((a, m) => a + m.slotCount, 0)).toBe(16384);
    expect(final.find((n) => n.address === SEED)!.slotCount).toBe(5461 + 4096 - 1365);
    const left = await dockerLeftovers(NAME);
    expect(left).not.toContain(`${NAME}-node-7`);
    expect(left).not.toContain(`${NAME}-node-8`);
    expect((await rctl(['check', '--name', NAME], { home })).code).toBe(0);

    const report = await load.stop();
    expect(report.acknowledged).toBeGreaterThan(1000);
    expect(report.errors).toEqual({});
    expect(report.readMismatches).toBe(0);
    expect(await countLost(seeds, 'scale', report.acknowledgedIds)).toBe(0);
    expect(await intact()).toBe(0);
  });

  it('scale-in after a failover moved the master role to the replica still removes that shard', async () => {
    const out = await rctl(['scale-out', '--name', NAME, '--yes'], { home });
    expect(out.code, out.stdout + out.stderr).toBe(0);
    const before = await nodes();
    // The newest shard (node-7 master, node-8 replica: indexes freed by the scale-in are reused). Promote its replica by hand.
    const newMaster = before.find((n) => n.address === `127.0.0.1:${BASE + 6}`)!;
    const newReplica = before.find((n) => n.address === `127.0.0.1:${BASE + 7}`)!;
    expect(newReplica.masterId).toBe(newMaster.id);
    const r = new Redis({ port: BASE + 7 });
    await r.call('CLUSTER', 'FAILOVER');
    expect(await pollUntil(async () => String(await r.call('ROLE')).split(',')[0], (role) => role === 'master', { timeoutMs: 10_000 })).toBe('master');
    r.disconnect();
    // The others learn the new roles by gossip; scale-in starts from a healthy cluster.
    expect((await pollUntil(() => rctl(['check', '--name', NAME], { home }), (c) => c.code === 0, { timeoutMs: 10_000, intervalMs: 200 })).code).toBe(0);

    const inn = await rctl(['scale-in', '--name', NAME, '--yes', '--json'], { home });
    expect(inn.code, inn.stdout + inn.stderr).toBe(0);
    const final = await nodes();
    expect(final.map((n) => n.address)).not.toContain(`127.0.0.1:${BASE + 6}`);
    expect(final.map((n) => n.address)).not.toContain(`127.0.0.1:${BASE + 7}`);
    expect(final.filter((n) => n.role === 'master')).toHaveLength(3);
    for (const port of [BASE, BASE + 1, BASE + 2]) expect(await clusterNodes(port)).not.toContain(newReplica.id);
    expect((await redisCliCheckSettled(SEED)).ok).toBe(true);
    expect(await intact()).toBe(0);
  });
});
