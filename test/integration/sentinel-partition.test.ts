import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rctl, tempHome } from '../helpers/rctl.js';

// Issue 13, case 5: the Sentinel split-brain. Process nodes on their own loopback addresses:
// data 127.0.0.41-43 (ports 9801-9803), Sentinels 127.0.0.44-46 (9811-9813); no bus ports.
const NAME = 'spart';
const SHARED = 'spart-shared';
const home = tempHome();

const rulesLeft = (name: string): number => execFileSync('iptables', ['-S'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`rctl:${name}`)).length;
const redis = (addr: string, ...args: string[]): string => {
  const [h, p] = addr.split(':');
  return execFileSync('redis-cli', ['-h', h!, '-p', p!, ...args], { encoding: 'utf8' }).trim();
};
type Report = {
  mode: string;
  master: string;
  newMaster: string;
  events: Record<string, number>;
  cutMs: number;
  exposedMs: number;
  lostWrites: { lost: { count: number; firstAckMs: number; lastAckMs: number; byNode: Record<string, number> } };
  prediction: { failover: boolean; lossExpected: boolean };
  agreement: { agrees: boolean };
  status: { healthy: boolean };
  keys: { kept: number };
};
const create = (name: string, extra: string[]) =>
  rctl(['sentinel', 'create', '--name', name, '--provider', 'process', '--port-base', '9801', '--sentinel-port-base', '9811', '--down-after', '1000', '--failover-timeout', '10000', '--json', ...extra], { home });

describe('sentinel drill --mode partition (down-after 1000 ms)', () => {
  beforeAll(async () => {
    const c = await create(NAME, ['--address-per-node', '--host', '127.0.0.41']);
    expect(c.code, c.stderr).toBe(0);
  });
  afterAll(async () => {
    await rctl(['sentinel', 'destroy', '--name', NAME, '--yes'], { home });
    await rctl(['sentinel', 'destroy', '--name', SHARED, '--yes'], { home });
  });

  it('cuts the master off: Sentinels fail over, the old master keeps acknowledging, those writes are lost when it rejoins as a replica', async () => {
    const r = await rctl(['sentinel', 'drill', '--name', NAME, '--mode', 'partition', '--duration', '2500', '--json'], { home, timeoutMs: 50_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const d = r.json as unknown as Report;
    expect(d.mode).toBe('partition');
    expect(d.master).toBe('127.0.0.41:9801');
    expect(d.newMaster).toMatch(/^127\.0\.0\.4[23]:980[23]$/);
    expect(d.events['+switch-master']).toBeGreaterThan(0);
    // After heal Sentinel made the old master a replica of the new one.
    expect(d.events['+convert-to-slave']).toBeGreaterThan(d.cutMs);
    expect(redis('127.0.0.41:9801', 'ROLE').split('\n').slice(0, 3)).toEqual(['slave', ...d.newMaster.split(':')]);
    const lost = d.lostWrites.lost;
    expect(lost.count).toBeGreaterThan(0);
    // Every lost write was acknowledged by the old master, between the cut and its reconfiguration.
    expect(Object.keys(lost.byNode)).toEqual(['127.0.0.41:9801']);
    // Lost writes start after the cut (none acknowledged before it), and within the cut.
    expect([lost.firstAckMs >= 0, lost.firstAckMs < d.cutMs]).toEqual([true, true]);
    expect(lost.lastAckMs).toBeGreaterThanOrEqual(d.cutMs - 500);
    expect(lost.lastAckMs).toBeLessThanOrEqual(d.exposedMs + 500);
    expect(d.prediction.failover).toBe(true);
    expect(d.prediction.lossExpected).toBe(true);
    expect(d.agreement.agrees).toBe(true);
    expect(d.status.healthy).toBe(true);
    expect(d.keys.kept).toBe(0);
    expect(Number(redis(d.newMaster, 'DBSIZE'))).toBe(0);
    expect(rulesLeft(NAME)).toBe(0);
  }, 60_000);

  it('refuses a group whose nodes share an address, before touching anything', async () => {
    const c = await create(SHARED, ['--host', '127.0.0.47', '--replicas', '1', '--sentinels', '1', '--quorum', '1', '--yes']);
    expect(c.code, c.stderr).toBe(0);
    const r = await rctl(['sentinel', 'drill', '--name', SHARED, '--mode', 'partition', '--json'], { home, timeoutMs: 30_000 });
    expect(r.code).toBe(6);
    expect(r.stderr + r.stdout).toMatch(/share address 127\.0\.0\.47.*--address-per-node/s);
    expect(rulesLeft(SHARED)).toBe(0);
    expect(redis('127.0.0.47:9801', 'ROLE').split('\n')[0]).toBe('master');
    expect(Number(redis('127.0.0.47:9801', 'DBSIZE'))).toBe(0);
  }, 30_000);
});
