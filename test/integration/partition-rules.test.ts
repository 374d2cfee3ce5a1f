import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { partition } from '../../src/failover/partition.js';
import type { PartitionNode } from '../../src/failover/partition-plan.js';
import { chainName } from '../../src/provision/netfilter/rules.js';
import { pollUntil } from '../helpers/poll.js';
import { exec, rctl, tempHome, waitHealthy } from '../helpers/rctl.js';

// Nodes on 127.0.0.21-26 (create --address-per-node), cut apart by netfilter rules in the
// cluster's own chain; clients on 127.0.0.1 stay outside every partition.
const home = tempHome();
const NAME = 'part-rules';
const BASE = 9711;
const HOST = '127.0.0.21';
const PARTITION_JS = fileURLToPath(new URL('../../dist/failover/partition.js', import.meta.url));

type RecordNode = { host: string; port: number; busPort: number; role?: string };
const recordNodes = (): RecordNode[] => (JSON.parse(readFileSync(join(home, 'clusters', `${NAME}.json`), 'utf8')) as { nodes: RecordNode[] }).nodes;

async function onNode<T>(host: string, port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host, port, lazyConnect: true, connectTimeout: 1000, commandTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

const ourChain = async (): Promise<boolean> => (await exec('iptables', ['-w', '-S'])).stdout.includes(chainName(NAME));

async function sides(): Promise<{ cut: PartitionNode; rest: PartitionNode[]; otherMasters: PartitionNode[] }> {
  const nodes = recordNodes();
  const all = await Promise.all(nodes.map(async (n) => ({ id: (await onNode(n.host, n.port, (r) => r.call('CLUSTER', 'MYID'))) as string, host: n.host, port: n.port, busPort: n.busPort })));
  const roles = await Promise.all(all.map((n) => onNode(n.host, n.port, async (r) => ((await r.call('ROLE')) as [string])[0])));
  const masters = all.filter((_, i) => roles[i] === 'master');
  const cut = masters[0]!;
  return { cut, rest: all.filter((n) => n.id !== cut.id), otherMasters: masters.slice(1) };
}

describe('partitions between node sets (process provider, --address-per-node)', () => {
  afterAll(async () => {
    await rctl(['heal', '--name', NAME], { home });
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  it('creates a cluster with one loopback address per node, each bound and used as source', async () => {
    const c = await rctl(['create', '--name', NAME, '--provider', 'process', '--address-per-node', '--host', HOST, '--masters', '3', '--replicas', '1', '--port-base', String(BASE), '--node-timeout', '1000', '--json'], { home });
    expect(c.code, c.stderr).toBe(0);
    expect(recordNodes().map((n) => `${n.host}:${n.port}`)).toEqual([21, 22, 23, 24, 25, 26].map((k, i) => `127.0.0.${k}:${BASE + i}`));
    await waitHealthy(`${HOST}:${BASE}`, home);
    // Peers know each node by its own address (bind-source-addr): no 127.0.0.1 in anyone's view.
    const view = (await onNode(HOST, BASE, (r) => r.call('CLUSTER', 'NODES'))) as string;
    expect(view).not.toContain('127.0.0.1:');
  }, 60_000);

  it('cuts a master off the bus: the others flag it, clients on 127.0.0.1 still reach it, heal restores health', async () => {
    const { cut, rest, otherMasters } = await sides();
    const p = await partition(NAME, [cut], rest, 'bus-only');
    try {
      expect(p.rules).toHaveLength(rest.length * 2);
      expect(await ourChain()).toBe(true);
      const flagged = await pollUntil(
        () => Promise.all(otherMasters.map((m) => onNode(m.host, m.port, async (r) => ((await r.call('CLUSTER', 'NODES')) as string).split('\n').find((l) => l.startsWith(cut.id)) ?? ''))),
        (lines) => lines.every((l) => /fail/.test(l.split(' ')[2] ?? '')),
        { timeoutMs: 8000, intervalMs: 100 },
      );
      for (const l of flagged) expect(l.split(' ')[2]).toMatch(/fail/);
      // The dangerous case: the client port stays open to clients outside the partition.
      expect(await onNode(cut.host, cut.port, (r) => r.ping())).toBe('PONG');
    } finally {
      await p.heal();
    }
    expect(await ourChain()).toBe(false);
    await waitHealthy(`${HOST}:${BASE}`, home, 20_000);
  }, 60_000);

  it('a process killed mid-partition leaves its rules; `rctl heal --name` removes them', async () => {
    const { cut, rest } = await sides();
    const script = `const { partition } = await import(${JSON.stringify(PARTITION_JS)});
      await partition(${JSON.stringify(NAME)}, [${JSON.stringify(cut)}], ${JSON.stringify(rest)}, 'full');
      process.stdout.write('applied\\n'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`partition child never applied: ${err}`)), 15_000);
      child.stdout.on('data', (d: Buffer) => d.toString().includes('applied') && (clearTimeout(t), resolve()));
      child.on('exit', () => reject(new Error(`partition child exited: ${err}`)));
    });
    child.kill('SIGKILL');
    expect(await ourChain()).toBe(true);

    const h = await rctl(['heal', '--name', NAME, '--json'], { home });
    expect(h.code, h.stderr).toBe(0);
    const healed = (h.json?.['healed'] ?? []) as { cluster: string; rules: string[] }[];
    expect(healed).toHaveLength(1);
    expect(healed[0]!.cluster).toBe(NAME);
    expect(healed[0]!.rules).toHaveLength(rest.length * 4);
    expect(await ourChain()).toBe(false);
    const again = await rctl(['heal', '--name', NAME, '--json'], { home });
    expect(again.code).toBe(0);
    expect(again.json?.['healed']).toEqual([]);
    await waitHealthy(`${HOST}:${BASE}`, home, 20_000);
  }, 60_000);

  it('destroy heals too', async () => {
    const { cut, rest } = await sides();
    await partition(NAME, [cut], rest, 'one-way');
    expect(await ourChain()).toBe(true);
    const d = await rctl(['destroy', '--name', NAME, '--yes'], { home });
    expect(d.code, d.stderr).toBe(0);
    expect(await ourChain()).toBe(false);
  }, 60_000);
});
