import { RctlError } from '../errors.js';
import { noEvents, step, type EventSink } from '../events.js';
import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { announce, forgetEverywhere, waitReplicaLinked } from './membership.js';
import { resolveKnownNode } from './node-ref.js';
import { mastersOf, nodeById, replicasOf, takeSnapshot, type Snapshot } from './snapshot.js';
import { countSlots } from './slots.js';

export interface DelNodeResult {
  readonly id: string;
  readonly addr: NodeAddress;
  readonly wasReachable: boolean;
  readonly movedReplicas: readonly string[];
  readonly snapshot: Snapshot;
}

/**
 * Remove a node from the cluster. A master that owns slots is refused (move them first); an empty
 * master's replicas are re-pointed to the master with fewest replicas; then every other node
 * forgets it and, if it answers, it is reset so it does not gossip itself back in. A node that is
 * down is removed by id (forgotten everywhere).
 */
export async function deleteNode(s: Snapshot, ref: string, o: { conns: AdminConnections; signal?: AbortSignal | undefined; onEvent?: EventSink }): Promise<DelNodeResult> {
  const onEvent = o.onEvent ?? noEvents;
  const node = resolveKnownNode(s, ref, 'NODE');
  const st = node.state;
  // A node that is down is judged by what its peers say about it.
  const seen = st?.self ?? s.nodes.map((n) => n.view.find((l) => l.id === node.id)).find((l) => l !== undefined);
  const slots = seen ? countSlots(seen.slots) : 0;
  const isMaster = seen ? seen.flags.includes('master') : false;
  if (isMaster && slots > 0) {
    throw new RctlError('REFUSED', `${addrKey(node.addr)} is a master owning ${slots} slots; deleting it would lose them.`, {
      hint: `Use \`rctl scale-in --node ${node.id.slice(0, 8)}\`, or move its slots first with \`rctl reshard --from ${node.id.slice(0, 8)} --to <master> --slots ${slots}\`.`,
    });
  }
  const moved: string[] = [];
  const followers = s.nodes.filter((n) => n.role === 'replica' && n.self.masterId === node.id);
  // Each follower goes to the master with fewest replicas at that moment (most slots, then id, on ties).
  const load = new Map(mastersOf(s).filter((m) => m.id !== node.id).map((m) => [m.id, replicasOf(s, m.id).length]));
  for (const f of followers) {
    const best = [...load].sort((a, b) => a[1] - b[1] || countSlots(nodeById(s, b[0])!.self.slots) - countSlots(nodeById(s, a[0])!.self.slots) || a[0].localeCompare(b[0]))[0];
    if (!best) throw new RctlError('REFUSED', `No other master could take over the replica ${addrKey(f.addr)}.`);
    const to = nodeById(s, best[0])!;
    load.set(to.id, best[1] + 1);
    await step(onEvent, `re-point replica ${addrKey(f.addr)} to ${addrKey(to.addr)}`, async () => {
      await o.conns.run(f.addr, (r) => r.call('CLUSTER', 'REPLICATE', to.id));
      await announce(o.conns, f.addr, s.nodes.filter((n) => n.id !== node.id));
      await waitReplicaLinked(o.conns, f.addr, to.id, s.nodes.filter((n) => n.id !== node.id).map((n) => n.addr), { signal: o.signal });
    });
    moved.push(f.id);
  }
  const members = s.nodes.filter((n) => n.id !== node.id);
  await step(onEvent, `make ${members.length} nodes forget ${addrKey(node.addr)} (CLUSTER FORGET)`, () => forgetEverywhere(o.conns, node.id, members, { signal: o.signal }));
  if (st) {
    // Reset within the 60 s forget window so it does not announce itself again.
    await step(onEvent, `reset ${addrKey(node.addr)} (CLUSTER RESET HARD)`, () =>
      o.conns.run(node.addr, async (r) => {
        if (st.role === 'master' && st.keys > 0) await r.flushall();
        await r.call('CLUSTER', 'RESET', 'HARD');
      }),
    );
  }
  return { id: node.id, addr: node.addr, wasReachable: st !== undefined, movedReplicas: moved, snapshot: await takeSnapshot(o.conns, members[0]?.addr ?? s.seed) };
}
