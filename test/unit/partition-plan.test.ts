import { describe, expect, it } from 'vitest';
import { RctlError } from '../../src/errors.js';
import { planPartition, type PartitionNode } from '../../src/failover/partition-plan.js';
import { chainName, ruleArgs, tagOf } from '../../src/provision/netfilter/rules.js';
import { parseRules } from '../../src/provision/netfilter/iptables.js';

const node = (k: number, host = `127.0.0.${20 + k}`): PartitionNode => ({ id: `n${k}`, host, port: 9710 + k, busPort: 19710 + k });
const fmt = (p: ReturnType<typeof planPartition>): string[] => p.rules.map((r) => `${r.src}>${r.dst}:${r.dport}`);

describe('planPartition', () => {
  const a = [node(1)];
  const b = [node(2), node(3)];
  it('bus-only drops bus ports both ways and leaves client ports alone', () => {
    expect(fmt(planPartition(a, b, 'bus-only'))).toEqual(['127.0.0.21>127.0.0.22:19712', '127.0.0.21>127.0.0.23:19713', '127.0.0.22>127.0.0.21:19711', '127.0.0.23>127.0.0.21:19711']);
  });
  it('full adds client ports (replication, MIGRATE) both ways', () => {
    const rules = fmt(planPartition(a, b, 'full'));
    expect(rules).toHaveLength(8);
    expect(rules).toEqual(expect.arrayContaining(['127.0.0.21>127.0.0.22:9712', '127.0.0.22>127.0.0.21:9711', '127.0.0.23>127.0.0.21:19711']));
  });
  it('one-way cuts only what A opens towards B', () => {
    expect(fmt(planPartition(a, b, 'one-way'))).toEqual(['127.0.0.21>127.0.0.22:19712', '127.0.0.21>127.0.0.22:9712', '127.0.0.21>127.0.0.23:19713', '127.0.0.21>127.0.0.23:9713']);
  });
  it('every rule is tcp and names a destination port (another cluster on the same addresses is never cut)', () => {
    for (const r of planPartition(a, b, 'full').rules) {
      expect(r.protocol).toBe('tcp');
      expect([9711, 9712, 9713, 19711, 19712, 19713]).toContain(r.dport);
    }
    expect(JSON.parse(JSON.stringify(planPartition(a, b, 'full')))).toEqual(planPartition(a, b, 'full'));
  });
  it('refuses nodes that share an address across the sides, naming --address-per-node', () => {
    try {
      planPartition([node(1, '127.0.0.5')], [node(2, '127.0.0.5')], 'bus-only');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RctlError);
      expect((err as RctlError).code).toBe('REFUSED');
      expect((err as RctlError).message).toContain('share address 127.0.0.5');
      expect((err as RctlError).hint).toContain('--address-per-node');
    }
  });
  it('refuses a node on 127.0.0.1 (clients come from there), an empty side, a node on both sides, an unknown mode', () => {
    expect(() => planPartition([node(1, '127.0.0.1')], b, 'full')).toThrow(/clients/);
    expect(() => planPartition([], b, 'full')).toThrow(/each side/);
    expect(() => planPartition(a, [node(1)], 'full')).toThrow(/both sides/);
    expect(() => planPartition(a, b, 'sideways' as never)).toThrow(/Unknown partition mode/);
  });
});

describe('netfilter rule text', () => {
  it('names one chain per cluster within iptables limits, tags every rule', () => {
    expect(chainName('rctl')).toMatch(/^RCTL-[0-9a-f]{8}$/);
    expect(chainName('a'.repeat(63)).length).toBeLessThanOrEqual(28);
    expect(chainName('x')).not.toBe(chainName('y'));
    const args = ruleArgs('c1', { src: '127.0.0.21', dst: '127.0.0.22', protocol: 'tcp', dport: 19712 });
    expect(args).toEqual(expect.arrayContaining(['--comment', tagOf('c1'), '-j', 'DROP', '--dport', '19712']));
  });
  it('parses iptables -S output, keeping quoted words whole', () => {
    expect(parseRules('-P INPUT ACCEPT\n-A INPUT -m comment --comment "rctl:a b" -j RCTL-1\n')).toEqual([
      ['-P', 'INPUT', 'ACCEPT'],
      ['-A', 'INPUT', '-m', 'comment', '--comment', 'rctl:a b', '-j', 'RCTL-1'],
    ]);
  });
});
