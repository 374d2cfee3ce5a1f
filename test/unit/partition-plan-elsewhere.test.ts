import { describe, expect, it } from 'vitest';
import { RctlError } from '../../src/errors.js';
import { planPartition, type PartitionNode } from '../../src/failover/partition-plan.js';

const node = (k: number, host: string): PartitionNode => ({ id: `n${k}`, host, port: 6379, busPort: 16379 });

describe('planPartition refuses nodes that rules on this machine cannot cut', () => {
  it.each([
    ['a Docker bridge network', '172.18.0.3'],
    ['another machine', '10.0.0.7'],
    ['a host name', 'redis-1'],
    ['IPv6', '::2'],
  ])('a node on %s (%s): REFUSED, pointing at --address-per-node, before any rule', (_what, host) => {
    let err: unknown;
    try {
      planPartition([node(1, host)], [node(2, '127.0.0.22'), node(3, '127.0.0.23')], 'full');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RctlError);
    expect((err as RctlError).code).toBe('REFUSED');
    expect((err as RctlError).message).toContain(host);
    expect((err as RctlError).hint).toMatch(/--address-per-node \(host networking or the process provider\)/);
  });
  it('nodes on their own 127/8 addresses still plan', () => {
    expect(planPartition([node(1, '127.0.0.21')], [node(2, '127.0.1.4')], 'bus-only').rules).toHaveLength(2);
  });
});
