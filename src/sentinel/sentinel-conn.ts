import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { RctlError } from '../errors.js';

/** What one Sentinel says about a monitored master (SENTINEL MASTER, as a field map). */
export interface SentinelView {
  readonly sentinel: NodeAddress;
  readonly master: NodeAddress;
  readonly flags: readonly string[];
  readonly numReplicas: number;
  readonly numOtherSentinels: number;
  readonly quorum: number;
  readonly failoverEpoch: number | undefined;
  readonly ckquorum: string;
}

const toMap = (flat: unknown): Record<string, string> => {
  const a = flat as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < a.length; i += 2) out[String(a[i])] = String(a[i + 1]);
  return out;
};

/** Read one Sentinel's view of `masterName`; an unknown name is a clear error. */
export async function readSentinel(conns: AdminConnections, sentinel: NodeAddress, masterName: string): Promise<SentinelView> {
  return conns.run(sentinel, async (r) => {
    const res = await r.pipeline().call('SENTINEL', 'MASTER', masterName).call('SENTINEL', 'CKQUORUM', masterName).exec();
    const [mErr, m] = res?.[0] ?? [];
    if (mErr) {
      if (/No such master/i.test(mErr.message)) {
        throw new RctlError('UNKNOWN_NODE', `Sentinel ${addrKey(sentinel)} monitors no master named "${masterName}".`, { hint: 'Pass --master-name with the name Sentinel monitors (SENTINEL MASTERS lists them).' });
      }
      if (/unknown command|sentinel/i.test(mErr.message) && !/NOAUTH|WRONGPASS/.test(mErr.message)) {
        throw new RctlError('REFUSED', `${addrKey(sentinel)} is not a Sentinel (${mErr.message.split('\n')[0]}).`, { hint: 'Point --sentinel at a Sentinel port (26379 by default).' });
      }
      throw mErr;
    }
    const f = toMap(m);
    const [qErr, q] = res?.[1] ?? [];
    return {
      sentinel,
      master: { host: f['ip'] ?? '', port: Number(f['port']) },
      flags: (f['flags'] ?? '').split(','),
      numReplicas: Number(f['num-slaves'] ?? 0),
      numOtherSentinels: Number(f['num-other-sentinels'] ?? 0),
      quorum: Number(f['quorum'] ?? 0),
      failoverEpoch: f['failover-epoch'] !== undefined ? Number(f['failover-epoch']) : undefined,
      ckquorum: qErr ? qErr.message : String(q),
    };
  });
}

/** INFO replication of a data node: role, and for replicas whom they follow and the link state. */
export async function readReplication(conns: AdminConnections, node: NodeAddress): Promise<{ role: string; masterHost?: string; masterPort?: number; link?: string; offset: number; replicasOnline: number }> {
  return conns.run(node, async (r) => {
    const info = String(await r.info('replication'));
    const f: Record<string, string> = {};
    for (const line of info.split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) f[line.slice(0, i)] = line.slice(i + 1).trim();
    }
    const replicasOnline = Object.keys(f).filter((k) => /^slave\d+$/.test(k) && f[k]!.includes('state=online')).length;
    return {
      role: f['role'] === 'slave' ? 'replica' : (f['role'] ?? 'unknown'),
      ...(f['master_host'] ? { masterHost: f['master_host'], masterPort: Number(f['master_port']), link: f['master_link_status'] } : {}),
      offset: Number(f['master_repl_offset'] ?? f['slave_repl_offset'] ?? 0),
      replicasOnline,
    };
  });
}
