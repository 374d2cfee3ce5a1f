import { RctlError } from '../errors.js';
import { noEvents, step, type EventSink } from '../events.js';
import { addrKey } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { announce, waitReplicaLinked } from './membership.js';
import { resolveNodeRef } from './node-ref.js';
import { takeSnapshot, type Snapshot } from './snapshot.js';
import { countSlots } from './slots.js';

/** Attach a node as replica of a master, or move a replica to another master. */
export async function attachReplica(
  s: Snapshot,
  replicaRef: string,
  masterRef: string,
  o: { conns: AdminConnections; signal?: AbortSignal | undefined; onEvent?: EventSink },
): Promise<{ replicaId: string; masterId: string; changed: boolean; snapshot: Snapshot }> {
  const onEvent = o.onEvent ?? noEvents;
  const replica = resolveNodeRef(s, replicaRef, 'REPLICA');
  const master = resolveNodeRef(s, masterRef, '--master');
  if (replica.id === master.id) throw new RctlError('USAGE', `${addrKey(replica.addr)} cannot replicate itself.`, { hint: 'Name another node as --master.' });
  if (master.role !== 'master') {
    throw new RctlError('REFUSED', `--master ${addrKey(master.addr)} is a replica; replicas follow masters.`, { hint: `It follows ${master.self.masterId?.slice(0, 8)}; name that master instead.` });
  }
  if (replica.role === 'master' && countSlots(replica.self.slots) > 0) {
    throw new RctlError('REFUSED', `${addrKey(replica.addr)} is a master owning ${countSlots(replica.self.slots)} slots; it cannot become a replica.`, {
      hint: `Move its slots away first: \`rctl reshard --from ${replica.id.slice(0, 8)} --to <master> --slots ${countSlots(replica.self.slots)}\` (or \`rctl scale-in --node ${replica.id.slice(0, 8)}\`).`,
    });
  }
  if (replica.role === 'replica' && replica.self.masterId === master.id) return { replicaId: replica.id, masterId: master.id, changed: false, snapshot: s };
  await step(onEvent, `${addrKey(replica.addr)} replicates ${addrKey(master.addr)}`, async () => {
    await o.conns.run(replica.addr, (r) => r.call('CLUSTER', 'REPLICATE', master.id));
    await announce(o.conns, replica.addr, s.nodes);
    await waitReplicaLinked(o.conns, replica.addr, master.id, s.nodes.map((n) => n.addr), { signal: o.signal });
  });
  return { replicaId: replica.id, masterId: master.id, changed: true, snapshot: await takeSnapshot(o.conns, s.seed) };
}
