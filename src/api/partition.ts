import { waitUntilReady } from '../cluster/ready.js';
import { mastersOf } from '../cluster/snapshot.js';
import { RctlError } from '../errors.js';
import { drillPartition, type IsolateSpec, type PartitionDrillReport } from '../failover/partition-drill.js';
import { healChain, healCluster, listTagged, partition, type Healed, type PartitionHandle } from '../failover/partition.js';
import type { PartitionMode } from '../failover/partition-plan.js';
import { nodeTimeoutMsOf } from '../failover/manual-failover.js';
import type { HandleCore } from './handle-core.js';
import { selectNode, type NodeSelector } from './node-select.js';
import type { OperationOptions } from './operation.js';

/** The name a cluster's rules are filed under: rctl's name for it, else how it was reached. */
export const ruleOwner = (core: HandleCore): string => core.target.record?.name ?? core.target.label;

export interface PartitionOptions extends OperationOptions {
  /** full (default): every packet between the sides; bus-only: the cluster bus only; one-way: the isolated side cannot reach the rest. */
  readonly mode?: PartitionMode | undefined;
}

/**
 * Cut nodes off the rest of the cluster until `heal()` (a chaos test's own fault: no lease, no
 * check). Needs iptables, root, and nodes on distinct addresses (`create --address-per-node`);
 * refused before anything is touched otherwise. ClusterHandle.close() heals what is still cut.
 */
export async function partitionUseCase(core: HandleCore, isolate: NodeSelector | readonly NodeSelector[], o: PartitionOptions = {}): Promise<PartitionHandle> {
  const s = await core.snapshot();
  const list = Array.isArray(isolate) ? (isolate as readonly NodeSelector[]) : [isolate as NodeSelector];
  const ids = new Set(list.map((sel) => selectNode(s, sel).id));
  const toPart = (n: (typeof s.nodes)[number]) => ({ id: n.id, host: n.addr.host, port: n.addr.port, busPort: n.self.busPort });
  const sideA = s.nodes.filter((n) => ids.has(n.id)).map(toPart);
  const sideB = s.nodes.filter((n) => !ids.has(n.id)).map(toPart);
  const handle = await partition(ruleOwner(core), sideA, sideB, o.mode ?? 'full');
  o.onEvent?.({ type: 'note', message: `cut ${sideA.map((n) => `${n.host}:${n.port}`).join(', ')} off ${sideB.length} node(s) (${o.mode ?? 'full'}, ${handle.rules.length} rule(s))` });
  return handle;
}

export interface PartitionDrillOptions extends PartitionOptions {
  /** What to cut off: 'master' (default: a random master with a synced replica), 'replica', or node references. */
  readonly isolate?: IsolateSpec | undefined;
  /** How long the cut lasts (default: node-timeout + 5 s: long enough for a failover). */
  readonly durationMs?: number | undefined;
  /** Writers on both sides and the lost-write report (default true). */
  readonly load?: boolean | undefined;
  readonly keepKeys?: boolean | undefined;
}

/** `rctl drill partition`: cut, watch, heal, settle, read back, report against the documented prediction. */
export async function drillPartitionUseCase(core: HandleCore, o: PartitionDrillOptions = {}): Promise<PartitionDrillReport> {
  const first = await core.snapshot();
  if (mastersOf(first).length === 0) throw new RctlError('REFUSED', 'The cluster has no master.', { hint: 'Run `rctl check`.' });
  const nodeTimeoutMs = await nodeTimeoutMsOf(core.conns, first.seed).catch(() => 15_000);
  const durationMs = o.durationMs ?? nodeTimeoutMs + 5000;
  // The lease's own slot may be served by the master cut off: its TTL must outlive the failover.
  return core.exclusive('drill partition', o, { ttlMs: Math.max(20_000, durationMs + 3 * nodeTimeoutMs + 10_000) }, async (snapshot) => {
    const s = await waitUntilReady(core.conns, snapshot.seed, { what: 'a partition drill', signal: o.signal });
    return drillPartition(s, {
      conns: core.conns,
      password: core.target.password,
      cluster: ruleOwner(core),
      isolate: o.isolate ?? 'master',
      mode: o.mode ?? 'full',
      durationMs,
      load: o.load ?? true,
      keepKeys: o.keepKeys,
      signal: o.signal,
      onEvent: o.onEvent,
    });
  });
}

/** Remove every rule rctl added for the named cluster (also after a crash: found by its chain). */
export function heal(name: string): Promise<Healed> {
  return healCluster(name);
}

/** Remove the rules of every cluster rctl partitioned. */
export async function healAll(): Promise<Healed[]> {
  const out: Healed[] = [];
  for (const t of await listTagged()) out.push(await healChain(t.chain, t.cluster));
  return out;
}

export type { Healed, PartitionHandle, PartitionDrillReport, IsolateSpec, PartitionMode };
