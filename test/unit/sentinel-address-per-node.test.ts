import { describe, expect, it } from 'vitest';
import { RctlError } from '../../src/errors.js';
import { dataNodeSettings, groupAddresses, sentinelConfig, validateSentinelIntent, type SentinelIntent } from '../../src/sentinel/config.js';
import { assertPartitionable } from '../../src/sentinel/partition-drill.js';
import type { ClusterRecord } from '../../src/state/records.js';

const i: SentinelIntent = { name: 'g', masterName: 'm', replicas: 2, sentinels: 3, quorum: 2, downAfterMs: 1000, failoverTimeoutMs: 10000, parallelSyncs: 1, portBase: 9801, sentinelPortBase: 9811, host: '127.0.0.41' };

describe('sentinel create --address-per-node', () => {
  it('gives data nodes the first addresses and Sentinels the next ones', () => {
    expect(groupAddresses({ ...i, addressPerNode: true })).toEqual({ data: ['127.0.0.41', '127.0.0.42', '127.0.0.43'], sentinels: ['127.0.0.44', '127.0.0.45', '127.0.0.46'] });
    expect(groupAddresses(i)).toBeUndefined();
  });
  it('refuses a host that is not loopback or a range that includes 127.0.0.1', () => {
    expect(() => validateSentinelIntent({ ...i, addressPerNode: true, host: '10.0.0.1' })).toThrow(/loopback/);
    expect(() => validateSentinelIntent({ ...i, addressPerNode: true, host: '127.0.0.1' })).toThrow(/127\.0\.0\.1/);
  });
  it('binds each node and Sentinel to its own address and uses it as source', () => {
    const s = new Map(dataNodeSettings(i, 9802, '/d', false, { host: '127.0.0.42' }));
    expect([s.get('bind'), s.get('bind-source-addr'), s.get('protected-mode')]).toEqual(['127.0.0.42', '127.0.0.42', 'no']);
    expect(new Map(dataNodeSettings(i, 9802, '/d', false)).has('bind-source-addr')).toBe(false);
    const conf = sentinelConfig(i, 9811, { host: '127.0.0.41', port: 9801 }, '/d', { host: '127.0.0.44' });
    expect(conf).toContain('bind 127.0.0.44\nbind-source-addr 127.0.0.44\n');
    expect(conf).toContain('sentinel monitor m 127.0.0.41 9801 2');
  });
  it('sets min-replicas-to-write / max-lag on data nodes, and checks them', () => {
    const s = new Map(dataNodeSettings({ ...i, minReplicasToWrite: 1, minReplicasMaxLagS: 2 }, 9801, '/d', false));
    expect([s.get('min-replicas-to-write'), s.get('min-replicas-max-lag')]).toEqual(['1', '2']);
    expect(() => validateSentinelIntent({ ...i, minReplicasToWrite: 3 })).toThrow(/between 0 and --replicas/);
    expect(() => validateSentinelIntent({ ...i, minReplicasMaxLagS: 2 })).toThrow(/only means something/);
  });
});

describe('assertPartitionable', () => {
  const node = (index: number, host: string, port: number) => ({ index, host, port, busPort: port });
  const rec = (hosts: string[]): ClusterRecord =>
    ({
      name: 'g',
      nodes: hosts.slice(0, 3).map((h, k) => node(k + 1, h, 9801 + k)),
      sentinel: { masterName: 'm', quorum: 2, downAfterMs: 1000, nodes: hosts.slice(3).map((h, k) => node(k + 1, h, 9811 + k)) },
    }) as unknown as ClusterRecord;
  it('accepts one address per node and Sentinel', () => {
    expect(() => assertPartitionable(rec(['127.0.0.41', '127.0.0.42', '127.0.0.43', '127.0.0.44', '127.0.0.45', '127.0.0.46']))).not.toThrow();
  });
  it('refuses shared addresses and 127.0.0.1 with the --address-per-node hint', () => {
    for (const hosts of [Array(6).fill('127.0.0.47'), ['127.0.0.1', '127.0.0.42', '127.0.0.43', '127.0.0.44', '127.0.0.45', '127.0.0.46']]) {
      try {
        assertPartitionable(rec(hosts));
        expect.fail('no refusal');
      } catch (err) {
        expect(err).toBeInstanceOf(RctlError);
        expect((err as RctlError).code).toBe('REFUSED');
        expect((err as RctlError).hint).toMatch(/--address-per-node/);
      }
    }
  });
});
