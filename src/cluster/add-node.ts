import { RctlError } from '../errors.js';
import { noEvents, step, type EventSink } from '../events.js';
import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { announce, meetAll, waitJoined, waitReplicaLinked } from './membership.js';
import { assertFreshNode } from './node-preflight.js';
import { resolveNodeRef } from './node-ref.js';
import { pickMasterForReplica } from './replica-choice.js';
import { readNode, takeSnapshot, type NodeState, type Snapshot } from './snapshot.js';

export interface AddNodeOptions {
  readonly conns: AdminConnections;
  /** Follow a master: a reference, or "auto" (fewest replicas, another machine preferred). */
  readonly replicaOf?: string | undefined;
  /** The new node's failure domain, and the members' (for "auto"). */
  readonly machine?: string | undefined;
  readonly machineOf?: ReadonlyMap<string, string>;
  readonly signal?: AbortSignal | undefined;
  readonly onEvent?: EventSink;
  readonly timeoutMs?: number;
}

export interface AddNodeResult {
  readonly id: string;
  readonly addr: NodeAddress;
  readonly role: 'master' | 'replica';
  readonly masterId: string | undefined;
  readonly snapshot: Snapshot;
}

/**
 * Add an empty node to the cluster: check it is empty and alone, MEET it with every member, wait
 * until everyone knows it and it sees cluster_state:ok, and, as a replica, attach it and wait for
 * its link. The new node joins as an empty master when no master is given.
 */
export async function addNode(s: Snapshot, addr: NodeAddress, o: AddNodeOptions): Promise<AddNodeResult> {
  const onEvent = o.onEvent ?? noEvents;
  const fresh = await readNode(o.conns, addr);
  assertFreshNode(fresh);
  if (s.nodes.some((n) => n.id === fresh.id)) throw new RctlError('REFUSED', `${addrKey(addr)} is already a member of this cluster.`);
  let master: NodeState | undefined;
  if (o.replicaOf === 'auto') {
    master = pickMasterForReplica(s, o.machine, o.machineOf);
    if (!master) throw new RctlError('REFUSED', 'The cluster has no master the new replica could follow.');
  } else if (o.replicaOf !== undefined) {
    master = resolveNodeRef(s, o.replicaOf, '--replica-of');
    if (master.role !== 'master') {
      throw new RctlError('REFUSED', `--replica-of ${addrKey(master.addr)} is a replica; a replica must follow a master.`, { hint: 'Name a master, or use --replica-of auto.' });
    }
  }
  const members = s.nodes;
  await step(onEvent, `introduce ${addrKey(addr)} to ${members.length} nodes (CLUSTER MEET)`, () => meetAll(o.conns, fresh, members));
  await step(onEvent, master ? 'wait until every node knows it' : 'wait until every node knows it and it sees cluster_state:ok', () =>
    waitJoined(o.conns, fresh, members, { timeoutMs: o.timeoutMs, signal: o.signal, requireOk: !master }),
  );
  if (master) {
    const m = master;
    await step(onEvent, `attach it as a replica of ${addrKey(m.addr)}`, async () => {
      await o.conns.run(addr, (r) => r.call('CLUSTER', 'REPLICATE', m.id));
      await announce(o.conns, addr, members);
      await waitReplicaLinked(o.conns, addr, m.id, members.map((x) => x.addr), { signal: o.signal });
      await waitJoined(o.conns, fresh, members, { timeoutMs: o.timeoutMs, signal: o.signal });
    });
  }
  const snapshot = await takeSnapshot(o.conns, s.seed);
  return { id: fresh.id, addr, role: master ? 'replica' : 'master', masterId: master?.id, snapshot };
}
