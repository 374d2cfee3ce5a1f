import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countLost, startLoad } from '../../src/failover/load-generator.js';
import { pollUntil, waitFor } from '../helpers/poll.js';
import { dockerLeftovers, exec, rctl, tempHome } from '../helpers/rctl.js';

const home = tempHome();
const NAME = 'itest-sent';
const sentinels = [26379, 26380, 26381].map((port) => ({ host: '127.0.0.1', port }));

type Status = { healthy: boolean; master: string; problems: string[]; sentinels: { master: string; replicas: number; otherSentinels: number; quorum: number; ckquorum: string }[] };
const status = async (): Promise<Status> => (await rctl(['sentinel', 'status', '--name', NAME, '--json'], { home })).json as unknown as Status;
const waitHealthy = (): Promise<Status> => pollUntil(status, (st) => st.healthy, { timeoutMs: 20_000, intervalMs: 200 });

describe('Sentinel: the seeds\' layout (qsmaster on 6379, replicas 6380/6381, Sentinels 26379-26381, quorum 2)', () => {
  beforeAll(async () => {
    const r = await rctl(
      ['sentinel', 'create', '--name', NAME, '--master-name', 'qsmaster', '--replicas', '2', '--sentinels', '3', '--quorum', '2', '--down-after', '1000', '--failover-timeout', '10000', '--port-base', '6379', '--sentinel-port-base', '26379', '--provider', 'docker', '--json'],
      { home },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
  afterAll(async () => {
    await rctl(['sentinel', 'destroy', '--name', NAME, '--yes'], { home });
  });

  it('is healthy: every Sentinel names 6379 with 2 replicas and 2 other Sentinels, CKQUORUM OK', async () => {
    const st = await status();
    expect(st.healthy).toBe(true);
    expect(st.master).toBe('127.0.0.1:6379');
    for (const s of st.sentinels) expect(s).toMatchObject({ master: '127.0.0.1:6379', replicas: 2, otherSentinels: 2, quorum: 2 });
    for (const s of st.sentinels) expect(s.ckquorum).toMatch(/^OK/);
    const ls = await rctl(['ls', '--json'], { home });
    expect((ls.json?.['clusters'] as { name: string; kind: string; state: string }[]).find((c) => c.name === NAME)).toMatchObject({ kind: 'sentinel', state: 'healthy' });
  });

  it('a manual failover moves the role and loses no acknowledged write', async () => {
    const load = startLoad({ seeds: [], sentinel: { sentinels, name: 'qsmaster' }, prefix: 'sman', maxWrites: 1_000_000, maxMs: 60_000, concurrency: 4 });
    await waitFor('the load to get writes acknowledged', () => load.acknowledged() >= 200);
    const r = await rctl(['sentinel', 'failover', '--name', NAME, '--json'], { home });
    // Keep writing until writes are acknowledged after the switch too (by the new master).
    const atSwitch = load.acknowledged();
    await waitFor('writes acknowledged after the failover', () => load.acknowledged() >= atSwitch + 200, { timeoutMs: 30_000 });
    const rep = await load.stop();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json?.['oldMaster']).toBe('127.0.0.1:6379');
    expect(r.json?.['newMaster']).not.toBe('127.0.0.1:6379');
    expect(rep.acknowledged).toBeGreaterThan(100);
    expect(await countLost([], 'sman', rep.acknowledgedIds, undefined, { sentinels, name: 'qsmaster' })).toBe(0);
    expect((await waitHealthy()).healthy).toBe(true);
  });

  it.each(['kill', 'stop', 'pause'])('drill --mode %s: one master after, all Sentinels agree, the old master rejoins as replica, counts add up', async (mode) => {
    await waitHealthy();
    const r = await rctl(['sentinel', 'drill', '--name', NAME, '--mode', mode, '--load', '--json'], { home, timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const d = r.json as unknown as {
      master: string;
      newMaster: string;
      events: Record<string, number>;
      allAgreeMs: number;
      rejoinedMs: number;
      load: { attempted: number; acknowledged: number; failed: number; lost: number; failedPresent: number };
      keys: { written: number; removed: number; kept: number };
    };
    expect(d.newMaster).not.toBe(d.master);
    for (const e of ['+sdown', '+odown', '+switch-master']) expect(d.events[e]).toBeGreaterThan(0);
    expect(d.allAgreeMs).toBeGreaterThanOrEqual(d.events['+switch-master']!);
    expect(d.rejoinedMs).toBeGreaterThan(0);
    expect(d.load.attempted).toBe(d.load.acknowledged + d.load.failed);
    // The report's own recount: the drill's keys found at the end are the acknowledged writes that
    // survived plus failed writes that landed anyway, and no more.
    const survived = d.load.acknowledged - d.load.lost;
    console.log(`sentinel drill --mode ${mode}: ${JSON.stringify(d.load)}, keys ${JSON.stringify(d.keys)}`);
    expect(d.load.failedPresent).toBeLessThanOrEqual(d.load.failed);
    expect(d.keys.written).toBe(survived + d.load.failedPresent);
    expect(d.keys).toMatchObject({ removed: d.keys.written, kept: 0 });
    // A stopped master (SIGTERM) shuts down gracefully: since Redis 7.0 it pauses writes and waits
    // (shutdown-timeout, 10 s) for its replicas to catch up before exiting, so nothing acknowledged is lost.
    if (mode === 'stop') expect(d.load.lost).toBe(0);
    const st = await status();
    expect(st.healthy).toBe(true);
    expect(st.master).toBe(d.newMaster);
    const states = await exec('docker', ['ps', '-a', '--filter', `label=io.rctl.cluster=${NAME}`, '--format', '{{.State}}']);
    expect(states.stdout.trim().split('\n').every((x) => x === 'running')).toBe(true);
  });

  it('destroy removes the group, its containers and data', async () => {
    expect((await rctl(['sentinel', 'destroy', '--name', NAME, '--yes'], { home })).code).toBe(0);
    expect(await dockerLeftovers(NAME)).toEqual([]);
  });
});

describe('Sentinel: bad input', () => {
  const h = tempHome();
  it.each([
    // 0 is refused by the option parser already (a positive integer), before the range check.
    [['--quorum', '0'], 2, /--quorum must be a positive integer, got 0/],
    [['--quorum', '4'], 2, /--quorum must be between 1 and the number of Sentinels \(3\), got 4/],
    [['--replicas', '-1'], 2, /--replicas must be an integer of at least 0/],
    [['--quorum', '1'], 2, /Refusing a weak setup: quorum 1 is below a majority/],
  ])('create %j -> exit %i, nothing started', async (args, code, pattern) => {
    const r = await rctl(['sentinel', 'create', '--name', 'bad', '--provider', 'process', '--port-base', '7991', '--sentinel-port-base', '27991', ...args], { home: h });
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).toMatch(/^hint: /m);
    expect((await rctl(['ls', '--json'], { home: h })).json?.['clusters']).toEqual([]);
  });
  it('no Sentinel reachable -> exit 3', async () => {
    const r = await rctl(['sentinel', 'status', '--sentinel', '127.0.0.1:27999'], { home: h });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/No Sentinel answers|Cannot reach/);
  });
  it('unknown master name -> exit 2 naming --master-name', async () => {
    const c = await rctl(['sentinel', 'create', '--name', 'okgrp', '--provider', 'process', '--replicas', '0', '--sentinels', '1', '--quorum', '1', '--port-base', '7995', '--sentinel-port-base', '27995', '--down-after', '1000'], { home: h });
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toMatch(/fewer than 3/);
    try {
      const r = await rctl(['sentinel', 'status', '--sentinel', '127.0.0.1:27995', '--master-name', 'nope'], { home: h });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/monitors no master named "nope"/);
      expect(r.stderr).toMatch(/--master-name/);
    } finally {
      await rctl(['sentinel', 'destroy', '--name', 'okgrp', '--yes'], { home: h });
    }
  });
});
