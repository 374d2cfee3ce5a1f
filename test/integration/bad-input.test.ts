import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { dockerLeftovers, exec, rctl, tempHome, type RunResult } from '../helpers/rctl.js';

const home = tempHome();

/** One clear sentence + hint, the documented exit code, no stack trace. */
function expectCleanError(r: RunResult, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).toMatch(/^hint: /m);
  expect(r.stderr).not.toMatch(/\n\s+at .*\(/);
}

const nothingRecorded = (): string[] => {
  try {
    return readdirSync(join(home, 'clusters'));
  } catch {
    return [];
  }
};

describe('bad input: usage errors (exit 2), nothing started', () => {
  it.each([
    [['create', '--masters', '2'], /--masters must be an integer of at least 3, got 2/],
    [['create', '--replicas', '-1'], /--replicas must be an integer of at least 0, got -1/],
    [['create', '--masters', 'three'], /--masters must be an integer, got "three"/],
    [['create', '--port-base', '65000'], /does not leave room/],
    [['create', '--provider', 'vm'], /--provider must be one of docker, process/],
    [['create', '--network', 'overlay'], /--network must be one of host, bridge/],
    [['create', '--name', 'bad name!'], /is not a valid name/],
    [['info', '--seed', 'localhost'], /--seed "localhost" is not host:port/],
  ])('%j', async (args, pattern) => {
    const r = await rctl(args, { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(nothingRecorded()).toEqual([]);
  });

  it('--json turns the error into {"ok": false, error: {code, message, hint}}', async () => {
    const r = await rctl(['create', '--masters', '1', '--json'], { home });
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ ok: false, error: { code: 'USAGE', exitCode: 2 } });
  });

  it('destroy without --yes and without a terminal refuses and names the flag', async () => {
    const c = await rctl(['create', '--name', 'confirm', '--provider', 'process', '--replicas', '0', '--port-base', '7651'], { home });
    expect(c.code).toBe(0);
    const r = await rctl(['destroy', '--name', 'confirm'], { home });
    expectCleanError(r, 2, /needs confirmation/);
    expect(r.stderr).toContain('--yes');
    expect((await rctl(['check', '--name', 'confirm'], { home })).code).toBe(0);
    expect((await rctl(['destroy', '--name', 'confirm', '--yes'], { home })).code).toBe(0);
  });
});

describe('bad input: environment (exit 5), nothing left behind', () => {
  let blocker: Server | undefined;
  afterAll(() => blocker?.close());

  it('port range taken: names the port, starts nothing', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(7603, '127.0.0.1', r));
    const r = await rctl(['create', '--name', 'ports', '--provider', 'docker', '--port-base', '7601'], { home });
    expectCleanError(r, 5, /Port 7603 on 127.0.0.1 is already in use/);
    expect(await dockerLeftovers('ports')).toEqual([]);
    expect(nothingRecorded()).toEqual([]);
  });

  it('missing image that cannot be pulled: names --image and setup', async () => {
    const r = await rctl(['create', '--name', 'noimg', '--provider', 'docker', '--image', 'rctl-test/absent:0', '--port-base', '7611'], { home });
    expectCleanError(r, 5, /Image rctl-test\/absent:0 is not present and could not be pulled/);
    expect(r.stderr).toMatch(/--image.*RCTL_IMAGE.*`rctl setup`/);
    expect(await dockerLeftovers('noimg')).toEqual([]);
    expect(nothingRecorded()).toEqual([]);
  });

  it('no Docker engine: suggests --provider process', async () => {
    const r = await rctl(['create', '--name', 'nodocker', '--provider', 'docker', '--port-base', '7621'], { home, env: { DOCKER_HOST: 'unix:///tmp/rctl-no-such.sock' } });
    expectCleanError(r, 5, /No Docker engine answers at unix:\/\/\/tmp\/rctl-no-such.sock/);
    expect(r.stderr).toContain('--provider process');
    expect(nothingRecorded()).toEqual([]);
  });

  it('a node that never starts: says so with its diagnosis and removes everything', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'rctl-fakebin-'));
    const fake = join(bin, 'redis-server');
    writeFileSync(fake, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "Redis server v=7.0.15"; exit 0; fi\nexit 1\n');
    chmodSync(fake, 0o755);
    const r = await rctl(['create', '--name', 'nostart', '--provider', 'process', '--port-base', '7631'], { home, env: { PATH: `${bin}:${process.env['PATH']}` } });
    expectCleanError(r, 5, /did not start: redis-server \(pid \d+\) is not running/);
    expect(nothingRecorded()).toEqual([]);
  });

  it('no redis-server on PATH: suggests setup or --provider docker', async () => {
    const r = await rctl(['create', '--name', 'nobin', '--provider', 'process', '--port-base', '7641'], { home, env: { PATH: '/nonexistent' } });
    expectCleanError(r, 5, /redis-server was not found on PATH/);
    expect(nothingRecorded()).toEqual([]);
  });
});

describe('bad input: unreachable, refused (exit 3, 6)', () => {
  const procs: ChildProcess[] = [];
  afterAll(() => {
    for (const p of procs) p.kill('SIGKILL');
  });
  const startNode = (port: number): ChildProcess => {
    const dir = mkdtempSync(join(tmpdir(), 'rctl-node-'));
    const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--dir', dir, '--save', '', '--enable-debug-command', 'yes'], { stdio: 'ignore' });
    procs.push(p);
    return p;
  };
  const waitPing = async (port: number): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      const r = await exec('redis-cli', ['-p', String(port), 'ping']);
      if (r.stdout.includes('PONG')) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`node ${port} did not start`);
  };

  it('seed unreachable: exit 3 naming the address', async () => {
    const r = await rctl(['check', '--seed', '127.0.0.1:7699'], { home });
    expectCleanError(r, 3, /Cannot reach Redis at 127.0.0.1:7699 \(connection refused\)/);
  });

  it('unknown cluster name: exit 6 pointing to rctl ls and --seed', async () => {
    const r = await rctl(['info', '--name', 'nope'], { home });
    expectCleanError(r, 6, /rctl has no cluster named "nope"/);
    expect(r.stderr).toContain('rctl ls');
  });

  it('a seed that is not in cluster mode: exit 6', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rctl-plain-'));
    procs.push(spawn('redis-server', ['--port', '7698', '--bind', '127.0.0.1', '--dir', dir, '--save', ''], { stdio: 'ignore' }));
    await waitPing(7698);
    const r = await rctl(['info', '--seed', '127.0.0.1:7698'], { home });
    expectCleanError(r, 6, /not running in cluster mode/);
  });

  it('non-empty node and node in another cluster: exit 6, nothing changed', async () => {
    const ports = [7671, 7672, 7673];
    for (const p of ports) startNode(p);
    for (const p of ports) await waitPing(p);
    const list = ports.map((p) => `127.0.0.1:${p}`).join(',');
    const one = new Redis({ port: 7671 });
    // A cluster node without slots refuses writes; DEBUG POPULATE puts a key there anyway.
    await one.call('DEBUG', 'POPULATE', '1');
    const r1 = await rctl(['create', '--nodes', list, '--replicas', '0'], { home });
    expectCleanError(r1, 6, /Node 127.0.0.1:7671 already holds 1 key/);
    expect(String(await one.call('CLUSTER', 'INFO'))).toContain('cluster_known_nodes:1');
    await one.flushall();
    one.disconnect();

    const ok = await rctl(['create', '--nodes', list, '--replicas', '0'], { home });
    expect(ok.code, ok.stderr).toBe(0);
    const r2 = await rctl(['create', '--nodes', list, '--replicas', '0'], { home });
    expectCleanError(r2, 6, /already belongs to a cluster/);
  });

  it('a name already used: exit 6', async () => {
    const a = await rctl(['create', '--name', 'twice', '--provider', 'process', '--replicas', '0', '--port-base', '7681'], { home });
    expect(a.code).toBe(0);
    const b = await rctl(['create', '--name', 'twice', '--provider', 'process', '--replicas', '0', '--port-base', '7691'], { home });
    expectCleanError(b, 6, /A cluster named "twice" already exists/);
    expect((await rctl(['check', '--name', 'twice'], { home })).code).toBe(0);
    expect((await rctl(['destroy', '--name', 'twice', '--yes'], { home })).code).toBe(0);
  });

  it('destroy of something rctl did not create: exit 6, the container stays', async () => {
    await exec('docker', ['rm', '-f', 'alien-node-1']);
    const run = await exec('docker', ['create', '--name', 'alien-node-1', inject('image'), 'redis-server']);
    expect(run.code, run.stderr).toBe(0);
    try {
      const r = await rctl(['destroy', '--name', 'alien', '--yes'], { home });
      expectCleanError(r, 6, /was not created by rctl/);
      expect((await exec('docker', ['inspect', 'alien-node-1'])).code).toBe(0);
    } finally {
      await exec('docker', ['rm', '-f', 'alien-node-1']);
    }
  });
});
