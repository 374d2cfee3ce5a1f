import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rctl, tempHome } from '../helpers/rctl.js';

const home = tempHome();
const NAME = 'itest-rsbad';
const BASE = 7871;
let fingerprint = '';
let replica = '';
let master = '';

describe('reshard and rebalance refuse bad input, moving nothing', () => {
  beforeAll(async () => {
    const c = await rctl(['create', '--name', NAME, '--provider', 'docker', '--port-base', String(BASE)], { home });
    expect(c.code, c.stderr).toBe(0);
    const info = await rctl(['info', '--name', NAME, '--json'], { home });
    fingerprint = String(info.json?.['fingerprint']);
    const nodes = info.json?.['nodes'] as { id: string; role: string; address: string }[];
    replica = nodes.find((n) => n.role === 'replica')!.address;
    master = nodes.find((n) => n.role === 'master')!.id;
  });
  afterAll(async () => {
    // Nothing any case below did may have changed the topology.
    expect(String((await rctl(['info', '--name', NAME, '--json'], { home })).json?.['fingerprint'])).toBe(fingerprint);
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  it.each([
    [['--from', 'all', '--to', 'deadbeef', '--slots', '10'], 2, /--to "deadbeef" matches no node of this cluster/],
    [['--from', 'all', '--to', 'MASTER', '--slots', '0'], 2, /--slots must be a positive integer, got 0/],
    [['--from', 'all', '--to', 'MASTER', '--slots', '99999'], 2, /--slots 99999 is more than the sources own/],
    [['--from', 'all', '--to', 'REPLICA', '--slots', '10'], 6, /is a replica; slots can only move to a master/],
    [['--from', 'MASTER', '--to', 'MASTER', '--slots', '10'], 2, /--from contains the target/],
    [['--from', 'all', '--to', 'MASTER'], 2, /--slots is required/],
    [['--from', 'all', '--slots', '10'], 2, /--to is required/],
  ])('reshard %j -> exit %i', async (args, code, pattern) => {
    const real = args.map((a) => (a === 'MASTER' ? master : a === 'REPLICA' ? replica : a));
    const r = await rctl(['reshard', '--name', NAME, ...real, '--yes'], { home });
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).toMatch(/^hint: /m);
  });

  it.each([
    [['--weight', 'abcdef=1'], /--weight "abcdef" matches no node/],
    [['--weight', 'MASTER=0'], /the weight must be a number greater than 0/],
    [['--weight', 'MASTER=-2'], /the weight must be a number greater than 0/],
    [['--weight', 'MASTER'], /is not ID=WEIGHT/],
    [['--threshold', 'abc'], /--threshold must be a number/],
  ])('rebalance %j -> exit 2', async (args, pattern) => {
    const real = args.map((a) => a.replace('MASTER', master));
    const r = await rctl(['rebalance', '--name', NAME, ...real, '--yes'], { home });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(pattern);
  });

  it('refuses to start with an open slot and names rctl fix', async () => {
    const a = new Redis({ port: BASE });
    const b = new Redis({ port: BASE + 1 });
    await a.call('CLUSTER', 'SETSLOT', '7', 'MIGRATING', String(await b.call('CLUSTER', 'MYID')));
    try {
      const r = await rctl(['reshard', '--name', NAME, '--from', 'all', '--to', master, '--slots', '10', '--yes'], { home });
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/Refusing to start a reshard: Slot 7 is migrating/);
      expect(r.stderr).toMatch(/hint: `rctl fix`/);
    } finally {
      await a.call('CLUSTER', 'SETSLOT', '7', 'STABLE');
      a.disconnect();
      b.disconnect();
    }
  });
});
