import { describe, expect, it } from 'vitest';
import { nodeSpecs, validateCreateIntent, type CreateIntent } from '../../src/cluster/create.js';
import { RctlError } from '../../src/errors.js';
import { nodeAddresses } from '../../src/provision/node-address.js';
import type { ProvisionRequest } from '../../src/provision/provider.js';
import { redisSettings } from '../../src/provision/redis-args.js';

const base: CreateIntent = { name: 'p', masters: 3, replicasPerMaster: 1, network: 'host', host: '127.0.0.21', portBase: 9711, nodeTimeoutMs: 1000, addressPerNode: true };

const usage = (f: () => unknown): RctlError => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(RctlError);
    return err as RctlError;
  }
  throw new Error('did not throw');
};

describe('nodeAddresses', () => {
  it('gives node k host + (k-1), carrying into the higher octets', () => {
    expect(nodeAddresses('127.0.0.21', 3)).toEqual(['127.0.0.21', '127.0.0.22', '127.0.0.23']);
    expect(nodeAddresses('127.0.0.254', 4)).toEqual(['127.0.0.254', '127.0.0.255', '127.0.1.0', '127.0.1.1']);
  });
  it.each([
    ['localhost', /IPv4 loopback/],
    ['::1', /IPv4 loopback/],
    ['10.0.0.5', /IPv4 loopback/],
    ['0.0.0.0', /IPv4 loopback/],
    ['127.255.255.250', /past the end of 127\/8/],
    ['127.0.0.1', /127\.0\.0\.1, the address clients/],
    ['127.0.0.0', /127\.0\.0\.1, the address clients/],
  ])('refuses --host %s', (host, pattern) => {
    const e = usage(() => nodeAddresses(host, 6));
    expect(e.code).toBe('USAGE');
    expect(e.message).toMatch(pattern);
    expect(e.hint).toMatch(/--host 127\.0\.0\.21/);
  });
});

describe('create --address-per-node', () => {
  it('puts each node spec on its own address; without the flag specs carry no host', () => {
    expect(nodeSpecs(base).map((n) => `${n.host}:${n.port}@${n.busPort}`)).toEqual([
      '127.0.0.21:9711@19711', '127.0.0.22:9712@19712', '127.0.0.23:9713@19713', '127.0.0.24:9714@19714', '127.0.0.25:9715@19715', '127.0.0.26:9716@19716',
    ]);
    expect(nodeSpecs({ ...base, addressPerNode: false, host: '127.0.0.1' }).every((n) => n.host === undefined)).toBe(true);
  });
  it.each([
    [{ network: 'bridge' as const }, /--network host/],
    [{ announceIp: '10.0.0.1' }, /--announce-ip/],
    [{ host: '127.0.0.1' }, /127\.0\.0\.21/],
  ])('refuses %j at validation, naming the fix', (patch, pattern) => {
    const e = usage(() => validateCreateIntent({ ...base, ...patch }));
    expect(e.code).toBe('USAGE');
    expect(`${e.message} ${e.hint}`).toMatch(pattern);
  });
  it('binds the node to its address and sends its own connections from it (bind-source-addr)', () => {
    const req: ProvisionRequest = { cluster: 'p', nodes: nodeSpecs(base), network: 'host', host: base.host, nodeTimeoutMs: 1000 };
    const s = new Map(redisSettings(req, req.nodes[2]!, '/d'));
    expect(s.get('bind')).toBe('127.0.0.23');
    expect(s.get('bind-source-addr')).toBe('127.0.0.23');
    expect(s.get('protected-mode')).toBe('no');
    const shared = new Map(redisSettings({ ...req, host: '127.0.0.1' }, { index: 1, port: 9711, busPort: 19711 }, '/d'));
    expect(shared.get('bind')).toBe('127.0.0.1');
    expect(shared.has('bind-source-addr')).toBe(false);
  });
});
