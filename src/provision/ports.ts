import { createServer } from 'node:net';
import { RctlError } from '../errors.js';
import { listRecords } from '../state/records.js';
import type { NodeSpec } from './provider.js';

/** 'free' if we can bind host:port for a moment; otherwise the bind error's code. */
export function probePort(host: string, port: number): Promise<'free' | string> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'EUNKNOWN'));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve('free')));
  });
}

/**
 * Every client and bus port the nodes need must be free, each on the node's own address when it has
 * one (create --address-per-node), else on `host`; one error names all that are taken.
 */
export async function assertPortsFree(host: string, nodes: readonly NodeSpec[], self?: string): Promise<void> {
  const wanted = new Map<string, { host: string; port: number }>();
  for (const n of nodes) for (const port of [n.port, n.busPort]) wanted.set(`${n.host ?? host}:${port}`, { host: n.host ?? host, port });
  const probes = [...wanted.values()];
  const results = await Promise.all(probes.map((p) => probePort(p.host, p.port)));
  const missing = probes.find((_, i) => results[i] === 'EADDRNOTAVAIL' || results[i] === 'ENOTFOUND' || results[i] === 'EAI_AGAIN');
  if (missing) {
    throw new RctlError('USAGE', `Address ${missing.host} does not belong to this machine, so nodes cannot listen on it.`, {
      hint: 'Pass --host with a local address (default 127.0.0.1).',
    });
  }
  const taken = probes.filter((_, i) => results[i] !== 'free');
  if (taken.length > 0) {
    const hosts = [...new Set(taken.map((p) => p.host))];
    throw await portInUse(hosts.length === 1 ? hosts[0]! : hosts.join(', '), [...new Set(taken.map((p) => p.port))], self);
  }
}

/**
 * Linux's default ephemeral range starts here (net.ipv4.ip_local_port_range 32768 60999): the
 * kernel gives these ports to outgoing connections, so a node's bus port must stay below.
 */
export const EPHEMERAL_PORT_MIN = 32768;

/**
 * The PORT_IN_USE error for ports someone holds, naming who when rctl knows: a cluster or Sentinel
 * group it recorded (also one still being created), else "another process". `self` is the cluster
 * being provisioned, which never counts as the holder.
 */
export async function portInUse(host: string, taken: readonly number[], self?: string): Promise<RctlError> {
  const owners = await recordedPortOwners(self);
  const by = (p: number): string => {
    const o = owners.get(p);
    return o ? `${o.kind === 'sentinel' ? 'Sentinel group' : 'cluster'} "${o.name}"` : 'another process';
  };
  const groups = new Map<string, number[]>();
  for (const p of taken) groups.set(by(p), [...(groups.get(by(p)) ?? []), p]);
  const who = groups.size === 1 ? `by ${[...groups.keys()][0]}` : [...groups].map(([o, ps]) => `${ps.join(', ')} by ${o}`).join('; ');
  const plural = taken.length > 1;
  const only = groups.size === 1 ? owners.get(taken[0]!) : undefined;
  return new RctlError('PORT_IN_USE', `Port${plural ? 's' : ''} ${taken.join(', ')} on ${host} ${plural ? 'are' : 'is'} already in use (${who}).`, {
    hint: only
      ? `Choose another --port-base (bus ports are port + 10000), or remove that ${only.kind === 'sentinel' ? 'group' : 'cluster'} first (\`rctl ${only.kind === 'sentinel' ? 'sentinel ' : ''}destroy --name ${only.name}\`).`
      : 'Choose another --port-base (bus ports are port + 10000), or stop what listens there (`rctl ls` shows rctl clusters).',
    details: { taken, owners: Object.fromEntries(taken.map((p) => [p, owners.get(p)?.name ?? null])) },
  });
}

/** Port -> the recorded cluster or group that uses it; a create still under way claims its whole range. */
async function recordedPortOwners(self?: string): Promise<Map<number, { name: string; kind: 'cluster' | 'sentinel' }>> {
  const owners = new Map<number, { name: string; kind: 'cluster' | 'sentinel' }>();
  for (const r of await listRecords().catch(() => [])) {
    if (r.name === self) continue;
    const owner = { name: r.name, kind: r.kind };
    for (const n of [...r.nodes, ...(r.sentinel?.nodes ?? [])]) {
      owners.set(n.port, owner);
      owners.set(n.busPort, owner);
    }
    if (r.status === 'creating' && r.kind === 'cluster') {
      for (let k = 0; k < r.masters * (1 + r.replicasPerMaster); k++) {
        owners.set(r.portBase + k, owner);
        owners.set(r.portBase + k + 10000, owner);
      }
    }
  }
  return owners;
}
