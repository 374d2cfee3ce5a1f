import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCluster, type TestCluster } from '../helpers/fixture.js';
import { rctl, redisCliCheckSettled, tempHome } from '../helpers/rctl.js';

const home = tempHome();
const NAME = 'itest-rb';
const BASE = 7751;
const SEED = `127.0.0.1:${BASE}`;
const KEYS = 50_000;
let cluster: TestCluster | undefined;

const masters = async (): Promise<{ address: string; slotCount: number }[]> => {
  const r = await rctl(['info', '--seed', SEED, '--json'], { home });
  return (r.json?.['nodes'] as { address: string; role: string; slotCount: number }[]).filter((n) => n.role === 'master');
};
const fingerprint = async (): Promise<string> => String((await rctl(['info', '--seed', SEED, '--json'], { home })).json?.['fingerprint']);

describe('rebalance, dry runs, saved plans', () => {
  beforeAll(async () => {
    cluster = await testCluster({ home, name: NAME, base: BASE, replicas: 0, keys: KEYS, emptyMasterAt: BASE + 3 });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('without --use-empty-masters there is nothing to do; --dry-run changes nothing and saves the plan', async () => {
    const before = await fingerprint();
    const none = await rctl(['rebalance', '--seed', SEED, '--yes'], { home });
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toMatch(/no rebalancing needed[\s\S]*--use-empty-masters/);

    const file = join(home, 'plan.json');
    const dry = await rctl(['rebalance', '--seed', SEED, '--use-empty-masters', '--dry-run', '--out', file, '--json'], { home });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json).toMatchObject({ applied: false, dryRun: true, plan: { kind: 'rebalance', slots: 4096 } });
    expect(await fingerprint()).toBe(before);
    expect((await masters()).find((m) => m.address === `127.0.0.1:${BASE + 3}`)?.slotCount).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ rctlPlan: 1, kind: 'rebalance', fingerprint: before });
  });

  it('apply executes the saved plan; the cluster converges within the threshold and keeps every key', async () => {
    const file = join(home, 'plan.json');
    const r = await rctl(['apply', file, '--seed', SEED, '--yes', '--json'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toMatchObject({ applied: true, slotsMoved: 4096, keysBefore: KEYS, keysAfter: KEYS });
    for (const m of await masters()) expect(Math.abs(m.slotCount - 4096)).toBeLessThanOrEqual(1);
    const again = await rctl(['rebalance', '--seed', SEED, '--use-empty-masters', '--yes'], { home });
    expect(again.stdout).toMatch(/no rebalancing needed/);
    expect(await cluster!.badKeys()).toBe(0);
    expect((await redisCliCheckSettled(SEED)).ok).toBe(true);
  });

  it('refuses to apply the same plan again: the cluster changed since (stale), nothing moved', async () => {
    const before = await fingerprint();
    const r = await rctl(['apply', join(home, 'plan.json'), '--seed', SEED, '--yes'], { home });
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/The cluster changed since this plan was made/);
    expect(r.stderr).toMatch(/hint: Make a new plan/);
    expect(await fingerprint()).toBe(before);
  });

  it('refuses a plan made on another cluster, and a file that is not a plan', async () => {
    const foreign = join(home, 'foreign.json');
    const plan = JSON.parse(readFileSync(join(home, 'plan.json'), 'utf8'));
    writeFileSync(foreign, JSON.stringify({ ...plan, fingerprint: '0123456789abcdef', nodes: { ['f'.repeat(40)]: '127.0.0.1:1' } }));
    const r = await rctl(['apply', foreign, '--seed', SEED, '--yes'], { home });
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/changed since this plan was made/);
    const junk = join(home, 'junk.json');
    writeFileSync(junk, '{"hello": 1}');
    const j = await rctl(['apply', junk, '--seed', SEED, '--yes'], { home });
    expect(j.code).toBe(2);
    expect(j.stderr).toMatch(/is not a usable plan/);
  });
});
