import { describe, expect, it } from 'vitest';
import { validateCreateIntent, type CreateIntent } from '../../src/cluster/create.js';
import { validateWriteSafety } from '../../src/cluster/write-safety.js';
import { nodeAddressFor } from '../../src/provision/node-address.js';
import type { ProvisionRequest } from '../../src/provision/provider.js';
import { hasAddressPerNode, newNodeHost } from '../../src/provision/recorded-nodes.js';
import { redisSettings } from '../../src/provision/redis-args.js';
import type { ClusterRecord, NodeRecord } from '../../src/state/records.js';

const node = (index: number, host: string): NodeRecord => ({ index, host, port: 9700 + index, busPort: 19700 + index });
const rec = (patch: Partial<ClusterRecord>): ClusterRecord => ({
  name: 'r', kind: 'cluster', status: 'ready', provider: 'process', network: 'host', host: '127.0.0.21', portBase: 9701, masters: 3, replicasPerMaster: 0,
  nodeTimeoutMs: 1000, createdAt: '', rctlVersion: '0', nodes: [1, 2, 3].map((i) => node(i, `127.0.0.${20 + i}`)), addressPerNode: true, ...patch,
});

describe('addresses of nodes started after create (add-node, scale-out)', () => {
  it("gives node k create's address host + (k-1) when it is free", () => {
    expect(nodeAddressFor('127.0.0.21', 4, ['127.0.0.21', '127.0.0.22', '127.0.0.23'])).toBe('127.0.0.24');
    // A gap left by a deleted node is create's address for that index: reused.
    expect(nodeAddressFor('127.0.0.21', 2, ['127.0.0.21', '127.0.0.23'])).toBe('127.0.0.22');
  });
  it('takes the first free address above every one in use when that one is taken', () => {
    expect(nodeAddressFor('127.0.0.21', 4, ['127.0.0.21', '127.0.0.24', '127.0.0.25'])).toBe('127.0.0.26');
  });
  it('records with addressPerNode give new nodes their own address; without it, the shared host', () => {
    expect(newNodeHost(rec({}), 4, [])).toBe('127.0.0.24');
    // A scale-out starting several nodes at once never gives two of them one address.
    expect(newNodeHost(rec({ nodes: [node(1, '127.0.0.21'), node(2, '127.0.0.25')] }), 5, ['127.0.0.25'])).toBe('127.0.0.26');
    const shared = rec({ addressPerNode: undefined, host: '127.0.0.1', nodes: [1, 2, 3].map((i) => node(i, '127.0.0.1')) });
    expect(hasAddressPerNode(shared)).toBe(false);
    expect(newNodeHost(shared, 4, [])).toBe('127.0.0.1');
    expect(newNodeHost({ ...shared, addressPerNode: false }, 4, [])).toBe('127.0.0.1');
  });
  it('records written before the field existed are told by their nodes', () => {
    expect(hasAddressPerNode(rec({ addressPerNode: undefined }))).toBe(true);
  });
  it('the new node binds its address and sends its connections from it', () => {
    const req: ProvisionRequest = { cluster: 'r', nodes: [{ index: 4, port: 9704, busPort: 19704, host: '127.0.0.24' }], network: 'host', host: '127.0.0.21', nodeTimeoutMs: 1000, minReplicasToWrite: 1, minReplicasMaxLagS: 2 };
    const s = new Map(redisSettings(req, req.nodes[0]!, '/d'));
    expect([s.get('bind'), s.get('bind-source-addr')]).toEqual(['127.0.0.24', '127.0.0.24']);
    expect([s.get('min-replicas-to-write'), s.get('min-replicas-max-lag')]).toEqual(['1', '2']);
  });
});

describe('write safety (min-replicas-to-write / max-lag)', () => {
  const base: CreateIntent = { name: 'p', masters: 3, replicasPerMaster: 1, network: 'host', host: '127.0.0.1', portBase: 9711 };
  it('create accepts 0..replicas with a lag of at least 1 s, and refuses the rest naming the flag', () => {
    expect(() => validateCreateIntent({ ...base, minReplicasToWrite: 1, minReplicasMaxLagS: 1 })).not.toThrow();
    expect(() => validateCreateIntent({ ...base, minReplicasToWrite: 2 })).toThrow(/between 0 and --replicas \(1\)/);
    expect(() => validateCreateIntent({ ...base, minReplicasToWrite: -1 })).toThrow(/--min-replicas-to-write must be an integer of at least 0/);
    expect(() => validateCreateIntent({ ...base, minReplicasToWrite: 1, minReplicasMaxLagS: 0 })).toThrow(/--min-replicas-max-lag must be an integer of at least 1/);
    expect(() => validateWriteSafety({ minReplicasMaxLagS: 2 })).toThrow(/only means something/);
  });
  it('redis settings: none unless asked; the lag defaults to Redis\' 10 s', () => {
    const req: ProvisionRequest = { cluster: 'p', nodes: [{ index: 1, port: 9711, busPort: 19711 }], network: 'host', host: '127.0.0.1', nodeTimeoutMs: 1000 };
    expect(new Map(redisSettings(req, req.nodes[0]!, '/d')).has('min-replicas-to-write')).toBe(false);
    const s = new Map(redisSettings({ ...req, minReplicasToWrite: 1 }, req.nodes[0]!, '/d'));
    expect([s.get('min-replicas-to-write'), s.get('min-replicas-max-lag')]).toEqual(['1', '10']);
  });
});
