import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCluster, type ClusterHandle } from 'rctl';
import { rctl, tempHome } from '../helpers/rctl.js';
import { pollUntil } from '../helpers/poll.js';

// 6 process nodes on their own loopback addresses 127.0.0.51-56, ports 9731-9736 (bus 19731+).
const NAME = 'pdrill';
const home = tempHome();
const PORT = 9731;

/** The drill's JSON report (docs/json.md, rctl.drill.partition/1), read loosely: the test asserts on its numbers. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Report = Record<string, any>;
async function drill(args: string[]): Promise<{ code: number; r: Report }> {
  const res = await rctl(['drill', 'partition', '--name', NAME, '--yes', '--json', ...args], { home, timeoutMs: 90_000 });
  return { code: res.code, r: res.json as Report };
}

const rulesLeft = (): number => execFileSync('iptables', ['-S'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`rctl:${NAME}`)).length;

describe('drill partition: what Redis documents, measured (node-timeout 1000 ms)', () => {
  beforeAll(async () => {
    const c = await rctl(['create', '--name', NAME, '--provider', 'process', '--address-per-node', '--host', '127.0.0.51', '--port-base', String(PORT), '--masters', '3', '--replicas', '1', '--node-timeout', '1000', '--json'], { home });
    expect(c.code, c.stderr).toBe(0);
  });
  afterAll(async () => {
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  it('1. a master cut for less than node-timeout: no failover, nothing lost', async () => {
    const { code, r } = await drill(['--isolate', 'master', '--duration', '400']);
    expect(code, JSON.stringify(r)).toBe(0);
    expect(r['failover']).toBe(false);
    expect(r['lostWrites'].acknowledged).toBeGreaterThan(0);
    expect(r['lostWrites'].lost.count).toBe(0);
    expect(r['agreement'].agrees).toBe(true);
    expect(r['healthy']).toBe(true);
  });

  it('2. a master cut for node-timeout + 5 s: its replica is promoted, the writes it acknowledged meanwhile are lost, window ≈ node-timeout', async () => {
    const { code, r } = await drill(['--isolate', 'master']);
    expect(code, JSON.stringify(r)).toBe(0);
    expect(r['failover']).toBe(true);
    const lost = r['lostWrites'].lost;
    expect(lost.count).toBeGreaterThan(0);
    // Every lost write was acknowledged by the isolated master, within ~node-timeout of the cut.
    expect(Object.keys(lost.byNode)).toEqual([r['isolated'][0].address]);
    // ≈ node-timeout (1000 ms) measured from its last pong; a loaded CI machine stretches it, never to 3 x.
    expect(lost.lastAckMs).toBeLessThan(3000);
    expect(r['prediction'].lossExpected).toBe(true);
    expect(r['agreement'].reasons.length).toBeGreaterThan(0);
    expect(r['healthy']).toBe(true);
    expect(r['keys'].kept).toBe(0);
    expect(rulesLeft()).toBe(0);
  });

  it('the CI gate: --max-lost 0 on a losing drill exits 13 with the report', async () => {
    // Masters refuse to vote for a shard again within 2 x node-timeout of its last failover: isolate another node.
    const { code, r } = await drill(['--isolate', 'master', '--max-lost', '0']);
    if (r['lostWrites'].lost.count > 0) {
      expect(code).toBe(13);
      expect(r['ok']).toBe(false);
      expect(r['gates'].failed[0]).toMatch(/more than --max-lost 0/);
    } else expect(code).toBe(0);
    expect(rulesLeft()).toBe(0);
  });

  it('4. a replica cut off: no failover, nothing lost, it resyncs after heal', async () => {
    const { code, r } = await drill(['--isolate', 'replica', '--duration', '2500']);
    expect(code, JSON.stringify(r)).toBe(0);
    expect(r['failover']).toBe(false);
    expect(r['lostWrites'].lost.count).toBe(0);
    expect(r['healthy']).toBe(true);
  });

  it('bus-only: replication keeps flowing, so the promoted replica has the old master\'s writes: nothing lost', async () => {
    const { code, r } = await drill(['--isolate', 'master', '--bus-only']);
    expect(code, JSON.stringify(r)).toBe(0);
    expect(r['mode']).toBe('bus-only');
    expect(r['lostWrites'].lost.count).toBe(0);
    expect(r['agreement'].agrees).toBe(true);
  });

  it('from the API: partition() cuts, heal() restores; close() heals what is still cut', async () => {
    process.env['RCTL_HOME'] = home;
    const c: ClusterHandle = await openCluster({ name: NAME });
    try {
      const cut = await c.partition({ role: 'replica', index: 0 });
      expect(cut.rules.length).toBeGreaterThan(0);
      expect(rulesLeft()).toBeGreaterThan(0);
      await cut.heal();
      expect(rulesLeft()).toBe(0);
      await c.partition({ role: 'replica', index: 1 }, { mode: 'bus-only' });
    } finally {
      await c.close();
    }
    expect(rulesLeft()).toBe(0);
    const c2 = await openCluster({ name: NAME });
    try {
      const healthy = await pollUntil(() => c2.check(), (r) => r.healthy, { timeoutMs: 20_000, intervalMs: 250 });
      expect(healthy.healthy).toBe(true);
    } finally {
      await c2.close();
    }
  });

  it('a cluster whose nodes share one address is refused before anything is touched', async () => {
    const other = await rctl(['create', '--name', 'shared', '--provider', 'process', '--port-base', '9741', '--masters', '3', '--replicas', '0', '--node-timeout', '1000'], { home });
    expect(other.code, other.stderr).toBe(0);
    try {
      const res = await rctl(['drill', 'partition', '--name', 'shared', '--isolate', '127.0.0.1:9741', '--no-load', '--yes', '--json'], { home });
      expect(res.code).toBe(6);
      expect((res.json?.['error'] as { message: string; hint: string }).hint).toMatch(/--address-per-node/);
    } finally {
      await rctl(['destroy', '--name', 'shared', '--yes'], { home });
    }
  });
});
