import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCluster, type ClusterHandle } from 'rctl';
import { countBadKeys, clusterClient, writeKeys } from '../helpers/load.js';
import { pollUntil } from '../helpers/poll.js';
import { exec, redisCliCheckSettled, rctl, tempHome } from '../helpers/rctl.js';

// 6 process nodes on their own loopback addresses 127.0.0.61-66, ports 9761-9766 (bus 19761+), node-timeout 2000.
const NAME = 'psafe';
const home = tempHome();
const PORT = 9761;
const NODE_TIMEOUT = 2000;
const seeds = [0, 1, 2, 3, 4, 5].map((k) => ({ host: `127.0.0.${61 + k}`, port: PORT + k }));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Report = Record<string, any>;
async function drill(args: string[]): Promise<{ code: number; r: Report }> {
  const res = await rctl(['drill', 'partition', '--name', NAME, '--yes', '--json', ...args], { home, timeoutMs: 90_000 });
  return { code: res.code, r: res.json as Report };
}
const rulesLeft = (): number => execFileSync('iptables', ['-S'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`rctl:${NAME}`)).length;

/** Each node's cluster_state, slots assigned in its view and open-slot markers: what a failed repair left. */
async function nodeStates(): Promise<string> {
  const out: string[] = [];
  for (const n of seeds) {
    const info = await exec('redis-cli', ['-h', n.host, '-p', String(n.port), 'cluster', 'info']);
    const nodes = await exec('redis-cli', ['-h', n.host, '-p', String(n.port), 'cluster', 'nodes']);
    const self = nodes.stdout.split('\n').find((l) => l.includes('myself')) ?? '';
    const markers = self.match(/\[\d+-[<>]-\w{8}/g) ?? [];
    out.push(`${n.host}:${n.port} ${/cluster_state:(\w+)/.exec(info.stdout)?.[1]} assigned ${/cluster_slots_assigned:(\d+)/.exec(info.stdout)?.[1]} ${self.split(' ')[2]} open ${markers.length}${markers.length ? ` (${[...new Set(markers.map((m) => m.replace(/^\[\d+/, '')))].join(', ')})` : ''}`);
  }
  return out.join('\n');
}

async function open(): Promise<ClusterHandle> {
  process.env['RCTL_HOME'] = home;
  return openCluster({ name: NAME });
}

describe('partitions with write safety, and in the middle of a reshard (node-timeout 2000 ms)', () => {
  beforeAll(async () => {
    const c = await rctl(['create', '--name', NAME, '--provider', 'process', '--address-per-node', '--host', '127.0.0.61', '--port-base', String(PORT), '--masters', '3', '--replicas', '1', '--node-timeout', String(NODE_TIMEOUT), '--json'], { home });
    expect(c.code, c.stderr).toBe(0);
  });
  afterAll(async () => {
    await rctl(['heal', '--name', NAME], { home });
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  let baselineMs: number | undefined;

  it('3a. without min-replicas-to-write: the isolated master acknowledges writes for ≈ node-timeout, all lost', async () => {
    const { code, r } = await drill(['--isolate', 'master']);
    expect(code, JSON.stringify(r)).toBe(0);
    expect(r['failover']).toBe(true);
    expect(r['prediction'].windowMs).toBe(NODE_TIMEOUT);
    expect(r['lostWrites'].lost.count).toBeGreaterThan(0);
    baselineMs = r['lostWrites'].lost.lastAckMs as number;
    expect(r['healthy']).toBe(true);
  });

  it('3b. `config write-safety --min-replicas-to-write 1 --min-replicas-max-lag 1`: set and read back on every node', async () => {
    const res = await rctl(['config', 'write-safety', '--name', NAME, '--min-replicas-to-write', '1', '--min-replicas-max-lag', '1', '--json', '--yes'], { home });
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const nodes = res.json?.['nodes'] as { minReplicasToWrite: number; minReplicasMaxLagS: number; persisted: boolean }[];
    expect(nodes).toHaveLength(6);
    expect(nodes.every((n) => n.minReplicasToWrite === 1 && n.minReplicasMaxLagS === 1 && n.persisted)).toBe(true);
    expect(res.json?.['recorded']).toBe(true);
    // More than any master has replicas: refused before anything is set.
    const tooMany = await rctl(['config', 'write-safety', '--name', NAME, '--min-replicas-to-write', '2', '--json', '--yes'], { home });
    expect(tooMany.code).toBe(6);
    expect(JSON.stringify(tooMany.json)).toMatch(/refuse every write/);
  });

  it('3c. with the fence: the window shrinks to ≈ max-lag (1 s), and the prediction says so', async () => {
    const { code, r } = await drill(['--isolate', 'master']);
    expect(code, JSON.stringify(r)).toBe(0);
    expect(r['failover']).toBe(true);
    expect(r['prediction'].windowIsBound).toBe(true);
    expect(r['prediction'].text).toMatch(/min-replicas-to-write 1 \/ max-lag 1 s/);
    const lost = r['lostWrites'].lost;
    // Fenced 1-2 s after the cut (lag counts whole seconds since the last once-a-second ACK).
    if (lost.count > 0) expect(lost.lastAckMs).toBeLessThan(2000 + 500);
    expect(r['agreement'].agrees, JSON.stringify(r['agreement'])).toBe(true);
    console.log(`loss window: ${baselineMs} ms without the fence, ${lost.lastAckMs ?? 0} ms (${lost.count} writes) with min-replicas-to-write 1 / max-lag 1 s`);
    expect(rulesLeft()).toBe(0);
    const off = await rctl(['config', 'write-safety', '--name', NAME, '--min-replicas-to-write', '0', '--json', '--yes'], { home });
    expect(off.code, off.stderr).toBe(0);
  });

  // Skipped: it finds a real bug (issue 13, open). When the cut lands mid-move, the receiver keeps
  // importing slots from the demoted master, ignores the promoted replica's claim on them (Redis never
  // updates a slot it imports: clusterUpdateSlotsConfigWith) and reports cluster_state:fail; `rctl fix`
  // then tries to move the promoted replica's stale copies first, gets CLUSTERDOWN and stops (4 of 7
  // runs). The repair: close imports from a node that is no longer a master before moving stray keys.
  it.skip('6. a master cut mid-reshard for node-timeout + 2 s: the reshard finishes or stops clearly; fix + check leave it clean, no key lost', async () => {
    // Enough keys that moving half the slots 10 keys per MIGRATE outlasts the cut (~6000 keys/s here).
    const KEYS = 150_000;
    const client = clusterClient(seeds);
    const c = await open();
    try {
      await writeKeys(client, KEYS, 'pr');
      const s = await c.info();
      const masters = s.nodes.filter((n) => n.role === 'master');
      const to = masters[0]!;
      const t0 = Date.now();
      const reshard = rctl(['reshard', '--name', NAME, '--from', 'all', '--to', to.id, '--slots', '8000', '--pipeline', '10', '--timeout', '5000', '--yes', '--json'], { home, timeoutMs: 120_000 });
      // Wait until a source is migrating a slot: the cut lands while slots move.
      const migrating = await pollUntil(
        async () => (await c.info()).nodes.find((n) => n.role === 'master' && n.self.migrating.length > 0),
        (n) => n !== undefined,
        { timeoutMs: 20_000, intervalMs: 20 },
      );
      expect(migrating, 'the reshard never started moving slots').toBeDefined();
      const cut = await c.partition(migrating!.id, { mode: 'full' });
      const cutAt = Date.now() - t0;
      await new Promise((res) => setTimeout(res, NODE_TIMEOUT + 2000));
      await cut.heal();
      const res = await reshard;
      console.log(`reshard under partition (cut ${migrating!.addr.host}:${migrating!.addr.port} at ${cutAt} ms, reshard done at ${Date.now() - t0} ms): exit ${res.code}; ${res.code === 0 ? 'finished' : JSON.stringify(res.json?.['error'])}\n${res.stderr.split('\n').filter((l) => !/"event":"progress"/.test(l)).slice(-25).join('\n')}`);
      if (res.code !== 0) {
        const err = res.json?.['error'] as { message: string; hint: string } | undefined;
        expect(err?.message, res.stderr).toBeTruthy();
        expect(err?.hint).toBeTruthy();
      }
      const fix = await pollUntil(() => rctl(['fix', '--name', NAME, '--yes', '--json'], { home, timeoutMs: 120_000 }), (r) => r.code === 0, { timeoutMs: 60_000, intervalMs: 1000 });
      // Known failure (see the report of issue 13, case 6): the target still importing from the cut master, now a replica, keeps those slots unowned and reports cluster_state:fail, so every MIGRATE to it fails with CLUSTERDOWN.
      expect(fix.code, `${fix.stdout}${fix.stderr}\n${await nodeStates()}`).toBe(0);
      const check = await pollUntil(() => rctl(['check', '--name', NAME, '--json'], { home }), (r) => r.code === 0, { timeoutMs: 30_000, intervalMs: 500 });
      expect(check.code, check.stdout).toBe(0);
      const peer = await redisCliCheckSettled(`${seeds[0]!.host}:${seeds[0]!.port}`);
      expect(peer.ok, peer.output).toBe(true);
      // A fresh client: the first one's slot map predates the reshard (ioredis rejects a pipeline whose replies are MOVED to different nodes).
      const reader = clusterClient(seeds);
      try {
        expect(await countBadKeys(reader, KEYS, 'pr')).toBe(0);
      } finally {
        reader.disconnect();
      }
      expect(rulesLeft()).toBe(0);
    } finally {
      client.disconnect();
      await c.close();
    }
  });
});
