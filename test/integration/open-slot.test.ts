import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rctl, redisCliCheck, tempHome } from '../helpers/rctl.js';

const home = tempHome();
const NAME = 'itest-open';
const BASE = 7401;

describe('check on a cluster with a deliberately open slot', () => {
  let a: Redis;
  beforeAll(async () => {
    const r = await rctl(['create', '--name', NAME, '--replicas', '0', '--provider', 'docker', '--port-base', String(BASE)], { home });
    expect(r.code).toBe(0);
    a = new Redis({ port: BASE, lazyConnect: true });
    await a.connect();
  });
  afterAll(async () => {
    a?.disconnect();
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  it('reports the migrating slot, names node and slot, suggests rctl fix, exits 1; redis-cli flags it too', async () => {
    const b = new Redis({ port: BASE + 1 });
    const bId = String(await b.call('CLUSTER', 'MYID'));
    b.disconnect();
    await a.call('CLUSTER', 'SETSLOT', '42', 'MIGRATING', bId);

    const r = await rctl(['check', '--name', NAME, '--json'], { home });
    expect(r.code).toBe(1);
    const findings = r.json?.['findings'] as { code: string; message: string; slots: { start: number }[]; fix: string; nodes: string[] }[];
    const open = findings.find((f) => f.code === 'OPEN_SLOT');
    expect(open?.slots[0]?.start).toBe(42);
    expect(open?.nodes).toEqual([`127.0.0.1:${BASE}`]);
    expect(open?.fix).toContain('rctl fix');

    const human = await rctl(['check', '--name', NAME], { home });
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('[FAIL] no open slots');

    const peer = await redisCliCheck(`127.0.0.1:${BASE}`);
    expect(peer.ok).toBe(false);
    expect(peer.output).toContain('migrating');
  });

  it('is healthy again once the slot is closed', async () => {
    await a.call('CLUSTER', 'SETSLOT', '42', 'STABLE');
    expect((await rctl(['check', '--name', NAME], { home })).code).toBe(0);
  });

  it('flags keys stored in a slot the node does not own (redis-cli: multiple owners)', async () => {
    // A key for a slot owned by another master, written while the slot is "importing" here.
    const c = new Redis({ port: BASE + 2 });
    c.on('error', () => undefined);
    const slot = 100; // owned by the first master
    const aId = String(await a.call('CLUSTER', 'MYID'));
    await c.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', aId);
    const key = (await import('../../src/cluster/keyslot.js')).keySlot;
    let k = 0;
    while (key(`stray:${k}`) !== slot) k++;
    // ASKING and the write in one pipeline: the ASKING flag covers exactly the next command.
    const res = await c.pipeline().call('ASKING').set(`stray:${k}`, 'x').exec();
    expect(res?.map(([e]) => e)).toEqual([null, null]);
    await c.call('CLUSTER', 'SETSLOT', String(slot), 'STABLE');
    const r = await rctl(['check', '--name', NAME, '--json'], { home });
    expect(r.code).toBe(1);
    const f = (r.json?.['findings'] as { code: string; nodes: string[] }[]).find((x) => x.code === 'MULTIPLE_OWNERS');
    expect(f?.nodes).toEqual([`127.0.0.1:${BASE + 2}`]);
    await c.pipeline().call('ASKING').del(`stray:${k}`).exec();
    c.disconnect();
  });
});
