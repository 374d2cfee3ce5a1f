import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testCluster, type TestCluster } from '../helpers/fixture.js';
import { rctl, redisCliCheck, redisCliCheckSettled, tempHome } from '../helpers/rctl.js';

const BIN = fileURLToPath(new URL('../../bin/rctl', import.meta.url));
const home = tempHome();
const NAME = 'itest-int';
const BASE = 7801;
const SEED = `127.0.0.1:${BASE}`;
const TARGET = `127.0.0.1:${BASE + 3}`;
const KEYS = 200_000;
let cluster: TestCluster | undefined;

/** Start a command, signal it once `ready` matches its output (plus `delayMs`), resolve with its exit. */
function runAndSignal(cmd: string, args: string[], ready: RegExp, signal: NodeJS.Signals, delayMs: number): Promise<{ code: number | null; out: string; signalled: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, RCTL_HOME: home, RCTL_IMAGE: inject('image'), CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let signalled = false;
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (!signalled && ready.test(out)) {
        signalled = true;
        setTimeout(() => child.kill(signal), delayMs);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => resolve({ code, out, signalled }));
  });
}

const keysIntact = (): Promise<number> => cluster!.badKeys();

const checkJson = async (): Promise<{ code: number; codes: string[] }> => {
  const r = await rctl(['check', '--seed', SEED, '--json'], { home });
  return { code: r.code, codes: ((r.json?.['findings'] as { code: string; severity: string }[]) ?? []).filter((f) => f.severity === 'problem').map((f) => f.code) };
};

async function settledCheck(): Promise<{ code: number; codes: string[] }> {
  let c = await checkJson();
  for (let i = 0; i < 25 && c.code !== 0 && !c.codes.includes('OPEN_SLOT'); i++) {
    await new Promise((r) => setTimeout(r, 200));
    c = await checkJson();
  }
  return c;
}

describe('interrupted reshards', () => {
  beforeAll(async () => {
    cluster = await testCluster({ home, name: NAME, base: BASE, replicas: 0, keys: KEYS, emptyMasterAt: BASE + 3 });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('Ctrl-C stops at a safe point (no open slot, keys intact) and the saved remaining plan completes the job', async () => {
    const r = await runAndSignal(process.execPath, [BIN, 'reshard', '--seed', SEED, '--from', 'all', '--to', TARGET, '--slots', '6000', '--pipeline', '2', '--yes'], /… reshard: \d+\/6000/, 'SIGINT', 0);
    expect(r.code, r.out).toBe(130);
    expect(r.out).toContain('stopping at the next safe point');
    expect(r.out).toContain('No slot is open');
    const file = /rctl apply (\S+)/.exec(r.out)?.[1];
    expect(file).toBeTruthy();
    const moved = Number(/moved (\d+) slot\(s\)/.exec(r.out)?.[1]);
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(6000);
    expect(await checkJson()).toEqual({ code: 0, codes: [] });
    expect(await keysIntact()).toBe(0);

    const resume = await rctl(['apply', file!, '--seed', SEED, '--yes', '--json'], { home });
    expect(resume.code, resume.stdout + resume.stderr).toBe(0);
    expect((resume.json?.['slotsMoved'] as number) + moved).toBe(6000);
    const info = await rctl(['info', '--seed', SEED, '--json'], { home });
    expect((info.json?.['nodes'] as { address: string; slotCount: number }[]).find((n) => n.address === TARGET)?.slotCount).toBe(6000);
    expect(await keysIntact()).toBe(0);
  });

  it('SIGKILL of rctl mid-reshard: check reports the open slots, fix repairs them, redis-cli agrees, no key lost', async () => {
    let opened = false;
    for (let attempt = 0; attempt < 4 && !opened; attempt++) {
      // Move slots back from the target to the first master; kill inside a wave.
      await runAndSignal(process.execPath, [BIN, 'reshard', '--seed', SEED, '--from', TARGET, '--to', SEED, '--slots', '3000', '--pipeline', '1', '--yes'], /… reshard: \d+\/3000/, 'SIGKILL', 150 + attempt * 100);
      // A kill between SETSLOT NODE on source and on the other masters leaves a moment of
      // disagreement that gossip settles: wait for either an open slot or a healthy cluster.
      const c = await settledCheck();
      opened = c.codes.includes('OPEN_SLOT');
      if (!opened) expect(c).toEqual({ code: 0, codes: [] });
    }
    expect(opened).toBe(true);
    expect((await redisCliCheck(SEED)).ok).toBe(false);

    const fix = await rctl(['fix', '--seed', SEED, '--yes'], { home });
    expect(fix.code, fix.stdout + fix.stderr).toBe(0);
    expect(fix.stdout).toMatch(/finished the move|closed/);
    expect(fix.stdout).toMatch(/none lost/);
    expect(await checkJson()).toEqual({ code: 0, codes: [] });
    expect((await redisCliCheckSettled(SEED)).ok).toBe(true);
    expect(await keysIntact()).toBe(0);
  });

  it('a slot left open by a killed redis-cli --cluster reshard is repaired the same way', async () => {
    const info = await rctl(['info', '--seed', SEED, '--json'], { home });
    const targetId = (info.json?.['nodes'] as { id: string; address: string }[]).find((n) => n.address === TARGET)!.id;
    const r = await runAndSignal('redis-cli', ['--cluster', 'reshard', SEED, '--cluster-from', 'all', '--cluster-to', targetId, '--cluster-slots', '2000', '--cluster-yes', '--cluster-pipeline', '1'], /Moving slot \d+ from .*\n.*Moving slot/, 'SIGKILL', 50);
    expect(r.signalled).toBe(true);
    const c = await settledCheck();
    expect(c.codes).toContain('OPEN_SLOT');
    const fix = await rctl(['fix', '--seed', SEED, '--yes', '--json'], { home });
    expect(fix.code, fix.stdout + fix.stderr).toBe(0);
    expect(fix.json).toMatchObject({ healthy: true, keysBefore: KEYS, keysAfter: KEYS });
    expect((await redisCliCheckSettled(SEED)).ok).toBe(true);
    expect(await keysIntact()).toBe(0);
  });
});
