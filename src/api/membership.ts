import { addNode, type AddNodeResult } from '../cluster/add-node.js';
import { deleteNode, type DelNodeResult } from '../cluster/del-node.js';
import { resolveKnownNode } from '../cluster/node-ref.js';
import { waitUntilReady } from '../cluster/ready.js';
import { attachReplica } from '../cluster/replica-attach.js';
import { mastersOf, type Snapshot } from '../cluster/snapshot.js';
import { RctlError } from '../errors.js';
import { recordedAt, recordedNodes } from '../provision/recorded-nodes.js';
import { providerFor } from '../provision/select.js';
import { addrKey, parseHostPort, type NodeAddress } from '../redis/address.js';
import { recordMasters } from '../state/records.js';
import type { HandleCore } from './handle-core.js';
import { confirmed, type OperationOptions } from './operation.js';

export interface AddNodeOptions extends OperationOptions {
  /** A running, empty, cluster-enabled node; absent: rctl starts one (clusters it created only). */
  readonly addr?: string | NodeAddress | undefined;
  /** Join as a replica of this master (id, prefix, host:port) or "auto"; absent: an empty master. */
  readonly replicaOf?: string | undefined;
}

export type { AddNodeResult };

/**
 * Add a node. Without `addr`, a node is started like create started the others; if adding it
 * fails, that node is removed again: nothing half-done is left.
 */
export async function addNodeUseCase(core: HandleCore, o: AddNodeOptions = {}): Promise<AddNodeResult & { provisioned: boolean }> {
  return core.exclusive('add-node', o, {}, async (first) => {
    const ready = await waitUntilReady(core.conns, first.seed, { what: 'adding a node', signal: o.signal });
    let addr = typeof o.addr === 'string' ? parseHostPort(o.addr, '--addr') : o.addr;
    let started: { remove(indexes: readonly number[]): Promise<void>; machine: string | undefined } | undefined;
    let index: number | undefined;
    const rec = core.target.record;
    if (!addr) {
      if (!rec) throw new RctlError('USAGE', 'rctl did not create this cluster, so it cannot provision a node for it.', { hint: 'Start an empty cluster-enabled node yourself and pass --addr host:port.' });
      const nodes = await recordedNodes(rec.name, await providerFor(rec.provider, rec.image), core.conns, o.onEvent ?? (() => undefined), o.signal);
      index = Math.max(0, ...rec.nodes.map((n) => n.index)) + 1;
      started = nodes;
      o.onEvent?.({ type: 'note', message: `starting node ${index} (${addrKey(nodes.addressOf(index))}); if this stops half-way, \`rctl del-node --name ${rec.name} ${addrKey(nodes.addressOf(index))}\` removes it` });
      await nodes.start([index]);
      addr = nodes.addressOf(index);
    }
    try {
      const res = await addNode(ready, addr, { conns: core.conns, replicaOf: o.replicaOf, signal: o.signal, onEvent: o.onEvent, machine: started?.machine });
      if (rec) await recordMasters(rec.name, mastersOf(res.snapshot).length);
      return { ...res, provisioned: started !== undefined };
    } catch (err) {
      // Nothing half-done: a node rctl started for this is removed again.
      if (started && index !== undefined) await started.remove([index]).catch(() => undefined);
      throw err;
    }
  });
}

export interface DelNodeOptions extends OperationOptions {
  /** Leave the container/process and its data in place (default: a node rctl started is deleted). */
  readonly keepContainer?: boolean | undefined;
}

export interface DelNodeReport extends DelNodeResult {
  /** Its container/process and data were deleted too. */
  readonly deletedNode: boolean;
  /** rctl started it (so it could delete it). */
  readonly recorded: boolean;
}

/** Remove a replica or an empty master (also one that is down); delete what rctl started for it. */
export async function delNodeUseCase(core: HandleCore, ref: string, o: DelNodeOptions = {}): Promise<DelNodeReport> {
  return core.exclusive('del-node', o, { allowUnserved: true }, async (snapshot) => {
    const known = resolveKnownNode(snapshot, ref, 'NODE');
    // A node that is down cannot pass a health check; only wait for health when it answers.
    const s: Snapshot = known.state ? await waitUntilReady(core.conns, snapshot.seed, { what: 'removing a node', signal: o.signal }).catch(() => snapshot) : snapshot;
    await confirmed(o, `Remove ${addrKey(known.addr)} (${known.id.slice(0, 8)}) from the cluster?`, `Removing ${addrKey(known.addr)}`);
    const rec = core.target.record;
    // Before the cluster changes: a docker cluster with no engine answering is refused up front.
    const provider = rec && recordedAt(rec, known.addr) && !o.keepContainer ? await providerFor(rec.provider, rec.image) : undefined;
    const res = await deleteNode(s, known.id, { conns: core.conns, signal: o.signal, onEvent: o.onEvent });
    const recorded = rec ? recordedAt(rec, res.addr) : undefined;
    if (rec) await recordMasters(rec.name, mastersOf(res.snapshot).length);
    let deletedNode = false;
    if (rec && recorded && provider) {
      await (await recordedNodes(rec.name, provider, core.conns, o.onEvent ?? (() => undefined))).remove([recorded.index]);
      deletedNode = true;
    }
    return { ...res, deletedNode, recorded: recorded !== undefined };
  });
}

export interface AttachResult {
  readonly replicaId: string;
  readonly masterId: string;
  /** False when it already replicated that master. */
  readonly changed: boolean;
  readonly snapshot: Snapshot;
}

/** Attach a node as replica of a master, or move a replica; returns once its link is up. */
export async function attachReplicaUseCase(core: HandleCore, replica: string, master: string, o: OperationOptions = {}): Promise<AttachResult> {
  return core.exclusive('replica attach', o, {}, async (first) => {
    const s = await waitUntilReady(core.conns, first.seed, { what: 'attaching a replica', signal: o.signal });
    return attachReplica(s, replica, master, { conns: core.conns, signal: o.signal, onEvent: o.onEvent });
  });
}
