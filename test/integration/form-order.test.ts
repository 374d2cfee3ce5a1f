import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBareNode, type BareNode } from '../helpers/cluster.js';
import { rctl, redisCliCheck, tempHome } from '../helpers/rctl.js';

// Forming's mechanism at a small size (the big sizes are in bench:scale-curve): roles and slots set
// before the handshakes, every pair met, the second MEET only where needed, and the nodes' own
// settings given back afterwards. Two replicas per master exercise several replicas meeting one master.
const home = tempHome();
const BASE = 9401;
const MASTERS = 4;
const NODES = MASTERS * 3;
const NODE_TIMEOUT = '7000';

describe('create --nodes forms every pair with the final configuration and gives the nodes their settings back', () => {
  let nodes: BareNode[] = [];

  beforeAll(async () => {
    nodes = await Promise.all(Array.from({ length: NODES }, (_, i) => startBareNode(BASE + i, ['--cluster-node-timeout', NODE_TIMEOUT])));
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('forms 4 masters x 2 replicas that every node agrees on, with no failure flags and the settings restored', async () => {
    const list = nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
    const r = await rctl(['create', '--nodes', list, '--masters', String(MASTERS), '--replicas', '2', '--json'], { home, timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json?.['nodeTimeoutMs']).toBe(Number(NODE_TIMEOUT));
    // Each introduction step ran, and the second round was at most the pairs that needed it.
    const pairs = (NODES * (NODES - 1)) / 2;
    expect(r.stderr).toContain(`introduce every node to every other (${pairs} pairs)`);
    const second = /"message":"(\d+) of (\d+) pairs needed a second MEET"/.exec(r.stderr);
    expect(second?.[2]).toBe(String(pairs));
    expect(Number(second?.[1])).toBeLessThanOrEqual(pairs);

    const conns = nodes.map((n) => new Redis({ port: n.port }));
    try {
      for (const c of conns) {
        const text = String(await c.call('CLUSTER', 'NODES'));
        const lines = text.trim().split('\n');
        expect(lines).toHaveLength(NODES);
        // Never left flagged as failing, never half-introduced.
        expect(text).not.toMatch(/fail|handshake|noaddr/);
        expect(lines.filter((l) => l.split(' ')[2]!.includes('master'))).toHaveLength(MASTERS);
        expect((await c.call('CONFIG', 'GET', 'cluster-node-timeout')) as string[]).toEqual(['cluster-node-timeout', NODE_TIMEOUT]);
        // Redis's default, given back once the replicas synced.
        expect((await c.call('CONFIG', 'GET', 'repl-diskless-sync-delay')) as string[]).toEqual(['repl-diskless-sync-delay', '5']);
      }
      // Each master has exactly two replicas, as every node sees it.
      const text = String(await conns[0]!.call('CLUSTER', 'NODES'));
      const masters = text.trim().split('\n').filter((l) => l.split(' ')[2]!.includes('master')).map((l) => l.split(' ')[0]!);
      for (const id of masters) expect(text.split('\n').filter((l) => l.split(' ')[3] === id)).toHaveLength(2);
    } finally {
      for (const c of conns) c.disconnect();
    }
    expect((await rctl(['check', '--seed', `127.0.0.1:${BASE}`], { home })).code).toBe(0);
    expect((await redisCliCheck(`127.0.0.1:${BASE}`)).ok).toBe(true);
  });
});
