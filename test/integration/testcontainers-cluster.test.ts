import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
// Imported the way a user imports it: the package's own exports map (dist/ must be built).
import { LABEL_SESSION, RedisClusterContainer, SESSION_ID, type StartedRedisClusterContainer } from 'rctl/testcontainers';

process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const KEYS = 1000;

describe('RedisClusterContainer (3x1, host networking)', () => {
  let cluster: StartedRedisClusterContainer | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('starts healthy, survives a drill and a killed master, and stop() leaves nothing', async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicas(1).withNodeTimeout(2000).start();
    expect(cluster.getSeeds()).toHaveLength(6);
    expect(cluster.getNodes().filter((n) => n.role === 'master')).toHaveLength(3);
    for (const s of cluster.getSeeds()) {
      const port = Number(s.split(':')[1]);
      // The module's default range, clear of the ports the project's own tests use.
      expect(port).toBeGreaterThanOrEqual(13000);
      expect(port).toBeLessThanOrEqual(15999);
    }

    const redis = cluster.createClient();
    const idx = Array.from({ length: KEYS }, (_, i) => i);
    // A cluster pipeline must stay in one slot: plain concurrent commands, which ioredis batches per node.
    expect(new Set(await Promise.all(idx.map((i) => redis.set(`k:${i}`, String(i)))))).toEqual(new Set(['OK']));
    expect((await cluster.check()).healthy).toBe(true);

    const drill = await cluster.drillFailover({ mode: 'kill', load: true });
    expect(drill.load?.lost).toBe(0);
    expect(drill.load?.acknowledged).toBeGreaterThan(0);
    expect(drill.snapshot.nodes.find((n) => n.id === drill.master.id)?.self.masterId).toBe(drill.newMaster);
    expect(drill.check.healthy).toBe(true);
    expect((await cluster.check()).healthy).toBe(true);

    const killed = await cluster.kill({ role: 'master' });
    expect(killed.role).toBe('master');
    await killed.recover();
    // The killed master's replica takes over; the old master rejoins as a replica. Wait for health.
    const deadline = Date.now() + 60_000;
    let healthy = false;
    while (!healthy && Date.now() < deadline) {
      healthy = (await cluster.check().catch(() => ({ healthy: false }))).healthy;
      if (!healthy) await new Promise((r) => setTimeout(r, 250));
    }
    expect(healthy).toBe(true);
    const values = await Promise.all(idx.map((i) => redis.get(`k:${i}`)));
    expect(values.filter((v, i) => v !== String(i))).toEqual([]);

    const name = cluster.getName();
    await cluster.stop();
    await cluster.stop(); // idempotent
    expect(docker('ps', '-aq', '--filter', `label=io.rctl.cluster=${name}`)).toBe('');
    expect(docker('ps', '-aq', '--filter', `label=${LABEL_SESSION}=${SESSION_ID}`)).toBe('');
    expect(docker('volume', 'ls', '-q', '--filter', `label=io.rctl.cluster=${name}`)).toBe('');
  });

  it('bridge networking: clients reach every node through natMap, also after a restart', async () => {
    const c = await new RedisClusterContainer().withReplicas(0).withNetworkMode('bridge').start();
    try {
      expect(c.getNodes()[0]!.address).not.toBe(c.getNodes()[0]!.externalAddress);
      const redis = c.createClient();
      const idx = Array.from({ length: 300 }, (_, i) => i);
      await Promise.all(idx.map((i) => redis.set(`b:${i}`, String(i))));
      // A restarted container keeps its published port (reserved, not picked by Docker).
      await c.restart({ role: 'master', index: 0 });
      const deadline = Date.now() + 60_000;
      while (!(await c.check().catch(() => ({ healthy: false }))).healthy && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      expect((await c.check()).healthy).toBe(true);
      const values = await Promise.all(idx.map((i) => redis.get(`b:${i}`)));
      expect(values.filter((v, i) => v !== String(i))).toEqual([]);
    } finally {
      await c.stop();
    }
    expect(docker('network', 'ls', '-q', '--filter', `label=io.rctl.cluster=${c.getName()}`)).toBe('');
  });

  it('refuses bad settings before starting anything', async () => {
    await expect(new RedisClusterContainer().withMasters(2).start()).rejects.toMatchObject({ code: 'USAGE' });
    await expect(new RedisClusterContainer().withHost('0.0.0.0').start()).rejects.toMatchObject({ code: 'USAGE' });
  });
});
