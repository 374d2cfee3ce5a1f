import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterClient, countBadKeys, writeKeys } from '../helpers/load.js';
import { rctl, tempHome, waitHealthy } from '../helpers/rctl.js';

// Drills, their writers and write probes leave the user's data exactly as they found it.
const BIN = fileURLToPath(new URL('../../bin/rctl', import.meta.url));
const home = tempHome();
const NAME = 'h3-drill';
const BASE = 8401;
const PORTS = [0, 1, 2, 3, 4, 5].map((i) => BASE + i);
const seeds = [{ host: '127.0.0.1', port: BASE }];
const SNAME = 'h3-sent';
const SBASE = 8451;
const SSENT = 28451;
const USER_KEYS = 100;

type Keys = { prefix: string; written: number; removed: number; kept: number; error?: string };

async function onNode<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

const isMaster = (port: number): Promise<boolean> => onNode(port, async (r) => /role:master/.test(await r.info('replication')));

/** Keys stored over all masters (each key lives on exactly one master). */
async function keysOnMasters(ports: readonly number[]): Promise<number> {
  let sum = 0;
  for (const p of ports) if (await isMaster(p)) sum += await onNode(p, (r) => r.dbsize());
  return sum;
}

/** Keys matching `pattern` over all masters (SCAN, as an operator would look for leftovers). */
async function scanMasters(ports: readonly number[], pattern: string): Promise<number> {
  let n = 0;
  for (const p of ports) {
    if (!(await isMaster(p))) continue;
    n += await onNode(p, async (r) => {
      let cursor = '0';
      let found = 0;
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        found += keys.length;
      } while (cursor !== '0');
      return found;
    });
  }
  return n;
}

const userKeysIntact = async (): Promise<number> => {
  const c = clusterClient(seeds);
  try {
    return await countBadKeys(c, USER_KEYS, 'user');
  } finally {
    c.disconnect();
  }
};

afterAll(async () => {
  await rctl(['destroy', '--name', NAME, '--yes'], { home });
  await rctl(['sentinel', 'destroy', '--name', SNAME, '--yes'], { home });
  rmSync(home, { recursive: true, force: true });
});

describe('cluster drills remove every key they wrote', () => {
  beforeAll(async () => {
    const c = await rctl(['create', '--name', NAME, '--provider', 'process', '--port-base', String(BASE), '--node-timeout', '1000', '--replicas', '1'], { home });
    expect(c.code, c.stderr).toBe(0);
    const client = clusterClient(seeds);
    await writeKeys(client, USER_KEYS, 'user');
    client.disconnect();
    expect(await keysOnMasters(PORTS)).toBe(USER_KEYS);
  });

  it('drill --mode kill --load: the cluster holds exactly the 100 user keys afterwards; roles restore right after exits 0', async () => {
    const r = await rctl(['drill', 'failover', '--name', NAME, '--mode', 'kill', '--load', '--json'], { home, timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const d = r.json as unknown as { keys: Keys; load: { attempted: number; acknowledged: number; lost: number }; healthy: boolean };
    expect(d.keys.prefix).toMatch(/^rctl-drill:[0-9a-f]{12}$/);
    expect(d.load.acknowledged).toBeGreaterThan(100);
    // Every acknowledged write that was not lost is a key the drill wrote and then removed.
    expect(d.keys.written).toBeGreaterThanOrEqual(d.load.acknowledged - d.load.lost);
    expect(d.keys.removed).toBe(d.keys.written);
    expect(d.keys.kept).toBe(0);
    expect(d.keys.error).toBeUndefined();
    expect(await keysOnMasters(PORTS)).toBe(USER_KEYS);
    expect(await userKeysIntact()).toBe(0);
    // Long waits say what they wait for (NDJSON on stderr with --json).
    expect(r.stderr).toMatch(/"event":"waiting","step":"observe the failover","awaiting":"[^"]*PFAIL/);

    const restore = await rctl(['roles', 'restore', '--name', NAME, '--json'], { home, timeoutMs: 120_000 });
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);
    expect(restore.json?.['moved']).toHaveLength(1);
    const masters: number[] = [];
    for (const p of PORTS) if (await isMaster(p)) masters.push(p);
    expect(masters).toEqual([BASE, BASE + 1, BASE + 2]);
  });

  it('rctl failover removes its write probe key', async () => {
    const info = await rctl(['info', '--name', NAME, '--json'], { home });
    const replica = (info.json?.['nodes'] as { address: string; role: string }[]).find((n) => n.role === 'replica')!;
    const r = await rctl(['failover', replica.address, '--name', NAME, '--json'], { home, timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const k = r.json?.['keys'] as Keys;
    expect(k.prefix).toMatch(/^\{rctl-probe:[0-9a-f]{12}-\d+\}$/);
    expect(k.removed).toBe(k.written);
    expect(k.kept).toBe(0);
    expect(await keysOnMasters(PORTS)).toBe(USER_KEYS);
    const back = await rctl(['roles', 'restore', '--name', NAME], { home, timeoutMs: 120_000 });
    expect(back.code, back.stdout + back.stderr).toBe(0);
  });

  it('Ctrl-C in the middle of a drill: the node comes back and the keys go all the same (exit 130)', async () => {
    const child = spawn(process.execPath, [BIN, 'drill', 'failover', '--name', NAME, '--mode', 'kill', '--load'], {
      env: { ...process.env, RCTL_HOME: home, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const code = await new Promise<number>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // Interrupt while rctl watches the failover: the master is down, the writer is writing.
        if (/✓ kill 127\.0\.0\.1/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('close', (c) => resolve(c ?? -1));
    });
    expect(code, stderr).toBe(130);
    const m = /✓ remove the drill's keys \((rctl-drill:[0-9a-f]{12}):\*, \d+ attempted writes\) — (\d+) written, (\d+) removed, 0 kept/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    expect(Number(m![3])).toBe(Number(m![2]));
    expect(Number(m![2])).toBeGreaterThan(0);
    await waitHealthy(`127.0.0.1:${BASE}`, home, 30_000);
    expect(await keysOnMasters(PORTS)).toBe(USER_KEYS);
    expect(await scanMasters(PORTS, `${m![1]}:*`)).toBe(0);
  });

  it('--keep-keys leaves the keys in place and says how many, under which prefix', async () => {
    const r = await rctl(['drill', 'failover', '--name', NAME, '--mode', 'kill', '--load', '--keep-keys'], { home, timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const m = /Keys: (\d+) written, 0 removed, (\d+) kept \(--keep-keys\): they all match (rctl-drill:[0-9a-f]{12}):\*\./.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const kept = Number(m![2]);
    expect(Number(m![1])).toBe(kept);
    expect(kept).toBeGreaterThan(100);
    expect(await keysOnMasters(PORTS)).toBe(USER_KEYS + kept);
    expect(await scanMasters(PORTS, `${m![3]}:*`)).toBe(kept);
    expect(await userKeysIntact()).toBe(0);
  });

  it('help offers no --seed where it would be refused', async () => {
    for (const cmd of [['drill', 'failover'], ['roles', 'restore']]) {
      const h = await rctl([...cmd, '--help'], { home });
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/--name <name>/);
      expect(h.stdout).not.toMatch(/--seed/);
    }
  });
});

describe('Sentinel drill and status', () => {
  beforeAll(async () => {
    const c = await rctl(
      ['sentinel', 'create', '--name', SNAME, '--master-name', 'h3master', '--replicas', '1', '--sentinels', '3', '--quorum', '2', '--down-after', '1000', '--failover-timeout', '10000', '--port-base', String(SBASE), '--sentinel-port-base', String(SSENT), '--provider', 'process'],
      { home },
    );
    expect(c.code, c.stdout + c.stderr).toBe(0);
    await onNode(SBASE, async (r) => {
      for (let i = 0; i < USER_KEYS; i++) await r.set(`user:${i}`, `v:${i}`);
    });
  });

  it('sentinel drill --mode kill --load leaves exactly the user keys', async () => {
    const r = await rctl(['sentinel', 'drill', '--name', SNAME, '--mode', 'kill', '--load', '--json'], { home, timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const d = r.json as unknown as { newMaster: string; keys: Keys; load: { acknowledged: number; lost: number } };
    expect(d.keys.prefix).toMatch(/^rctl-sdrill:[0-9a-f]{12}$/);
    expect(d.load.acknowledged).toBeGreaterThan(100);
    expect(d.keys.written).toBeGreaterThanOrEqual(d.load.acknowledged - d.load.lost);
    expect(d.keys.removed).toBe(d.keys.written);
    expect(d.keys.kept).toBe(0);
    const port = Number(d.newMaster.split(':')[1]);
    expect([SBASE, SBASE + 1]).toContain(port);
    expect(await onNode(port, (r) => r.dbsize())).toBe(USER_KEYS);
    expect(await onNode(port, (r) => r.mget(...Array.from({ length: USER_KEYS }, (_, i) => `user:${i}`)))).toEqual(Array.from({ length: USER_KEYS }, (_, i) => `v:${i}`));
  });

  it('sentinel status --sentinel without --master-name finds the one master the Sentinel monitors', async () => {
    const r = await rctl(['sentinel', 'status', '--sentinel', `127.0.0.1:${SSENT}`, '--json'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toMatchObject({ kind: 'sentinel', masterName: 'h3master', healthy: true });
  });

  it('check --name <Sentinel group> answers with the Sentinel verdict', async () => {
    const j = await rctl(['check', '--name', SNAME, '--json'], { home });
    expect(j.code, j.stdout + j.stderr).toBe(0);
    expect(j.json).toMatchObject({ kind: 'sentinel', masterName: 'h3master', healthy: true });
    expect((j.json?.['sentinels'] as unknown[]).length).toBe(3);
    const h = await rctl(['check', '--name', SNAME], { home });
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/Healthy: every Sentinel names 127\.0\.0\.1:845[12], which is master/);
  });
});
