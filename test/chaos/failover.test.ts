import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { countLost, startLoad } from '../../src/failover/load-generator.js';
import { clusterClient, countBadKeys, writeKeys } from '../helpers/load.js';
import { exec, rctl, redisCliCheckSettled, tempHome, waitHealthy } from '../helpers/rctl.js';

const BIN = fileURLToPath(new URL('../../bin/rctl', import.meta.url));
const home = tempHome();
const NAME = 'chaos';
const BASE = 7961;
const SEED = `127.0.0.1:${BASE}`;
const seeds = [{ host: '127.0.0.1', port: BASE }, { host: '127.0.0.1', port: BASE + 1 }, { host: '127.0.0.1', port: BASE + 2 }];

type Node = { id: string; address: string; role: string; masterId: string | null };
const nodes = async (): Promise<Node[]> => (await rctl(['info', '--name', NAME, '--json'], { home })).json?.['nodes'] as Node[];
type Drill = {
  timeline: { pfailMs?: number; failMs?: number; promotedMs?: number; stateOkMs?: number; rejoinedMs?: number };
  load: { attempted: number; acknowledged: number; failed: number; lost: number };
  newMaster: string;
  healthy: boolean;
};

describe('chaos: failovers on a real cluster under load', () => {
  beforeAll(async () => {
    const c = await rctl(['create', '--name', NAME, '--provider', 'docker', '--node-timeout', '1000', '--port-base', String(BASE)], { home });
    expect(c.code, c.stderr).toBe(0);
  });
  afterAll(async () => {
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  it.each(['kill', 'stop', 'pause'])('drill --mode %s: a replica takes over, the old master rejoins as replica, counts add up', async (mode) => {
    await waitHealthy(SEED, home);
    const r = await rctl(['drill', 'failover', '--name', NAME, '--mode', mode, '--load', '--json'], { home, timeoutMs: 90_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const d = r.json as unknown as Drill;
    expect(d.timeline.promotedMs).toBeGreaterThan(0);
    expect(d.timeline.stateOkMs).toBeGreaterThanOrEqual(d.timeline.promotedMs!);
    expect(d.timeline.failMs).toBeLessThanOrEqual(d.timeline.promotedMs!);
    expect(d.timeline.rejoinedMs).toBeGreaterThan(0);
    expect(d.healthy).toBe(true);
    expect(d.load.attempted).toBe(d.load.acknowledged + d.load.failed);
    expect(d.load.acknowledged).toBeGreaterThan(100);
    expect(d.load.lost).toBeGreaterThanOrEqual(0);
    expect(d.load.lost).toBeLessThanOrEqual(d.load.acknowledged);
    const all = await nodes();
    expect(all.filter((n) => n.role === 'master')).toHaveLength(3);
    expect(all.find((n) => n.id === d.newMaster)?.role).toBe('master');
    // No node is left stopped or frozen.
    const states = await exec('docker', ['ps', '-a', '--filter', `label=io.rctl.cluster=${NAME}`, '--format', '{{.State}}']);
    expect(states.stdout.trim().split('\n').every((x) => x === 'running')).toBe(true);
  });

  it('roles restore returns every master role to its original node', async () => {
    await waitHealthy(SEED, home);
    const r = await rctl(['roles', 'restore', '--name', NAME, '--json'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const masters = (await nodes()).filter((n) => n.role === 'master').map((n) => n.address).sort();
    expect(masters).toEqual([SEED, `127.0.0.1:${BASE + 1}`, `127.0.0.1:${BASE + 2}`]);
  });

  it('a coordinated failover under load loses no acknowledged write', async () => {
    await waitHealthy(SEED, home);
    const load = startLoad({ seeds, prefix: 'coord', maxWrites: 1_000_000, maxMs: 60_000, concurrency: 8 });
    await new Promise((res) => setTimeout(res, 300));
    const replica = (await nodes()).find((n) => n.role === 'replica')!;
    const r = await rctl(['failover', replica.address, '--name', NAME, '--json'], { home });
    await new Promise((res) => setTimeout(res, 300));
    const report = await load.stop();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json?.['writeGapMs'] as number).toBeLessThan(5000);
    expect(report.acknowledged).toBeGreaterThan(1000);
    expect(await countLost(seeds, 'coord', report.acknowledgedIds)).toBe(0);
    expect((await rctl(['roles', 'restore', '--name', NAME], { home })).code).toBe(0);
  });

  it('a master killed in the middle of a reshard: the reshard stops clearly, failover + fix repair it, redis-cli agrees', async () => {
    await waitHealthy(SEED, home);
    const KEYS = 50_000;
    const client = clusterClient(seeds);
    await writeKeys(client, KEYS, 'pre');
    client.disconnect();
    const all = await nodes();
    const source = all.find((n) => n.address === SEED)!;
    const target = all.find((n) => n.address === `127.0.0.1:${BASE + 1}`)!;
    const reshard = new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'reshard', '--name', NAME, '--from', source.id, '--to', target.id, '--slots', '3000', '--pipeline', '1', '--yes'], {
        env: { ...process.env, RCTL_HOME: home, RCTL_IMAGE: inject('image'), CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let killed = false;
      const onData = (d: Buffer): void => {
        out += d.toString();
        if (!killed && /… reshard: \d+\/3000/.test(out)) {
          killed = true;
          void exec('docker', ['kill', `${NAME}-node-1`]);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('close', (code) => resolve({ code, out }));
    });
    const res = await reshard;
    expect(res.code, res.out).not.toBe(0);
    expect(res.code).not.toBe(70);
    expect(res.out).toMatch(/^rctl: .*127\.0\.0\.1:7961/m);
    expect(res.out).toMatch(/^hint: /m);
    expect(res.out).not.toMatch(/\n\s+at .*\(/);

    // The old master comes back (it rejoins as a replica of its promoted replica), then fix.
    await exec('docker', ['start', `${NAME}-node-1`]);
    for (let i = 0; i < 100; i++) {
      const c = await rctl(['check', '--seed', `127.0.0.1:${BASE + 1}`, '--json'], { home });
      const codes = ((c.json?.['findings'] as { code: string; severity: string }[]) ?? []).filter((f) => f.severity === 'problem').map((f) => f.code);
      if (codes.every((x) => x === 'OPEN_SLOT' || x === 'MULTIPLE_OWNERS')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const fix = await rctl(['fix', '--seed', `127.0.0.1:${BASE + 1}`, '--yes', '--json'], { home });
    expect(fix.code, fix.stdout + fix.stderr).toBe(0);
    expect((await redisCliCheckSettled(`127.0.0.1:${BASE + 1}`)).ok).toBe(true);
    const c2 = clusterClient(seeds);
    const lost = await countBadKeys(c2, KEYS, 'pre');
    c2.disconnect();
    // Asynchronous replication: a key MIGRATEd an instant before the kill can only be lost if the
    // kill also beat its replication; report it, and it must stay within the moved batch.
    console.log(`keys lost after kill + failover + fix: ${lost} of ${KEYS}`);
    expect(lost).toBeLessThan(1000);
    expect((await rctl(['roles', 'restore', '--name', NAME], { home })).code).toBe(0);
  });
});
