import { describe, expect, it } from 'vitest';
import { nodeSpecs, validateCreateIntent, type CreateIntent } from '../../src/cluster/create.js';
import { RctlError } from '../../src/errors.js';
import { redisSettings } from '../../src/provision/redis-args.js';

const base: CreateIntent = { name: 'rctl', masters: 3, replicasPerMaster: 1, network: 'host', host: '127.0.0.1', portBase: 6381, nodeTimeoutMs: 5000 };

describe('validateCreateIntent', () => {
  it('accepts the classic layout and numbers nodes from the port base', () => {
    expect(() => validateCreateIntent(base)).not.toThrow();
    expect(nodeSpecs(base).map((n) => `${n.index}:${n.port}@${n.busPort}`)).toEqual(['1:6381@16381', '2:6382@16382', '3:6383@16383', '4:6384@16384', '5:6385@16385', '6:6386@16386']);
  });
  it.each([
    [{ masters: 2 }, /--masters/],
    [{ masters: 3.5 }, /--masters/],
    [{ replicasPerMaster: -1 }, /--replicas/],
    [{ portBase: 80 }, /--port-base/],
    [{ portBase: 60000 }, /--port-base/],
    [{ nodeTimeoutMs: 10 }, /--node-timeout/],
    [{ name: '../x' }, /--name/],
    [{ masters: 300, replicasPerMaster: 1 }, /500/],
  ])('refuses %j with a usage error naming the flag', (patch, pattern) => {
    try {
      validateCreateIntent({ ...base, ...patch });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RctlError);
      expect((err as RctlError).code).toBe('USAGE');
      expect((err as RctlError).message).toMatch(pattern);
    }
  });
});

describe('redisSettings', () => {
  const node = { index: 1, port: 6381, busPort: 16381 };
  it('gives every node cluster mode, AOF, the node timeout and an immediate diskless sync', () => {
    const s = Object.fromEntries(redisSettings({ cluster: 'x', nodes: [node], network: 'host', host: '127.0.0.1', nodeTimeoutMs: 5000 }, node, '/data'));
    expect(s).toMatchObject({ 'cluster-enabled': 'yes', appendonly: 'yes', 'cluster-node-timeout': '5000', 'repl-diskless-sync-delay': '0', bind: '127.0.0.1', dir: '/data' });
  });
  it('sets requirepass and masterauth together', () => {
    const s = Object.fromEntries(redisSettings({ cluster: 'x', nodes: [node], network: 'host', host: '127.0.0.1', nodeTimeoutMs: 5000, password: 'p' }, node, '/d'));
    expect(s).toMatchObject({ requirepass: 'p', masterauth: 'p' });
  });
  it('bridge with an announce address sets announce ip, port and bus port', () => {
    const s = Object.fromEntries(redisSettings({ cluster: 'x', nodes: [node], network: 'bridge', host: '127.0.0.1', announceIp: '192.0.2.10', nodeTimeoutMs: 5000 }, node, '/d'));
    expect(s).toMatchObject({ 'cluster-announce-ip': '192.0.2.10', 'cluster-announce-port': '6381', 'cluster-announce-bus-port': '16381', bind: '0.0.0.0' });
  });
});
