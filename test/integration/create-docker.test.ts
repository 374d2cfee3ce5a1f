import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterClient, countBadKeys, writeKeys } from '../helpers/load.js';
import { dockerLeftovers, exec, rctl, redisCliCheck, tempHome } from '../helpers/rctl.js';

const home = tempHome();
const NAME = 'itest-docker';
const BASE = 7101;
const seeds = Array.from({ length: 3 }, (_, i) => ({ host: '127.0.0.1', port: BASE + i }));

describe('create 3x1 on real containers', () => {
  beforeAll(async () => {
    const r = await rctl(['create', '--name', NAME, '--masters', '3', '--replicas', '1', '--provider', 'docker', '--port-base', String(BASE), '--json'], { home });
    expect(r.stderr + r.stdout).toContain('"ok": true');
    expect(r.code).toBe(0);
  });
  afterAll(async () => {
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  it('is healthy by rctl check and by redis-cli --cluster check', async () => {
    const r = await rctl(['check', '--name', NAME, '--json'], { home });
    expect(r.code).toBe(0);
    expect(r.json?.['healthy']).toBe(true);
    const peer = await redisCliCheck(`127.0.0.1:${BASE}`);
    expect(peer.output).toContain('[OK] All 16384 slots covered');
    expect(peer.ok).toBe(true);
  });

  it('has 6 labelled containers rctl-named <name>-node-<i>, 3 masters with one linked replica each', async () => {
    const r = await rctl(['info', '--name', NAME, '--json'], { home });
    expect(r.code).toBe(0);
    const nodes = r.json?.['nodes'] as { role: string; address: string; slotCount: number; link: string }[];
    expect(nodes).toHaveLength(6);
    const masters = nodes.filter((n) => n.role === 'master');
    expect(masters.map((m) => m.slotCount).sort()).toEqual([5461, 5461, 5462]);
    expect(nodes.filter((n) => n.role === 'replica').every((n) => n.link === 'up')).toBe(true);
    expect((await dockerLeftovers(NAME)).filter((x) => /-node-\d$/.test(x)).sort()).toEqual([1, 2, 3, 4, 5, 6].map((i) => `${NAME}-node-${i}`));
  });

  it('stores 100k keys written through a cluster client, all readable and spread over the 3 masters', async () => {
    const c = clusterClient(seeds);
    try {
      await writeKeys(c, 100_000);
      expect(await countBadKeys(c, 100_000)).toBe(0);
    } finally {
      c.disconnect();
    }
    const r = await rctl(['info', '--name', NAME, '--json'], { home });
    const masters = (r.json?.['nodes'] as { role: string; keys: number }[]).filter((n) => n.role === 'master');
    expect(masters.reduce((a, m) => a + m.keys, 0)).toBe(100_000);
    for (const m of masters) expect(m.keys).toBeGreaterThan(30_000);
  });

  it('slot names the owner of a key', async () => {
    const r = await rctl(['slot', 'foo', '{user1}.a', '--name', NAME, '--json'], { home });
    expect(r.code).toBe(0);
    const keys = r.json?.['keys'] as { key: string; slot: number; owner: { address: string } }[];
    expect(keys[0]).toMatchObject({ key: 'foo', slot: 12182, owner: { address: `127.0.0.1:${BASE + 2}` } });
  });

  it('ls lists it as healthy', async () => {
    const r = await rctl(['ls', '--json'], { home });
    const c = (r.json?.['clusters'] as { name: string; state: string; provider: string }[]).find((x) => x.name === NAME);
    expect(c).toMatchObject({ provider: 'docker', state: 'healthy' });
  });

  it('destroy leaves no container, volume or record behind', async () => {
    const r = await rctl(['destroy', '--name', NAME, '--yes'], { home });
    expect(r.code).toBe(0);
    expect(await dockerLeftovers(NAME)).toEqual([]);
    const ls = await rctl(['ls', '--json'], { home });
    expect(ls.json?.['clusters']).toEqual([]);
    const again = await rctl(['info', '--name', NAME], { home });
    expect(again.code).toBe(6);
    expect(again.stderr).toContain('no cluster named');
  });
});

describe('create with --network bridge', () => {
  const BR = 'itest-bridge';
  afterAll(async () => {
    await rctl(['destroy', '--name', BR, '--yes'], { home });
  });
  it('publishes ports, forms a healthy cluster on container addresses, and destroy removes its network', async () => {
    const c = await rctl(['create', '--name', BR, '--network', 'bridge', '--replicas', '0', '--provider', 'docker', '--port-base', '7151', '--json'], { home });
    expect(c.code, c.stderr).toBe(0);
    const first = (c.json?.['nodes'] as { address: string }[])[0]!.address;
    expect(first).not.toMatch(/^127\./);
    expect((await rctl(['check', '--name', BR], { home })).code).toBe(0);
    expect((await redisCliCheck(first)).ok).toBe(true);
    expect((await rctl(['destroy', '--name', BR, '--yes'], { home })).code).toBe(0);
    expect(await dockerLeftovers(BR)).toEqual([]);
    const nets = await exec('docker', ['network', 'ls', '--filter', `label=io.rctl.cluster=${BR}`, '--format', '{{.Name}}']);
    expect(nets.stdout.trim()).toBe('');
  });
});
