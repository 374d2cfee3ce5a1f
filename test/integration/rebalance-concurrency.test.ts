import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterClient, countBadKeys, writeKeys } from '../helpers/load.js';
import { rctl, redisCliCheckSettled, tempHome } from '../helpers/rctl.js';

// Ports 9201-9299 (bus +10000) belong to this file.
const home = tempHome();
const NAME = 'itest-rbc';
const BASE = 9201;
const SEED = `127.0.0.1:${BASE}`;
const KEYS = 30_000;
const seeds = [{ host: '127.0.0.1', port: BASE }];

type Node = { id: string; address: string; role: string; slots: { start: number; end: number }[]; slotCount: number; keys: number };
type Move = { from: string; to: string; slots: number; ranges: { start: number; end: number }[]; keys?: number | null };

const info = async (): Promise<{ nodes: Node[]; fingerprint: string }> => {
  const r = await rctl(['info', '--name', NAME, '--json'], { home });
  expect(r.code, r.stderr).toBe(0);
  return { nodes: r.json?.['nodes'] as Node[], fingerprint: String(r.json?.['fingerprint']) };
};
/** Who owns what, by address (ids are per node, addresses are what a user sees). */
const slotMap = (nodes: Node[]): Record<string, string> =>
  Object.fromEntries(
    nodes
      .filter((n) => n.role === 'master')
      .map((n) => [n.address, n.slots.map((r) => `${r.start}-${r.end}`).join(',')])
      .sort(),
  );
/** A plan's pairs without their key estimates (those count the lease key, which only a run that changes something holds). */
const pairs = (j: Record<string, unknown> | undefined): Omit<Move, 'keys'>[] => ((j?.['plan'] as { moves: Move[] }).moves ?? []).map(({ from, to, slots, ranges }) => ({ from, to, slots, ranges }));
const keysOnMasters = (nodes: Node[]): number => nodes.filter((n) => n.role === 'master').reduce((a, n) => a + n.keys, 0);
const bad = async (): Promise<number> => {
  const c = clusterClient(seeds);
  try {
    return await countBadKeys(c, KEYS);
  } finally {
    c.disconnect();
  }
};

describe('scale-out by 2 masters at once, then rebalance with --concurrency 2 and 1: same end state, no key lost', () => {
  beforeAll(async () => {
    const c = await rctl(['create', '--name', NAME, '--provider', 'process', '--masters', '3', '--replicas', '0', '--port-base', String(BASE)], { home });
    expect(c.code, c.stderr).toBe(0);
    const client = clusterClient(seeds);
    await writeKeys(client, KEYS);
    client.disconnect();
  });
  afterAll(async () => {
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  it('scale-out --masters 2 adds both masters, then one rebalance moves the fewest slots onto them', async () => {
    const dry = await rctl(['scale-out', '--name', NAME, '--masters', '2', '--replicas', '0', '--concurrency', '2', '--dry-run', '--json'], { home });
    expect(dry.code, dry.stderr).toBe(0);
    expect((dry.json?.['steps'] as { kind: string }[]).map((s) => s.kind)).toEqual(['provision', 'add-master', 'add-master', 'rebalance', 'check']);

    const out = await rctl(['scale-out', '--name', NAME, '--masters', '2', '--replicas', '0', '--concurrency', '2', '--yes', '--json'], { home, timeoutMs: 170_000 });
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(out.json).toMatchObject({ applied: true, healthy: true, masters: 5 });
    // 5461/5462/5461 -> shares of 3276 with 4 slots of remainder kept by the three givers and one
    // taker: only the givers' surplus moves (2185 + 2186 + 2185 - 3 = 6553 slots).
    const rebalance = (out.json?.['steps'] as { step: string; detail: string }[]).find((s) => /rebalance/.test(s.step));
    expect(rebalance?.detail).toMatch(/^6553 slots, \d+ keys moved$/);
    const { nodes } = await info();
    const masters = nodes.filter((n) => n.role === 'master');
    expect(masters.map((m) => m.slotCount).sort()).toEqual([3276, 3277, 3277, 3277, 3277]);
    expect(keysOnMasters(nodes)).toBe(KEYS);
    expect(await bad()).toBe(0);
  });

  it('rebalance --concurrency 2 and --concurrency 1 from the same state run the same plan to the same end state, every key kept', async () => {
    const start = await info();
    const first = start.nodes.find((n) => n.address === SEED)!;
    const weight = ['--weight', `${first.id}=3`];
    const planFile = join(home, 'weighted.json');
    const dry = await rctl(['rebalance', '--name', NAME, ...weight, '--dry-run', '--out', planFile, '--json'], { home });
    expect(dry.code, dry.stderr).toBe(0);
    const planned = pairs(dry.json);
    expect(planned.length).toBeGreaterThan(1);
    // Total weight 7: the first master's share is floor(16384 / 7 * 3) = 7021, it holds 3277.
    expect((dry.json?.['plan'] as { slots: number }).slots).toBe(7021 - 3277);

    const two = await rctl(['rebalance', '--name', NAME, ...weight, '--concurrency', '2', '--yes', '--json'], { home, timeoutMs: 170_000 });
    expect(two.code, two.stdout + two.stderr).toBe(0);
    expect(pairs(two.json)).toEqual(planned);
    expect(two.json).toMatchObject({ applied: true, healthy: true, slotsMoved: 7021 - 3277, keysBefore: KEYS, keysAfter: KEYS });
    const end2 = await info();
    expect(end2.fingerprint).toBe(two.json?.['fingerprint']);
    expect(end2.nodes.find((n) => n.address === SEED)!.slotCount).toBe(7021);
    expect(keysOnMasters(end2.nodes)).toBe(KEYS);
    expect(await bad()).toBe(0);

    // Back to the start exactly: the same batches in reverse order, each from its target to its source.
    const plan = JSON.parse(readFileSync(planFile, 'utf8')) as { fingerprint: string; waves: { from: string; to: string; slots: string }[][] };
    const back = { ...plan, fingerprint: end2.fingerprint, notes: ['the weighted rebalance undone'], waves: [...plan.waves].reverse().map((w) => w.map((b) => ({ from: b.to, to: b.from, slots: b.slots }))) };
    const backFile = join(home, 'back.json');
    writeFileSync(backFile, JSON.stringify(back));
    const undo = await rctl(['apply', backFile, '--name', NAME, '--concurrency', '2', '--yes', '--json'], { home, timeoutMs: 170_000 });
    expect(undo.code, undo.stdout + undo.stderr).toBe(0);
    expect(undo.json).toMatchObject({ applied: true, healthy: true, keysBefore: KEYS, keysAfter: KEYS, fingerprint: start.fingerprint });
    expect(slotMap((await info()).nodes)).toEqual(slotMap(start.nodes));

    const one = await rctl(['rebalance', '--name', NAME, ...weight, '--concurrency', '1', '--yes', '--json'], { home, timeoutMs: 170_000 });
    expect(one.code, one.stdout + one.stderr).toBe(0);
    expect(pairs(one.json)).toEqual(planned);
    expect(one.json).toMatchObject({ applied: true, healthy: true, slotsMoved: 7021 - 3277, keysBefore: KEYS, keysAfter: KEYS, fingerprint: end2.fingerprint });
    const end1 = await info();
    expect(slotMap(end1.nodes)).toEqual(slotMap(end2.nodes));
    expect(keysOnMasters(end1.nodes)).toBe(KEYS);
    expect(await bad()).toBe(0);
    expect((await redisCliCheckSettled(SEED)).ok).toBe(true);
  });
});
