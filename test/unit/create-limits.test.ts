import { describe, expect, it } from 'vitest';
import { validateCreateIntent, type CreateIntent } from '../../src/cluster/create.js';
import { RctlError } from '../../src/errors.js';
import { validateSentinelIntent } from '../../src/sentinel/config.js';

const base: CreateIntent = { name: 'rctl', masters: 3, replicasPerMaster: 0, network: 'host', host: '127.0.0.1', portBase: 6381, nodeTimeoutMs: 5000 };
const usage = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RctlError);
    expect((err as RctlError).code).toBe('USAGE');
    return (err as RctlError).message;
  }
  throw new Error('expected a usage error');
};

describe('bus ports stay below the ephemeral range (32768)', () => {
  it('3 nodes: port base 22765 is the highest (last bus port 32767)', () => {
    expect(() => validateCreateIntent({ ...base, portBase: 22765 })).not.toThrow();
    expect(usage(() => validateCreateIntent({ ...base, portBase: 22766 }))).toBe(
      "--port-base 22766 puts bus port 32768 (node 3: port + 10000) in Linux's ephemeral port range (32768 and up), where outgoing connections may already hold it.",
    );
  });
  it('the limit moves with the node count', () => {
    expect(() => validateCreateIntent({ ...base, replicasPerMaster: 1, portBase: 22762 })).not.toThrow();
    expect(usage(() => validateCreateIntent({ ...base, replicasPerMaster: 1, portBase: 22763 }))).toMatch(/bus port 32768 \(node 6/);
  });
});

describe('names are at most 63 characters', () => {
  it('create: 63 is fine, 64 says the limit', () => {
    expect(() => validateCreateIntent({ ...base, name: 'a'.repeat(63) })).not.toThrow();
    expect(usage(() => validateCreateIntent({ ...base, name: 'a'.repeat(64) }))).toBe(`--name "${'a'.repeat(20)}…" is 64 characters long; names are at most 63.`);
  });
  it('sentinel create too', () => {
    const s = { name: 'g', masterName: 'm', replicas: 1, sentinels: 3, quorum: 2, downAfterMs: 5000, failoverTimeoutMs: 60000, parallelSyncs: 1, portBase: 6379, sentinelPortBase: 26379, host: '127.0.0.1' };
    expect(() => validateSentinelIntent({ ...s, name: 'a'.repeat(63) })).not.toThrow();
    expect(usage(() => validateSentinelIntent({ ...s, name: 'a'.repeat(64) }))).toMatch(/is 64 characters long; names are at most 63/);
    expect(usage(() => validateSentinelIntent({ ...s, name: '../x' }))).toMatch(/is not a valid name/);
  });
});
