import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rctl, tempHome } from '../helpers/rctl.js';

// 6 process nodes on their own loopback addresses 127.0.0.61-66, ports 9761-9766 (bus 19761+), node-timeout 2000.
const NAME = 'psafe';
const home = tempHome();
const PORT = 9761;
const NODE_TIMEOUT = 2000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Report = Record<string, any>;
async function drill(args: string[]): Promise<{ code: number; r: Report }> {
  const res = await rctl(['drill', 'partition', '--name', NAME, '--yes', '--json', ...args], { home, timeoutMs: 90_000 });
  return { code: res.code, r: res.json as Report };
}
const rulesLeft = (): number => execFileSync('iptables', ['-S'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`rctl:${NAME}`)).length;

describe('partitions with write safety, and in the middle of a reshard (node-timeout 2000 ms)', () => {
  beforeAll(async () => {
    const c = await rctl(['create', '--name', NAME, '--provider', 'process', '--address-per-node', '--host', '127.0.0.61', '--port-base', String(PORT), '--masters', '3', '--replicas', '1', '--node-timeout', String(NODE_TIMEOUT), '--json'], { home });
    expect(c.code, c.stderr).toBe(0);
  });
  afterAll(async () => {
    await rctl(['heal', '--name', NAME], { home });
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  let baselineMs: number | undefined;

  it('3a. without min-replicas-to-write: the isolated master acknowledges writes for ≈ node-timeout, all lost', async () => {
    const { code, r } = await drill(['--isolate', 'master']);
    expect(code, JSON.stringify(r)).toBe(0);
    expect(r['failover']).toBe(true);
    expect(r['prediction'].windowMs).toBe(NODE_TIMEOUT);
    expect(r['lostWrites'].lost.count).toBeGreaterThan(0);
    baselineMs = r['lostWrites'].lost.lastAckMs as number;
    expect(r['healthy']).toBe(true);
  });

  it('3b. `config write-safety --min-replicas-to-write 1 --min-replicas-max-lag 1`: set and read back on every node', async () => {
    const res = await rctl(['config', 'write-safety', '--name', NAME, '--min-replicas-to-write', '1', '--min-replicas-max-lag', '1', '--json', '--yes'], { home });
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const nodes = res.json?.['nodes'] as { minReplicasToWrite: number; minReplicasMaxLagS: number; persisted: boolean }[];
    expect(nodes).toHaveLength(6);
    expect(nodes.every((n) => n.minReplicasToWrite === 1 && n.minReplicasMaxLagS === 1 && n.persisted)).toBe(true);
    expect(res.json?.['recorded']).toBe(true);
    // More than any master has replicas: refused before anything is set.
    const tooMany = await rctl(['config', 'write-safety', '--name', NAME, '--min-replicas-to-write', '2', '--json', '--yes'], { home });
    expect(tooMany.code).toBe(6);
    expect(JSON.stringify(tooMany.json)).toMatch(/refuse every write/);
  });

  it('3c. with the fence: the window shrinks to ≈ max-lag (1 s), and the prediction says so', async () => {
    const { code, r } = await drill(['--isolate', 'master']);
    expect(code, JSON.stringify(r)).toBe(0);
    expect(r['failover']).toBe(true);
    expect(r['prediction'].windowIsBound).toBe(true);
    expect(r['prediction'].text).toMatch(/min-replicas-to-write 1 \/ max-lag 1 s/);
    const lost = r['lostWrites'].lost;
    // Fenced 1-2 s after the cut (lag counts whole seconds since the last once-a-second ACK).
    if (lost.count > 0) expect(lost.lastAckMs).toBeLessThan(2000 + 500);
    expect(r['agreement'].agrees, JSON.stringify(r['agreement'])).toBe(true);
    console.log(`loss window: ${baselineMs} ms without the fence, ${lost.lastAckMs ?? 0} ms (${lost.count} writes) with min-replicas-to-write 1 / max-lag 1 s`);
    expect(rulesLeft()).toBe(0);
    const off = await rctl(['config', 'write-safety', '--name', NAME, '--min-replicas-to-write', '0', '--json', '--yes'], { home });
    expect(off.code, off.stderr).toBe(0);
  });

});
