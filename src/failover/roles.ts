import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { waitUntilReady } from '../cluster/ready.js';
import type { Snapshot } from '../cluster/snapshot.js';
import { noEvents, type EventSink } from '../events.js';
import { failover, nodeTimeoutMsOf, promotionBoundMs } from './manual-failover.js';

/**
 * Hand every shard's master role back to the node that was meant to hold it (what the manual
 * procedure does by stopping and starting nodes), one coordinated failover per shard, checking
 * the cluster before each. Right after a drill the old master has only just rejoined (gossip of its
 * new role, its sync) and masters may still refuse to vote for its shard: every wait here is
 * bounded by a multiple of cluster-node-timeout, not a fixed 30 s.
 */
export async function restoreRoles(
  s0: Snapshot,
  intendedMasters: readonly NodeAddress[],
  o: { conns: AdminConnections; password?: string | undefined; signal?: AbortSignal | undefined; onEvent?: EventSink; target?: string | undefined },
): Promise<{ moved: { node: string; from: string; ms: number }[]; skipped: string[]; snapshot: Snapshot }> {
  const onEvent = o.onEvent ?? noEvents;
  const moved: { node: string; from: string; ms: number }[] = [];
  const skipped: string[] = [];
  const boundMs = promotionBoundMs(await nodeTimeoutMsOf(o.conns, s0.seed));
  let s = s0;
  for (const addr of intendedMasters) {
    const node = s.nodes.find((n) => addrKey(n.addr) === addrKey(addr));
    if (!node) {
      skipped.push(`${addrKey(addr)} is not reachable`);
      continue;
    }
    if (node.role === 'master') continue;
    s = await waitUntilReady(o.conns, s.seed, { what: 'restoring roles', signal: o.signal, timeoutMs: boundMs });
    const res = await failover(s, node.id, { conns: o.conns, password: o.password, signal: o.signal, onEvent, target: o.target });
    moved.push({ node: addrKey(node.addr), from: res.oldMaster, ms: res.ms });
    s = res.snapshot;
  }
  return { moved, skipped, snapshot: s };
}
