import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { RctlError, usageError } from '../errors.js';

/**
 * The master name to use when none was given: the only one the Sentinel monitors. Several is a
 * usage error that lists them (guessing one would report on the wrong master); none means the
 * address is a Sentinel with nothing to monitor.
 */
export function chooseMasterName(names: readonly string[], sentinel: NodeAddress): string {
  if (names.length === 1) return names[0]!;
  if (names.length === 0) {
    throw new RctlError('REFUSED', `Sentinel ${addrKey(sentinel)} monitors no master.`, { hint: 'Point --sentinel at a Sentinel of the group you mean (`SENTINEL MASTERS` there must list it).' });
  }
  const sorted = [...names].sort();
  throw usageError(`Sentinel ${addrKey(sentinel)} monitors ${names.length} masters (${sorted.join(', ')}); say which one.`, `Pass --master-name ${sorted[0]} (or one of the others).`);
}

/** SENTINEL MASTERS on the first Sentinel that answers, reduced to one name (chooseMasterName). */
export async function discoverMasterName(conns: AdminConnections, sentinels: readonly NodeAddress[]): Promise<string> {
  let last: unknown;
  for (const s of sentinels) {
    let reply: unknown;
    try {
      reply = await conns.run(s, (r) => r.call('SENTINEL', 'MASTERS'));
    } catch (err) {
      if (err instanceof RctlError && err.code === 'REDIS_ERROR') {
        throw new RctlError('REFUSED', `${addrKey(s)} is not a Sentinel (${err.message.replace(/^Redis at \S+ answered: /, '').split('\n')[0]}).`, { hint: 'Point --sentinel at a Sentinel port (26379 by default).' });
      }
      if (err instanceof RctlError && err.code === 'AUTH') throw err;
      last = err;
      continue;
    }
    const names = (reply as unknown[]).map((m) => {
      const a = m as string[];
      const i = a.indexOf('name');
      return i >= 0 ? String(a[i + 1]) : '';
    });
    return chooseMasterName(names.filter(Boolean), s);
  }
  throw last instanceof RctlError ? last : new RctlError('UNREACHABLE', `No Sentinel answers (tried ${sentinels.map(addrKey).join(', ')}).`, { hint: 'Check --sentinel host:port, or `rctl ls` for groups rctl created.' });
}
