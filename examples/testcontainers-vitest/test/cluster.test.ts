import { execFileSync } from 'node:child_process';
import { RedisClusterContainer } from 'rctl/testcontainers';
import { describe, expect, it } from 'vitest';

/** Ids of Docker objects of `kind` carrying the label `label=value`. */
const labelled = (kind: 'container' | 'volume', label: string): string[] =>
  execFileSync('docker', kind === 'container' ? ['ps', '-aq', '--filter', `label=${label}`] : ['volume', 'ls', '-q', '--filter', `label=${label}`], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);

describe('a Redis Cluster under a failover drill', () => {
  it('loses no acknowledged write when a master is killed', async () => {
    const cluster = await new RedisClusterContainer().withMasters(3).withReplicas(1).withNodeTimeout(1000).start();
    const label = `io.rctl.cluster=${cluster.getName()}`;
    try {
      const redis = cluster.createClient();
      const N = 10_000;
      const keys = Array.from({ length: N }, (_, i) => i);
      // Concurrent commands: ioredis batches them per node (a cluster pipeline must stay in one slot).
      const written = await Promise.all(keys.map((i) => redis.set(`k:${i}`, String(i))));
      expect(written.filter((r) => r !== 'OK')).toHaveLength(0);

      const drill = await cluster.drillFailover({ mode: 'kill', load: true });
      expect(drill.load?.lost).toBe(0);
      expect(drill.load?.acknowledged).toBeGreaterThan(0);
      expect(drill.newMaster).toBeDefined();

      const values = await Promise.all(keys.map((i) => redis.get(`k:${i}`)));
      expect(values.filter((v, i) => v !== String(i))).toHaveLength(0);

      const report = await cluster.check();
      expect(report.healthy).toBe(true);
    } finally {
      // Also disconnects the client made by createClient().
      await cluster.stop();
    }
    expect(labelled('container', label)).toEqual([]);
    expect(labelled('volume', label)).toEqual([]);
  });
});
