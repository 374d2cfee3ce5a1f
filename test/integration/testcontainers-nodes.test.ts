import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { natMapOf } from '../../src/testcontainers/node-container.js';
import { startNodes, type NodeSet } from '../../src/testcontainers/nodes.js';

process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
const portRange = { min: 12000, max: 12999 };
const sets: NodeSet[] = [];
afterAll(async () => {
  await Promise.all(sets.map((s) => s.stop()));
});
const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8' }).trim();

async function myId(addr: { host: string; port: number }): Promise<string> {
  const r = new Redis({ ...addr, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await r.connect();
    return String(await r.call('CLUSTER', 'MYID'));
  } finally {
    r.disconnect();
  }
}

describe('startNodes', () => {
  it('host: N distinct nodes on reserved ports; stop removes all of them', async () => {
    const set = await startNodes({ count: 4, portRange, nodeTimeoutMs: 1000 });
    sets.push(set);
    expect(set.nodes.map((n) => n.index)).toEqual([1, 2, 3, 4]);
    const ids = await Promise.all(set.nodes.map((n) => myId(n.getExternalAddress())));
    expect(new Set(ids).size).toBe(4);
    expect(docker('ps', '-q', '--filter', `label=io.rctl.cluster=${set.cluster}`).split('\n')).toHaveLength(4);
    await set.stop();
    expect(docker('ps', '-aq', '--filter', `label=io.rctl.cluster=${set.cluster}`)).toBe('');
  });

  it('bridge: a labelled network, nodes reached through natMap, network removed on stop', async () => {
    const set = await startNodes({ count: 2, network: 'bridge', nodeTimeoutMs: 1000 });
    sets.push(set);
    expect(docker('network', 'ls', '-q', '--filter', `label=io.rctl.cluster=${set.cluster}`)).not.toBe('');
    const map = natMapOf(set.nodes);
    expect(Object.keys(map)).toHaveLength(2);
    for (const outer of Object.values(map)) expect(outer.host).toBe('127.0.0.1');
    const ids = await Promise.all(Object.values(map).map((a) => myId(a)));
    expect(new Set(ids).size).toBe(2);
    await set.stop();
    expect(docker('ps', '-aq', '--filter', `label=io.rctl.cluster=${set.cluster}`)).toBe('');
    expect(docker('network', 'ls', '-q', '--filter', `label=io.rctl.cluster=${set.cluster}`)).toBe('');
  });

  it('all or none: nodes that cannot start leave no container behind', async () => {
    // redis-server refuses a negative cluster-node-timeout and exits at once.
    const err = await startNodes({ count: 2, portRange, nodeTimeoutMs: -5, cluster: `tc-bad-${process.pid}` }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROVISION_FAILED' });
    expect(String(err)).toMatch(/exited with code/);
    expect(docker('ps', '-aq', '--filter', `label=io.rctl.cluster=tc-bad-${process.pid}`)).toBe('');
  });
});
