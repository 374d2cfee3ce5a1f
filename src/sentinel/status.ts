import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { RctlError, messageOf } from '../errors.js';
import { readReplication, readSentinel, type SentinelView } from './sentinel-conn.js';

export interface SentinelStatus {
  readonly views: readonly SentinelView[];
  readonly unreachable: readonly { sentinel: string; error: string }[];
  /** The master every reachable Sentinel names, if they agree. */
  readonly master: NodeAddress | undefined;
  readonly problems: readonly string[];
  readonly healthy: boolean;
}

/**
 * Ask every Sentinel about `masterName` and judge: do all name the same master, without sdown/odown,
 * with the expected replicas and Sentinels and a passing CKQUORUM; is that node really a master and
 * do its replicas follow it with their links up?
 */
export async function sentinelStatus(conns: AdminConnections, sentinels: readonly NodeAddress[], masterName: string, expect: { replicas?: number | undefined; sentinels?: number | undefined } = {}): Promise<SentinelStatus> {
  const results = await Promise.all(
    sentinels.map(async (s) => {
      try {
        return { ok: true as const, view: await readSentinel(conns, s, masterName) };
      } catch (err) {
        if (err instanceof RctlError && (err.code === 'UNKNOWN_NODE' || err.code === 'REFUSED' || err.code === 'AUTH')) throw err;
        return { ok: false as const, sentinel: addrKey(s), error: messageOf(err) };
      }
    }),
  );
  const views = results.flatMap((r) => (r.ok ? [r.view] : []));
  const unreachable = results.flatMap((r) => (r.ok ? [] : [{ sentinel: r.sentinel, error: r.error }]));
  if (views.length === 0) {
    throw new RctlError('UNREACHABLE', `No Sentinel answers (tried ${sentinels.map(addrKey).join(', ')}).`, { hint: 'Check --sentinel host:port, or `rctl ls` for groups rctl created.' });
  }
  const problems: string[] = [];
  for (const u of unreachable) problems.push(`Sentinel ${u.sentinel} cannot be reached: ${u.error}`);
  const named = new Set(views.map((v) => addrKey(v.master)));
  if (named.size > 1) problems.push(`Sentinels disagree about the master: ${views.map((v) => `${addrKey(v.sentinel)} says ${addrKey(v.master)}`).join('; ')}`);
  for (const v of views) {
    const bad = v.flags.filter((f) => f !== 'master');
    if (bad.length) problems.push(`Sentinel ${addrKey(v.sentinel)} flags the master ${bad.join(',')}`);
    if (!/^OK/.test(v.ckquorum)) problems.push(`Sentinel ${addrKey(v.sentinel)}: CKQUORUM ${v.ckquorum}`);
    if (expect.replicas !== undefined && v.numReplicas < expect.replicas) problems.push(`Sentinel ${addrKey(v.sentinel)} knows ${v.numReplicas} replica(s), expected ${expect.replicas}`);
    if (expect.sentinels !== undefined && v.numOtherSentinels < expect.sentinels - 1) problems.push(`Sentinel ${addrKey(v.sentinel)} knows ${v.numOtherSentinels} other Sentinel(s), expected ${expect.sentinels - 1}`);
  }
  const master = named.size === 1 ? views[0]!.master : undefined;
  if (master) {
    try {
      const rep = await readReplication(conns, master);
      if (rep.role !== 'master') problems.push(`${addrKey(master)} is named master but reports role:${rep.role}`);
      if (expect.replicas !== undefined && rep.replicasOnline < expect.replicas) problems.push(`${addrKey(master)} has ${rep.replicasOnline} replica(s) online, expected ${expect.replicas}`);
    } catch (err) {
      problems.push(`the master ${addrKey(master)} cannot be reached: ${messageOf(err)}`);
    }
  }
  return { views, unreachable, master, problems, healthy: problems.length === 0 };
}
