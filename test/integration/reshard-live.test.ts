import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countLost, startLoad } from '../../src/failover/load-generator.js';
import { testCluster, type TestCluster } from '../helpers/fixture.js';
import { waitFor } from '../helpers/poll.js';
import { rctl, redisCliCheckSettled, tempHome } from '../helpers/rctl.js';

const home = tempHome();
const NAME = 'itest-rs';
const BASE = 7701;
const KEYS = 200_000;
const seeds = [{ host: '127.0.0.1', port: BASE }];
let cluster: TestCluster | undefined;

describe('reshard 4096 slots to a new master under live traffic', () => {
  beforeAll(async () => {
    cluster = await testCluster({ home, name: NAME, base: BASE, keys: KEYS, emptyMasterAt: BASE + 6 });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('moves every slot asked for, loses no key, and the live client sees no error', async () => {
    const load = startLoad({ seeds, prefix: 'live', maxWrites: 2_000_000, maxMs: 120_000, concurrency: 8, readEvery: 4 });
    await waitFor('the load to get writes acknowledged', () => load.acknowledged() >= 500);
    const r = await rctl(['reshard', '--name', NAME, '--from', 'all', '--to', `127.0.0.1:${BASE + 6}`, '--slots', '4096', '--yes', '--json'], { home });
    // Keep the traffic going until writes are acknowledged after the move too (through the new owner).
    const atEnd = load.acknowledged();
    await waitFor('writes acknowledged after the reshard', () => load.acknowledged() >= atEnd + 500);
    const report = await load.stop();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toMatchObject({ applied: true, slotsMoved: 4096, interrupted: false, healthy: true });
    expect(r.json?.['keysMoved'] as number).toBeGreaterThan(KEYS / 5);
    // Progress events (NDJSON on stderr with --json) were emitted.
    expect(r.stderr).toContain('"event":"progress"');

    // The live client: many writes during the move, none failed, every acknowledged write readable.
    expect(report.acknowledged).toBeGreaterThan(1000);
    expect(report.errors).toEqual({});
    expect(report.failed).toBe(0);
    expect(report.readMismatches).toBe(0);
    expect(await countLost(seeds, 'live', report.acknowledgedIds)).toBe(0);

    // The preloaded data: every key there with its value.
    expect(await cluster!.badKeys()).toBe(0);

    const info = await rctl(['info', '--seed', `127.0.0.1:${BASE}`, '--json'], { home });
    const target = (info.json?.['nodes'] as { address: string; slotCount: number; keys: number }[]).find((n) => n.address === `127.0.0.1:${BASE + 6}`);
    expect(target?.slotCount).toBe(4096);
    expect(target?.keys).toBeGreaterThan(KEYS / 5);
    expect((await rctl(['check', '--seed', `127.0.0.1:${BASE}`], { home })).code).toBe(0);
    expect((await redisCliCheckSettled(`127.0.0.1:${BASE}`)).ok).toBe(true);
  });
});
