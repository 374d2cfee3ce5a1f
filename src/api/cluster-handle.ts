import { keySlot } from '../cluster/keyslot.js';
import { mastersOf, type Snapshot } from '../cluster/snapshot.js';
import { slotsOf } from '../cluster/slots.js';
import type { DrillReport } from '../failover/drill.js';
import type { FailoverResult } from '../failover/manual-failover.js';
import { addrKey, type NodeAddress } from '../redis/address.js';
import { AdminConnections } from '../redis/connection.js';
import type { Plan } from '../reshard/plan.js';
import type { DrainIntent } from '../reshard/plan-drain.js';
import { planRebalance, type RebalanceIntent } from '../reshard/plan-rebalance.js';
import { planReshard, type ReshardIntent } from '../reshard/plan-reshard.js';
import type { ClusterRecord } from '../state/records.js';
import { checkUseCase, fixUseCase, type CheckReport, type FixOptions, type FixReport } from './check.js';
import { drillUseCase, failoverUseCase, faultUseCase, restoreRolesUseCase, type DrillOptions, type FailoverOptions, type FaultedNode } from './failover.js';
import { recordedFaults, type FaultBackend, type FaultMode } from './faults.js';
import { HandleCore } from './handle-core.js';
import { addNodeUseCase, attachReplicaUseCase, delNodeUseCase, type AddNodeOptions, type AddNodeResult, type AttachResult, type DelNodeOptions, type DelNodeReport } from './membership.js';
import { applyUseCase, movePlanned, planDrainUseCase, planRebalanceUseCase, planReshardUseCase, type MoveOptions, type MoveOutcome } from './moves.js';
import type { NodeSelector } from './node-select.js';
import type { OperationOptions } from './operation.js';
import { drillPartitionUseCase, heal, partitionUseCase, ruleOwner, type Healed, type PartitionDrillOptions, type PartitionDrillReport, type PartitionHandle, type PartitionOptions } from './partition.js';
import { scaleUseCase, type ScaleOptions, type ScaleReport } from './scale.js';
import { firstSnapshot, resolveTarget, type ClusterTarget, type ResolvedTarget } from './target.js';
import { setWriteSafetyUseCase, type WriteSafetyOptions, type WriteSafetyResult } from './write-safety.js';

export interface OpenOptions extends ClusterTarget {
  /** Notes while opening (e.g. which of --seed/--name selects the cluster). */
  readonly onEvent?: OperationOptions['onEvent'];
  /** How to fault its nodes; default: rctl's record (clusters it created), none for --seed clusters. */
  readonly faults?: FaultBackend | undefined;
  /** The masters rctl gave the cluster, for restoreRoles(); default: from rctl's record. */
  readonly intendedMasters?: readonly NodeAddress[] | undefined;
}

/** The owner of a key's slot. */
export interface SlotOwner {
  readonly key: string;
  readonly slot: number;
  readonly owner: { readonly id: string; readonly address: string } | null;
}

/**
 * An open Redis Cluster: every use case a CLI command runs, as a method. Each call reads the live
 * cluster first (a fresh snapshot); operations that change it take the cluster's lease, accept an
 * AbortSignal (`signal`) and an event callback (`onEvent`), and fail with a typed RctlError.
 * Close it (or `await using`) to drop its connections and bring back faults still in place.
 */
export class ClusterHandle {
  private readonly faulted = new Set<FaultedNode>();
  private readonly cuts = new Set<PartitionHandle>();

  /** @internal use openCluster() */
  constructor(
    private readonly core: HandleCore,
    private readonly intended: readonly NodeAddress[] | undefined,
  ) {}

  get target(): ResolvedTarget {
    return this.core.target;
  }
  /** rctl's record of the cluster, when rctl created it. */
  get record(): ClusterRecord | undefined {
    return this.core.target.record;
  }
  /** The AUTH password in use (never printed by rctl). */
  get password(): string | undefined {
    return this.core.target.password;
  }

  /** A fresh snapshot: every node, its role, slots, keys, links (what `rctl info` shows). */
  info(): Promise<Snapshot> {
    return this.core.snapshot();
  }
  /** The same findings and verdict as `rctl check`. */
  check(o: { replicas?: number | undefined } = {}): Promise<CheckReport> {
    return checkUseCase(this.core, o);
  }
  /** Repair open/uncovered slots and multiple owners without losing keys; verdict after a bounded settle. */
  fix(o: FixOptions = {}): Promise<FixReport> {
    return fixUseCase(this.core, o);
  }

  /** Pure plan to move `slots` slots to `to` (on a fresh, healthy snapshot; serialise with toPlanFile). */
  planReshard(intent: ReshardIntent, o: OperationOptions = {}): Promise<Plan> {
    return planReshardUseCase(this.core, intent, o);
  }
  planRebalance(intent: RebalanceIntent = {}, o: OperationOptions = {}): Promise<Plan> {
    return planRebalanceUseCase(this.core, intent, o);
  }
  /** Pure plan to empty masters (scale-in's drain step). */
  planDrain(intent: DrainIntent, o: OperationOptions = {}): Promise<Plan> {
    return planDrainUseCase(this.core, intent, o);
  }
  /** Apply a plan, wave by wave, checked between waves; refused if the cluster changed since it was planned. */
  apply(plan: Plan, o: MoveOptions = {}): Promise<MoveOutcome> {
    return applyUseCase(this.core, plan, o);
  }
  /** Plan and apply under one lease (what `rctl reshard` does). */
  reshard(intent: ReshardIntent | ((ready: Snapshot) => ReshardIntent | Promise<ReshardIntent>), o: MoveOptions = {}): Promise<MoveOutcome> {
    return movePlanned(this.core, 'reshard', async (s) => planReshard(s, typeof intent === 'function' ? await intent(s) : intent), o);
  }
  rebalance(intent: RebalanceIntent = {}, o: MoveOptions = {}): Promise<MoveOutcome> {
    return movePlanned(this.core, 'rebalance', (s) => planRebalance(s, intent), o);
  }

  addNode(o: AddNodeOptions = {}): Promise<AddNodeResult & { provisioned: boolean }> {
    return addNodeUseCase(this.core, o);
  }
  attachReplica(replica: string, master: string, o: OperationOptions = {}): Promise<AttachResult> {
    return attachReplicaUseCase(this.core, replica, master, o);
  }
  delNode(ref: string, o: DelNodeOptions = {}): Promise<DelNodeReport> {
    return delNodeUseCase(this.core, ref, o);
  }
  scaleOut(o: ScaleOptions = {}): Promise<ScaleReport> {
    return scaleUseCase(this.core, 'scale-out', o);
  }
  scaleIn(o: ScaleOptions = {}): Promise<ScaleReport> {
    return scaleUseCase(this.core, 'scale-in', o);
  }

  failover(replica: NodeSelector, o: FailoverOptions = {}): Promise<FailoverResult> {
    return failoverUseCase(this.core, replica, o);
  }
  /** The same drill and report as `rctl drill failover` (nodes rctl started only). */
  drillFailover(o: DrillOptions = {}): Promise<DrillReport> {
    return drillUseCase(this.core, o);
  }
  restoreRoles(o: OperationOptions = {}): Promise<{ moved: { node: string; from: string; ms: number }[]; skipped: string[]; snapshot: Snapshot }> {
    return restoreRolesUseCase(this.core, this.intended, o);
  }

  /** SIGKILL a node (a container kill); `recover()` on the result starts it again. */
  kill(node: NodeSelector, o: OperationOptions = {}): Promise<FaultedNode> {
    return this.fault(node, 'kill', o);
  }
  /** Graceful stop (SIGTERM / docker stop). */
  stop(node: NodeSelector, o: OperationOptions = {}): Promise<FaultedNode> {
    return this.fault(node, 'stop', o);
  }
  /** Freeze (SIGSTOP / docker pause): the node holds its connections but answers nothing. */
  pause(node: NodeSelector, o: OperationOptions = {}): Promise<FaultedNode> {
    return this.fault(node, 'pause', o);
  }
  /** Stop and start a node again; resolves once it was started (it rejoins by itself). */
  async restart(node: NodeSelector, o: OperationOptions = {}): Promise<void> {
    const f = await this.fault(node, 'stop', o);
    await f.recover();
  }
  async fault(node: NodeSelector, mode: FaultMode, o: OperationOptions = {}): Promise<FaultedNode> {
    return tracked(this.faulted, await faultUseCase(this.core, node, mode, o), 'recover');
  }

  /**
   * Cut nodes off the rest of the cluster until `heal()` on the result (or on this handle, or
   * close()). Needs iptables, root and nodes on distinct addresses (`create --address-per-node`).
   */
  async partition(isolate: NodeSelector | readonly NodeSelector[], o: PartitionOptions = {}): Promise<PartitionHandle> {
    return tracked(this.cuts, await partitionUseCase(this.core, isolate, o), 'heal');
  }
  /** Remove every rule rctl added to partition this cluster (also ones a crashed run left). */
  async heal(): Promise<Healed> {
    this.cuts.clear();
    return heal(ruleOwner(this.core));
  }
  /** The same drill and report as `rctl drill partition`: cut, watch, heal, settle, lost writes vs the documented prediction. */
  drillPartition(o: PartitionDrillOptions = {}): Promise<PartitionDrillReport> {
    return drillPartitionUseCase(this.core, o);
  }

  /**
   * min-replicas-to-write / min-replicas-max-lag on every node, verified (what `rctl config
   * write-safety` does): a master cut from its replicas stops acknowledging writes after ≈ max-lag.
   */
  setWriteSafety(o: WriteSafetyOptions): Promise<WriteSafetyResult> {
    return setWriteSafetyUseCase(this.core, o);
  }

  /** Hash slot of each key (hash tags honoured) and the master serving it now. */
  async slotOf(...keys: string[]): Promise<SlotOwner[]> {
    const s = await this.core.snapshot();
    const owner = new Map<number, { id: string; address: string }>();
    for (const m of mastersOf(s)) for (const slot of slotsOf(m.self.slots)) owner.set(slot, { id: m.id, address: addrKey(m.addr) });
    return keys.map((key) => {
      const slot = keySlot(key);
      return { key, slot, owner: owner.get(slot) ?? null };
    });
  }

  /** Heal partitions and bring back faults still in place, then close every connection. */
  async close(): Promise<void> {
    for (const c of [...this.cuts]) await c.heal().catch(() => undefined);
    for (const f of [...this.faulted]) await f.recover().catch(() => undefined);
    await this.core.close();
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Keep `x` in `set` until its `undo` ran, so close() can undo what a caller left in place (a fault, a cut). */
function tracked<T extends { [k in K]: () => Promise<void> }, K extends string>(set: Set<T>, x: T, undo: K): T {
  const t = { ...x, [undo]: async () => {
    await x[undo]();
    set.delete(t);
  } } as T;
  set.add(t);
  return t;
}

/** Open a cluster by `seed` (any cluster) or `name` (one rctl created). Close the handle when done. */
export async function openCluster(o: OpenOptions = {}): Promise<ClusterHandle> {
  const target = await resolveTarget(o, o.onEvent);
  const conns = new AdminConnections({ password: target.password, connectTimeoutMs: o.connectTimeoutMs ?? 2000 });
  try {
    const first = await firstSnapshot(target, conns);
    const rec = target.record;
    const faults = o.faults ?? (rec ? recordedFaults(rec) : undefined);
    const intended = o.intendedMasters ?? rec?.nodes.filter((n) => n.role === 'master').map((n) => ({ host: n.host, port: n.port }));
    return new ClusterHandle(new HandleCore(target, conns, first, faults), intended);
  } catch (err) {
    await conns.closeAll();
    throw err;
  }
}
