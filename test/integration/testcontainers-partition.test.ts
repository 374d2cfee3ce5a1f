import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
// Imported the way a user imports it: the package's own exports map (dist/ must be built).
import { RedisClusterContainer, type StartedRedisClusterContainer } from 'rctl/testcontainers';

process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8' }).trim();
/** Rules tagged for a cluster opened by seed carry its seed address: every one of this block's. */
const rulesOf = (block: string): number => execFileSync('iptables', ['-S'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`rctl:${block}`)).length;

describe('RedisClusterContainer.withAddressPerNode(): partitions from the testcontainers module', () => {
  let cluster: StartedRedisClusterContainer | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('nodes on their own loopback addresses; partition/heal, a partition drill fails over; stop() heals and removes', async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicas(1).withNodeTimeout(1000).withAddressPerNode().start();
    const hosts = cluster.getNodes().map((n) => n.address.split(':')[0]!);
    expect(new Set(hosts).size).toBe(6);
    const block = /^127\.0\.\d+\./.exec(hosts[0]!)![0];
    for (const h of hosts) expect(h.startsWith(block)).toBe(true);

    const cut = await cluster.partition({ role: 'replica', index: 0 });
    expect(cut.rules.length).toBeGreaterThan(0);
    expect(rulesOf(block)).toBeGreaterThan(0);
    await cut.heal();
    expect(rulesOf(block)).toBe(0);

    const r = await cluster.drillPartition({ isolate: 'master' });
    expect(r.failover).toBe(true);
    expect(r.lostWrites?.acknowledged ?? 0).toBeGreaterThan(0);
    expect(r.check.healthy, JSON.stringify(r.check.findings)).toBe(true);
    expect(rulesOf(block)).toBe(0);

    // A cut left in place: stop() heals it before removing the containers.
    await cluster.partition({ role: 'replica', index: 1 }, { mode: 'bus-only' });
    expect(rulesOf(block)).toBeGreaterThan(0);
    const name = cluster.getName();
    await cluster.stop();
    expect(rulesOf(block)).toBe(0);
    expect(docker('ps', '-aq', '--filter', `label=io.rctl.cluster=${name}`)).toBe('');
  }, 40_000);
});
