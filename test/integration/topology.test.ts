import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterNodes, startBareNode } from '../helpers/cluster.js';
import { pollUntil } from '../helpers/poll.js';
import { dockerLeftovers, rctl, redisCliCheckSettled, tempHome } from '../helpers/rctl.js';

const home = tempHome();
const NAME = 'itest-topo';
const BASE = 7931;
const SEED = `127.0.0.1:${BASE}`;

type Node = { id: string; address: string; role: string; masterId: string | null; slotCount: number };
const nodes = async (): Promise<Node[]> => (await rctl(['info', '--name', NAME, '--json'], { home })).json?.['nodes'] as Node[];
const byAddr = async (port: number): Promise<Node> => (await nodes()).find((n) => n.address === `127.0.0.1:${port}`)!;

describe('add-node, replica attach, del-node', () => {
  beforeAll(async () => {
    // 3 masters, one replica only on the first: the others have fewer replicas.
    const c = await rctl(['create', '--name', NAME, '--provider', 'docker', '--replicas', '0', '--port-base', String(BASE)], { home });
    expect(c.code, c.stderr).toBe(0);
    const r = await rctl(['add-node', '--name', NAME, '--replica-of', SEED, '--yes', '--json'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toMatchObject({ role: 'replica', address: `127.0.0.1:${BASE + 3}` });
  });
  afterAll(async () => {
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  it('add-node --replica-of auto picks a master with the fewest replicas, and its link comes up', async () => {
    const r = await rctl(['add-node', '--name', NAME, '--replica-of', 'auto', '--yes', '--json'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const added = await byAddr(BASE + 4);
    expect(added.role).toBe('replica');
    const first = await byAddr(BASE);
    expect(added.masterId).not.toBe(first.id);
    expect((await rctl(['check', '--seed', SEED], { home })).code).toBe(0);
  });

  it('replica attach moves a replica to another master', async () => {
    const rep = await byAddr(BASE + 4);
    const third = await byAddr(BASE + 2);
    const target = rep.masterId === third.id ? await byAddr(BASE + 1) : third;
    const r = await rctl(['replica', 'attach', rep.address, '--master', target.id, '--name', NAME, '--json'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toMatchObject({ changed: true, masterId: target.id });
    expect((await byAddr(BASE + 4)).masterId).toBe(target.id);
    expect((await rctl(['check', '--seed', SEED], { home })).code).toBe(0);
  });

  it('del-node of a replica leaves no trace in anyone\'s CLUSTER NODES and deletes its container', async () => {
    const rep = await byAddr(BASE + 4);
    const r = await rctl(['del-node', rep.id.slice(0, 10), '--name', NAME, '--yes'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const port of [BASE, BASE + 1, BASE + 2, BASE + 3]) expect(await clusterNodes(port)).not.toContain(rep.id);
    expect(await dockerLeftovers(NAME)).not.toContain(`${NAME}-node-5`);
    expect((await redisCliCheckSettled(SEED)).ok).toBe(true);
  });

  it('add-node --addr adds a node rctl did not start; del-node of it as an empty master', async () => {
    const bare = await startBareNode(BASE + 20);
    try {
      const r = await rctl(['add-node', '--name', NAME, '--addr', `127.0.0.1:${BASE + 20}`, '--json'], { home });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.json).toMatchObject({ role: 'master' });
      const d = await rctl(['del-node', `127.0.0.1:${BASE + 20}`, '--name', NAME, '--yes'], { home });
      expect(d.code, d.stdout + d.stderr).toBe(0);
      for (const port of [BASE, BASE + 1, BASE + 2]) expect(await clusterNodes(port)).not.toContain(bare.id);
    } finally {
      await bare.stop();
    }
  });

  it('del-node removes a node that is down, by id', async () => {
    const bare = await startBareNode(BASE + 21);
    const add = await rctl(['add-node', '--name', NAME, '--addr', `127.0.0.1:${BASE + 21}`], { home });
    expect(add.code, add.stderr).toBe(0);
    // Down for good: the process is gone and its port refuses connections.
    await bare.stop();
    const d = await rctl(['del-node', bare.id, '--name', NAME, '--yes'], { home });
    expect(d.code, d.stdout + d.stderr).toBe(0);
    for (const port of [BASE, BASE + 1, BASE + 2, BASE + 3]) expect(await clusterNodes(port)).not.toContain(bare.id);
    // The others drop it from their views by gossip (FORGET everywhere); check passes once they did.
    expect((await pollUntil(() => rctl(['check', '--seed', SEED], { home }), (r) => r.code === 0, { timeoutMs: 6_000, intervalMs: 200 })).code).toBe(0);
  });

  describe('bad input: clear errors, nothing changed', () => {
    let fingerprint = '';
    beforeAll(async () => {
      fingerprint = String((await rctl(['info', '--name', NAME, '--json'], { home })).json?.['fingerprint']);
    });
    afterAll(async () => {
      expect(String((await rctl(['info', '--name', NAME, '--json'], { home })).json?.['fingerprint'])).toBe(fingerprint);
    });

    it('del-node of a master with slots names scale-in and reshard', async () => {
      const r = await rctl(['del-node', SEED, '--name', NAME, '--yes'], { home });
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/is a master owning 5461 slots/);
      expect(r.stderr).toMatch(/rctl scale-in --node/);
    });
    it('del-node of an unknown node', async () => {
      const r = await rctl(['del-node', 'ffffffffff', '--name', NAME, '--yes'], { home });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/matches no node of this cluster/);
    });
    it('attach to a replica, and to itself', async () => {
      const rep = await byAddr(BASE + 3);
      const r1 = await rctl(['replica', 'attach', `127.0.0.1:${BASE + 1}`, '--master', rep.id, '--name', NAME], { home });
      expect(r1.code).toBe(6);
      expect(r1.stderr).toMatch(/is a replica; replicas follow masters/);
      const r2 = await rctl(['replica', 'attach', rep.address, '--master', rep.address, '--name', NAME], { home });
      expect(r2.code).toBe(2);
      expect(r2.stderr).toMatch(/cannot replicate itself/);
      const r3 = await rctl(['replica', 'attach', `127.0.0.1:${BASE + 1}`, '--master', SEED, '--name', NAME], { home });
      expect(r3.code).toBe(6);
      expect(r3.stderr).toMatch(/is a master owning \d+ slots; it cannot become a replica/);
    });
    it('scale-in below 3 masters', async () => {
      const r = await rctl(['scale-in', '--name', NAME, '--yes'], { home });
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/would leave 2; a cluster needs at least 3/);
    });
    it('scale-out of a cluster rctl did not create', async () => {
      const r = await rctl(['scale-out', '--seed', SEED, '--yes'], { home });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/rctl can only do for clusters it created/);
      expect(r.stderr).toMatch(/add-node --addr/);
    });
    it('add-node of a node that holds data, and of a node in another cluster', async () => {
      const bare = await startBareNode(BASE + 22, ['--enable-debug-command', 'yes']);
      try {
        const r = new Redis({ port: BASE + 22 });
        r.on('error', () => undefined);
        await r.call('CLUSTER', 'ADDSLOTS', '0');
        const busy = await rctl(['add-node', '--name', NAME, '--addr', `127.0.0.1:${BASE + 22}`], { home });
        expect(busy.code).toBe(6);
        expect(busy.stderr).toMatch(/already belongs to a cluster/);
        await r.call('CLUSTER', 'DELSLOTS', '0');
        // A lone node without slots refuses writes; DEBUG POPULATE stores a key anyway.
        await r.call('DEBUG', 'POPULATE', '1');
        r.disconnect();
        const full = await rctl(['add-node', '--name', NAME, '--addr', `127.0.0.1:${BASE + 22}`], { home });
        expect(full.code).toBe(6);
        expect(full.stderr).toMatch(/already holds 1 key/);
      } finally {
        await bare.stop();
      }
    });
  });
});
