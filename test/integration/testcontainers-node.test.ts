import { execFileSync, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisNodeContainer, natMapOf, type StartedRedisNode } from '../../src/testcontainers/node-container.js';
import { reservePorts, type PortReservation } from '../../src/testcontainers/ports.js';
import { LABEL_SESSION, SESSION_ID } from '../../src/testcontainers/session.js';

// testcontainers' reaper image cannot be pulled here; this module must work without it.
process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
const range = { min: 12000, max: 12999 };
const started: StartedRedisNode[] = [];
const held: PortReservation[] = [];
afterAll(async () => {
  await Promise.all(started.map((n) => n.stop().catch(() => undefined)));
  for (const r of held) r.release();
});

const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const cluster = (tag: string): string => `tc-test-${tag}-${process.pid}`;

async function ping(addr: { host: string; port: number }, password?: string): Promise<unknown> {
  const r = new Redis({ ...addr, ...(password ? { password } : {}), lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await r.connect();
    return await r.call('CLUSTER', 'INFO');
  } finally {
    r.disconnect();
  }
}

describe('RedisNodeContainer', () => {
  it('host networking: a cluster-enabled node with a password that never shows in docker inspect', async () => {
    const [p] = await reservePorts(1, { range });
    held.push(p!);
    const password = 'tc-s3cret-pw';
    const node = await new RedisNodeContainer({ cluster: cluster('host'), index: 1, port: p!.port, password, nodeTimeoutMs: 1000 }).start();
    started.push(node);
    expect(node.getExternalAddress()).toEqual({ host: '127.0.0.1', port: p!.port });
    expect(String(await ping(node.getExternalAddress(), password))).toMatch(/cluster_state:fail/);
    const inspect = docker('inspect', node.getId());
    expect(inspect).not.toContain(password);
    const labels = JSON.parse(docker('inspect', '--format', '{{json .Config.Labels}}', node.getId())) as Record<string, string>;
    expect(labels).toMatchObject({ 'io.rctl.cluster': cluster('host'), 'io.rctl.kind': 'redis-node', 'io.rctl.index': '1', [LABEL_SESSION]: SESSION_ID });
    expect(docker('inspect', '--format', '{{json .Args}}', node.getId())).toContain('--cluster-node-timeout');
    await expect(ping(node.getExternalAddress())).rejects.toThrow(/NOAUTH/);
    expect(node.getConnectionUrl()).toBe(`redis://:${password}@127.0.0.1:${p!.port}`);
    await node.stop();
    started.splice(started.indexOf(node), 1);
    expect(docker('ps', '-aq', '--filter', `label=io.rctl.cluster=${cluster('host')}`)).toBe('');
  });

  it('bridge networking: published on loopback only, reached through natMap', async () => {
    const node = await new RedisNodeContainer({ cluster: cluster('bridge'), index: 1, network: 'bridge', nodeTimeoutMs: 1000 }).start();
    started.push(node);
    const ext = node.getExternalAddress();
    expect(ext.host).toBe('127.0.0.1');
    const bindings = JSON.parse(docker('inspect', '--format', '{{json .HostConfig.PortBindings}}', node.getId())) as Record<string, { HostIp: string }[]>;
    expect(bindings['6379/tcp']?.[0]?.HostIp).toBe('127.0.0.1');
    const inner = node.getClusterAddress();
    expect(inner.port).toBe(6379);
    expect(natMapOf([node])).toEqual({ [`${inner.host}:6379`]: ext });
    expect(String(await ping(ext))).toMatch(/cluster_enabled:1|cluster_state/);
  });

  it('a node whose port is taken fails fast with the container log, and leaves nothing behind', async () => {
    const [p] = await reservePorts(1, { range });
    held.push(p!);
    const first = await new RedisNodeContainer({ cluster: cluster('clash'), index: 1, port: p!.port }).start();
    started.push(first);
    const t0 = Date.now();
    const err = await new RedisNodeContainer({ cluster: cluster('clash'), index: 2, port: p!.port, startupTimeoutMs: 20_000 }).start().catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(String(err)).toMatch(/exited with code 1; its last log lines:[\s\S]*Address already in use/);
    expect(docker('ps', '-aq', '--filter', `name=${cluster('clash')}-node-2`)).toBe('');
  });

  it('the watchdog removes the containers of a test process that was SIGKILLed', async () => {
    const [p] = await reservePorts(1, { range });
    held.push(p!);
    p!.release(); // the child takes it
    const mod = new URL('../../dist/testcontainers/node-container.js', import.meta.url).href;
    const name = cluster('orphan');
    const script = `const { RedisNodeContainer } = await import(${JSON.stringify(mod)});
      await new RedisNodeContainer({ cluster: ${JSON.stringify(name)}, index: 1, port: ${p!.port} }).start();
      process.stdout.write('started\\n'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TESTCONTAINERS_RYUK_DISABLED: 'true' } });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => ((out += d), out.includes('started') && resolve()));
      child.stderr.on('data', (d: Buffer) => (out += d));
      child.on('exit', () => reject(new Error(out)));
    });
    expect(docker('ps', '-q', '--filter', `label=io.rctl.cluster=${name}`)).not.toBe('');
    child.kill('SIGKILL');
    const deadline = Date.now() + 20_000;
    let left = 'x';
    while (left !== '' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      left = docker('ps', '-aq', '--filter', `label=io.rctl.cluster=${name}`);
    }
    expect(left).toBe('');
  });
});
