import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rctl, tempHome } from '../helpers/rctl.js';

// 6 Docker nodes on host networking, each on its own loopback address 127.0.0.91-96, ports 9771-9776 (bus 19771+).
// The rules go into the host's INPUT chain, exactly as for the process provider: host-networked
// containers share the host's network namespace.
const NAME = 'pdocker';
const home = tempHome();
const PORT = 9771;

const rulesLeft = (): number => execFileSync('iptables', ['-S'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`rctl:${NAME}`)).length;

describe('drill partition on Docker host networking (--address-per-node, node-timeout 1000 ms)', () => {
  beforeAll(async () => {
    const c = await rctl(
      ['create', '--name', NAME, '--provider', 'docker', '--address-per-node', '--host', '127.0.0.91', '--port-base', String(PORT), '--masters', '3', '--replicas', '1', '--node-timeout', '1000', '--json'],
      { home },
    );
    expect(c.code, c.stderr).toBe(0);
  });
  afterAll(async () => {
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  it('a master cut off for node-timeout + 5 s: failover, its acknowledged writes lost, no rule left', async () => {
    const res = await rctl(['drill', 'partition', '--name', NAME, '--isolate', 'master', '--yes', '--json'], { home, timeoutMs: 90_000 });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const r = res.json as Record<string, any>;
    expect(res.code, res.stderr.slice(-2000)).toBe(0);
    expect(r['failover']).toBe(true);
    expect(r['lostWrites'].lost.count).toBeGreaterThan(0);
    expect(r['healthy']).toBe(true);
    expect(rulesLeft()).toBe(0);
  });
});

// Runs after the suite above destroyed its cluster: the same ports, published on 127.0.0.1.
describe('drill partition on a Docker bridge network: refused before anything is touched', () => {
  const BRIDGED = 'pbridge';
  beforeAll(async () => {
    const c = await rctl(['create', '--name', BRIDGED, '--provider', 'docker', '--network', 'bridge', '--port-base', String(PORT), '--masters', '3', '--replicas', '1', '--node-timeout', '1000', '--json'], { home });
    expect(c.code, c.stderr).toBe(0);
  });
  afterAll(async () => {
    await rctl(['destroy', '--name', BRIDGED, '--yes'], { home });
  });

  it('exits 6 (REFUSED) pointing at --address-per-node, no rule added, the drill wrote nothing', async () => {
    const res = await rctl(['drill', 'partition', '--name', BRIDGED, '--isolate', 'master', '--yes', '--json'], { home, timeoutMs: 60_000 });
    expect(res.code, res.stderr.slice(-2000)).toBe(6);
    const err = res.json?.['error'] as { code: string; message: string; hint: string };
    expect(err.code).toBe('REFUSED');
    expect(err.message).toMatch(/not a loopback address of this machine/);
    expect(err.hint).toMatch(/--address-per-node \(host networking or the process provider\)/);
    expect(execFileSync('iptables', ['-S'], { encoding: 'utf8' })).not.toContain(`rctl:${BRIDGED}`);
    const check = await rctl(['check', '--name', BRIDGED, '--json'], { home });
    expect(check.code, check.stdout).toBe(0);
  });
});
