import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Dogfood: a chaos test written against the public API, imported as a user imports it.
import { createCluster, destroyCluster, DeclinedError, fromPlanFile, listClusters, RctlError, toPlanFile, type ClusterHandle, type RctlEvent } from 'rctl';
import { clusterClient, countBadKeys, writeKeys } from '../helpers/load.js';
import { tempHome } from '../helpers/rctl.js';
import { pollUntil } from '../helpers/poll.js';

const BASE = 9601; // 6 process nodes 9601-9606, bus 19601-19606
const NAME = 'api';
const KEYS = 2000;
const home = tempHome();

describe('the public API on a real cluster (process provider, 3x1)', () => {
  let c: ClusterHandle;
  const seeds = [{ host: '127.0.0.1', port: BASE }];

  beforeAll(async () => {
    process.env['RCTL_HOME'] = home;
    const created = await createCluster({ name: NAME, provider: 'process', masters: 3, replicas: 1, portBase: BASE, nodeTimeoutMs: 2000 });
    expect(created.record.nodes).toHaveLength(6);
    c = await created.open();
    const client = clusterClient(seeds);
    await writeKeys(client, KEYS);
    client.disconnect();
  });

  afterAll(async () => {
    await c?.close();
    process.env['RCTL_HOME'] = home;
    await destroyCluster(NAME).catch(() => undefined);
  });

  it('check() gives the same verdict as `rctl check`, as typed data', async () => {
    const r = await c.check();
    expect(r.healthy).toBe(true);
    expect(r.findings.filter((f) => f.severity === 'problem')).toEqual([]);
    expect(r.lease).toBeNull();
    const [owner] = await c.slotOf('user:1');
    expect(owner?.owner?.address).toMatch(/^127\.0\.0\.1:96\d\d$/);
  });

  it('a plan is pure and serialisable; apply() moves it with progress events; keys all there', async () => {
    const info = await c.info();
    const masters = info.nodes.filter((n) => n.role === 'master');
    const plan = await c.planReshard({ from: 'all', to: masters[0]!.id, slots: 300 });
    const again = fromPlanFile(JSON.parse(JSON.stringify(toPlanFile(plan))));
    expect(again.fingerprint).toBe(plan.fingerprint);
    const events: RctlEvent[] = [];
    const out = await c.apply(again, { onEvent: (e) => events.push(e) });
    expect(out.applied).toBe(true);
    if (!out.applied) return;
    expect(out.result.interrupted).toBe(false);
    expect(out.result.check.healthy).toBe(true);
    expect(events.some((e) => e.type === 'step-done' || e.type === 'progress')).toBe(true);
    const client = clusterClient(seeds);
    expect(await countBadKeys(client, KEYS)).toBe(0);
    client.disconnect();
    // The same plan on the changed cluster is refused with a typed error, nothing moved.
    const stale = await c.apply(plan).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(RctlError);
    expect((stale as RctlError).code).toBe('REFUSED');
  });

  it('a "no" from confirm changes nothing (DeclinedError); an aborted signal stops before moving', async () => {
    const before = (await c.info()).fingerprint;
    const declined = await c.rebalance({}, { confirm: async () => false }).catch((e: unknown) => e);
    expect(declined).toBeInstanceOf(DeclinedError);
    expect((await c.info()).fingerprint).toBe(before);
    const ac = new AbortController();
    ac.abort();
    const aborted = await c.rebalance({}, { signal: ac.signal }).catch((e: unknown) => e);
    if (aborted instanceof RctlError) expect(aborted.code).toBe('INTERRUPTED');
    else expect((aborted as { applied: boolean; result?: { interrupted: boolean } }).result?.interrupted ?? true).toBe(true);
    const after = await c.check();
    expect(after.findings.filter((f) => f.code === 'OPEN_SLOT')).toEqual([]);
  });

  it('faults are method calls: kill a replica, recover it, the cluster heals', async () => {
    const f = await c.kill({ role: 'replica', index: 0 });
    expect(f.role).toBe('replica');
    await f.recover();
    const healed = await pollUntil(() => c.check(), (r) => r.healthy, { timeoutMs: 30_000, intervalMs: 500 });
    expect(healed.healthy).toBe(true);
  });

  it('drillFailover() returns the typed report of `rctl drill failover --json`; nothing lost', async () => {
    const d = await c.drillFailover({ mode: 'kill', load: true });
    expect(d.load?.lost).toBe(0);
    expect(d.load?.acknowledged).toBeGreaterThan(0);
    // The faulted master rejoined as a replica of exactly the node the drill names.
    expect(d.snapshot.nodes.find((n) => n.id === d.master.id)?.self.masterId).toBe(d.newMaster);
    expect(d.check.healthy).toBe(true);
    const client = clusterClient(seeds);
    expect(await countBadKeys(client, KEYS)).toBe(0);
    client.disconnect();
  });

  it('destroyCluster() removes it: listClusters() no longer names it', async () => {
    await c.close();
    process.env['RCTL_HOME'] = home;
    const d = await destroyCluster(NAME);
    expect(d.nodes).toBe(6);
    expect((await listClusters()).map((r) => r.name)).not.toContain(NAME);
  });
});
