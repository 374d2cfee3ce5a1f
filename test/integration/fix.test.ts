import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from '../../src/cluster/keyslot.js';
import { testCluster, type TestCluster } from '../helpers/fixture.js';
import { clusterClient } from '../helpers/load.js';
import { meet, startBareNode } from '../helpers/cluster.js';
import { rctl, redisCliCheckSettled, tempHome, waitHealthy } from '../helpers/rctl.js';

const home = tempHome();
const NAME = 'itest-fix';
const BASE = 7851;
const SEED = `127.0.0.1:${BASE}`;
const KEYS = 20_000;
const ports = [BASE, BASE + 1, BASE + 2];

async function onEach<T>(fn: (r: Redis) => Promise<T>): Promise<T[]> {
  return Promise.all(
    ports.map(async (port) => {
      const r = new Redis({ port });
      try {
        return await fn(r);
      } finally {
        r.disconnect();
      }
    }),
  );
}
let cluster: TestCluster | undefined;
const intact = (): Promise<number> => cluster!.badKeys();

describe('rctl fix', () => {
  beforeAll(async () => {
    cluster = await testCluster({ home, name: NAME, base: BASE, replicas: 0, keys: KEYS });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('reports nothing to fix on a healthy cluster', async () => {
    const r = await rctl(['fix', '--seed', SEED, '--yes'], { home });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Nothing to fix');
  });

  it('uncovered slots: those with keys go back to the node holding them, the rest to a master; no key lost', async () => {
    // Forget slots 100-199 (they hold keys, on the first master) and 16000-16010 everywhere.
    await onEach((r) => r.call('CLUSTER', 'DELSLOTSRANGE', '100', '199', '16000', '16010'));
    const before = await rctl(['check', '--seed', SEED, '--json'], { home });
    expect(before.code).toBe(1);
    expect((before.json?.['findings'] as { code: string }[]).map((f) => f.code)).toContain('SLOTS_UNCOVERED');
    const r = await rctl(['fix', '--seed', SEED, '--yes'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // Slots of that range that hold keys return to the first master (the holder); keys readable proves it.
    expect(r.stdout).toMatch(/uncovered slots [\d,-]*1\d\d[\d,-]* assigned to 127.0.0.1:7851/);
    expect((await redisCliCheckSettled(SEED)).ok).toBe(true);
    expect(await intact()).toBe(0);
  });

  it('keys stranded on a node that does not own their slot are moved to the owner', async () => {
    const owner = new Redis({ port: BASE });
    const other = new Redis({ port: BASE + 2 });
    const ownerId = String(await owner.call('CLUSTER', 'MYID'));
    let k = 0;
    while (keySlot(`stray:${k}`) > 5000) k++;
    const slot = keySlot(`stray:${k}`);
    await other.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', ownerId);
    await other.pipeline().call('ASKING').set(`stray:${k}`, 'kept').exec();
    await other.call('CLUSTER', 'SETSLOT', String(slot), 'STABLE');
    owner.disconnect();
    other.disconnect();
    expect((await rctl(['check', '--seed', SEED], { home })).code).toBe(1);
    const r = await rctl(['fix', '--seed', SEED, '--yes'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/moved 1 keys from 127.0.0.1:7853 to the owner 127.0.0.1:7851/);
    const c = clusterClient([{ host: '127.0.0.1', port: BASE }]);
    expect(await c.get(`stray:${k}`)).toBe('kept');
    await c.del(`stray:${k}`);
    c.disconnect();
    expect((await redisCliCheckSettled(SEED)).ok).toBe(true);
    expect(await intact()).toBe(0);
  });

  it('a move interrupted halfway (keys on both sides) is finished without losing a key', async () => {
    // The state a SIGKILL of any resharding tool leaves: owner migrating, target importing, some keys moved.
    const a = new Redis({ port: BASE });
    const b = new Redis({ port: BASE + 1 });
    const aId = String(await a.call('CLUSTER', 'MYID'));
    const bId = String(await b.call('CLUSTER', 'MYID'));
    const slot = 2000;
    const c = clusterClient([{ host: '127.0.0.1', port: BASE }]);
    const names: string[] = [];
    for (let i = 0; names.length < 20; i++) if (keySlot(`half:${i}`) === slot) names.push(`half:${i}`);
    for (const k of names) await c.set(k, `v-${k}`);
    await b.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', aId);
    await a.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', bId);
    await a.call('MIGRATE', '127.0.0.1', String(BASE + 1), '', '0', '5000', 'KEYS', ...names.slice(0, 12));
    const r = await rctl(['fix', '--seed', SEED, '--yes'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/slot 2000: finished the move 127.0.0.1:7851 -> 127.0.0.1:7852 \(8 keys\)/);
    expect(r.stdout).toMatch(/none lost/);
    for (const k of names) expect(await c.get(k)).toBe(`v-${k}`);
    for (const k of names) await c.del(k);
    c.disconnect();
    a.disconnect();
    b.disconnect();
    expect((await redisCliCheckSettled(SEED)).ok).toBe(true);
    expect(await intact()).toBe(0);
  });

  it('refuses while a node is unreachable, naming it', async () => {
    const bare = await startBareNode(BASE + 5);
    await meet(BASE + 5, BASE);
    await waitHealthy(SEED, home);
    // Down for good: the process is gone and its port refuses connections.
    await bare.stop();
    // Something to repair (an open slot) while a node is down: fix must not guess.
    const a = new Redis({ port: BASE });
    const b = new Redis({ port: BASE + 1 });
    await a.call('CLUSTER', 'SETSLOT', '42', 'MIGRATING', String(await b.call('CLUSTER', 'MYID')));
    const r = await rctl(['fix', '--seed', SEED, '--yes'], { home });
    await a.call('CLUSTER', 'SETSLOT', '42', 'STABLE');
    a.disconnect();
    b.disconnect();
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/cannot be reached \(127.0.0.1:7856\)/);
    expect(r.stderr).toMatch(/hint: Bring the node back, or remove it/);
    await onEach((x) => x.call('CLUSTER', 'FORGET', bare.id));
  });
});
