import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testCluster, type TestCluster } from '../helpers/fixture.js';
import { freezeWithSlotOpen, nodeConnections } from '../helpers/freeze.js';
import { exec, rctl, redisCliCheck, redisCliCheckSettled, tempHome } from '../helpers/rctl.js';

const BIN = fileURLToPath(new URL('../../bin/rctl', import.meta.url));
const home = tempHome();
const NAME = 'itest-int';
const BASE = 7801;
const SEED = `127.0.0.1:${BASE}`;
const TARGET = `127.0.0.1:${BASE + 3}`;
const PORTS = [BASE, BASE + 1, BASE + 2, BASE + 3];
const KEYS = 200_000;
let cluster: TestCluster | undefined;

/** Start rctl as a user would (no TTY, CI=true), collecting its output. */
function start(args: string[]): { child: ChildProcess; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, RCTL_HOME: home, RCTL_IMAGE: inject('image'), CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const onData = (d: Buffer): void => {
    out += d.toString();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return { child, exit: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out }))) };
}

const keysIntact = (): Promise<number> => cluster!.badKeys();

type Finding = { code: string; severity: string; slots?: { start: number; end: number }[] };
const checkJson = async (): Promise<{ code: number; codes: string[]; openSlots: number[] }> => {
  const r = await rctl(['check', '--seed', SEED, '--json'], { home });
  const problems = ((r.json?.['findings'] as Finding[]) ?? []).filter((f) => f.severity === 'problem');
  const openSlots = [...new Set(problems.filter((f) => f.code === 'OPEN_SLOT').flatMap((f) => (f.slots ?? []).flatMap((x) => Array.from({ length: x.end - x.start + 1 }, (_, i) => x.start + i))))].sort((a, b) => a - b);
  return { code: r.code, codes: [...new Set(problems.map((f) => f.code))].sort(), openSlots };
};

const nodeIds = async (): Promise<Record<string, string>> => {
  const info = await rctl(['info', '--seed', SEED, '--json'], { home });
  return Object.fromEntries((info.json?.['nodes'] as { id: string; address: string }[]).map((n) => [n.address, n.id]));
};

describe('interrupted reshards', () => {
  beforeAll(async () => {
    cluster = await testCluster({ home, name: NAME, base: BASE, replicas: 0, keys: KEYS, emptyMasterAt: BASE + 3 });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('Ctrl-C stops at a safe point (no open slot, keys intact) and the saved remaining plan completes the job', async () => {
    const { child, exit } = start(['reshard', '--seed', SEED, '--from', 'all', '--to', TARGET, '--slots', '6000', '--pipeline', '2', '--yes']);
    // Ctrl-C once the first wave has been reported: rctl honours it between waves (never inside one),
    // so wherever it lands, it stops with whole waves done and some left.
    let signalled = false;
    let seen = '';
    const watch = (d: Buffer): void => {
      seen += d.toString();
      if (!signalled && /… reshard: [1-9]\d*\/6000/.test(seen)) {
        signalled = true;
        child.kill('SIGINT');
      }
    };
    child.stdout!.on('data', watch);
    child.stderr!.on('data', watch);
    const r = await exit;
    expect(signalled, r.out).toBe(true);
    expect(r.code, r.out).toBe(130);
    expect(r.out).toContain('stopping at the next safe point');
    expect(r.out).toContain('No slot is open');
    const file = /rctl apply (\S+)/.exec(r.out)?.[1];
    expect(file).toBeTruthy();
    const moved = Number(/moved (\d+) slot\(s\)/.exec(r.out)?.[1]);
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(6000);
    expect(await checkJson()).toEqual({ code: 0, codes: [], openSlots: [] });
    expect(await keysIntact()).toBe(0);

    const resume = await rctl(['apply', file!, '--seed', SEED, '--yes', '--json'], { home });
    expect(resume.code, resume.stdout + resume.stderr).toBe(0);
    expect((resume.json?.['slotsMoved'] as number) + moved).toBe(6000);
    const info = await rctl(['info', '--seed', SEED, '--json'], { home });
    expect((info.json?.['nodes'] as { address: string; slotCount: number }[]).find((n) => n.address === TARGET)?.slotCount).toBe(6000);
    expect(await keysIntact()).toBe(0);
  });

  it('SIGKILL of rctl mid-reshard: check reports the open slots, fix repairs them, redis-cli agrees, no key lost', async () => {
    // Move slots back from the target to the first master; freeze rctl inside a batch, then kill it:
    // the slots it had open stay open, exactly those (nothing runs between the freeze and the kill).
    const nodes = nodeConnections(PORTS);
    let open: Awaited<ReturnType<typeof freezeWithSlotOpen>>;
    const { child, exit } = start(['reshard', '--seed', SEED, '--from', TARGET, '--to', SEED, '--slots', '3000', '--pipeline', '1', '--yes']);
    try {
      open = await freezeWithSlotOpen(child, PORTS, BASE + 3, nodes.at);
    } finally {
      child.kill('SIGKILL');
      nodes.close();
    }
    expect((await exit).signal).toBe('SIGKILL');
    // Each open slot migrates on the source and imports on the destination, as rctl opened them.
    expect([...open.migrating.keys()].sort((a, b) => a - b)).toEqual(open.slots);
    expect([...open.importing.keys()].sort((a, b) => a - b)).toEqual(open.slots);
    expect(new Set(open.migrating.values())).toEqual(new Set([BASE + 3]));
    expect(new Set(open.importing.values())).toEqual(new Set([BASE]));

    // The destination holds keys of slots it does not own yet: redis-cli's "multiple owners" too.
    expect(await checkJson()).toEqual({ code: 1, codes: ['MULTIPLE_OWNERS', 'OPEN_SLOT'], openSlots: open.slots });
    expect((await redisCliCheck(SEED)).ok).toBe(false);

    // The killed rctl still holds the cluster's lease (it expires by TTL): breaking it is the documented way on.
    const fix = await rctl(['fix', '--seed', SEED, '--yes', '--break-lock', '--json'], { home });
    expect(fix.code, fix.stdout + fix.stderr).toBe(0);
    const actions = fix.json?.['actions'] as string[];
    expect(actions.filter((a) => /finished the move/.test(a))).toHaveLength(open.slots.length);
    for (const slot of open.slots) expect(actions).toContainEqual(expect.stringMatching(new RegExp(`^slot ${slot}: finished the move ${TARGET} -> ${SEED} \\(\\d+ keys\\)$`)));
    expect(fix.json).toMatchObject({ healthy: true, keysBefore: KEYS, keysAfter: KEYS });
    expect(await checkJson()).toEqual({ code: 0, codes: [], openSlots: [] });
    expect((await redisCliCheckSettled(SEED)).ok).toBe(true);
    expect(await keysIntact()).toBe(0);
  });

  it('a slot left open by a killed redis-cli --cluster reshard is repaired the same way', async () => {
    // What a SIGKILL of `redis-cli --cluster reshard` leaves, built step by step the way redis-cli's
    // moveSlot does it (IMPORTING on the target, MIGRATING on the source, then GETKEYSINSLOT +
    // MIGRATE in pipelines), stopped after the first MIGRATE: some keys moved, the rest not.
    const ids = await nodeIds();
    const src = new Redis({ port: BASE + 1 });
    const first = String(await src.call('CLUSTER', 'NODES')).split('\n').find((l) => l.includes('myself'))!.split(' ')[8]!;
    let slot = Number(first.split('-')[0]);
    while (Number(await src.call('CLUSTER', 'COUNTKEYSINSLOT', String(slot))) < 4) slot++;
    const keys = (await src.call('CLUSTER', 'GETKEYSINSLOT', String(slot), '1000')) as string[];
    src.disconnect();
    expect(keys.length).toBeGreaterThanOrEqual(4);
    const half = keys.slice(0, Math.floor(keys.length / 2));
    const cli = async (port: number, ...args: string[]): Promise<string> => {
      const r = await exec('redis-cli', ['-p', String(port), ...args]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    expect(await cli(BASE + 3, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', ids[`127.0.0.1:${BASE + 1}`]!)).toBe('OK');
    expect(await cli(BASE + 1, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', ids[TARGET]!)).toBe('OK');
    expect(await cli(BASE + 1, 'MIGRATE', '127.0.0.1', String(BASE + 3), '', '0', '5000', 'KEYS', ...half)).toBe('OK');

    expect(await checkJson()).toEqual({ code: 1, codes: ['MULTIPLE_OWNERS', 'OPEN_SLOT'], openSlots: [slot] });
    expect((await redisCliCheck(SEED)).ok).toBe(false);
    const fix = await rctl(['fix', '--seed', SEED, '--yes', '--json'], { home });
    expect(fix.code, fix.stdout + fix.stderr).toBe(0);
    expect(fix.json?.['actions']).toEqual([`slot ${slot}: finished the move 127.0.0.1:${BASE + 1} -> ${TARGET} (${keys.length - half.length} keys)`]);
    expect(fix.json).toMatchObject({ healthy: true, keysBefore: KEYS, keysAfter: KEYS });
    expect((await redisCliCheckSettled(SEED)).ok).toBe(true);
    expect(await keysIntact()).toBe(0);
  });
});
