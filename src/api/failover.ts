import { waitUntilReady } from '../cluster/ready.js';
import { mastersOf, replicasOf, type Snapshot } from '../cluster/snapshot.js';
import { RctlError } from '../errors.js';
import { noEvents } from '../events.js';
import { drillFailover, type DrillReport } from '../failover/drill.js';
import { InjectedFault } from '../failover/fault.js';
import { failover, nodeTimeoutMsOf, type FailoverMode, type FailoverResult } from '../failover/manual-failover.js';
import { restoreRoles } from '../failover/roles.js';
import { addrKey, type NodeAddress } from '../redis/address.js';
import type { FaultMode } from './faults.js';
import type { HandleCore } from './handle-core.js';
import { selectNode, type NodeSelector } from './node-select.js';
import type { OperationOptions } from './operation.js';

export interface FailoverOptions extends OperationOptions {
  /** coordinated (default), force (the master is down) or takeover (no majority of masters). */
  readonly mode?: FailoverMode | undefined;
  /** Probe writes to the shard during the switch and report the longest gap (default true). */
  readonly probe?: boolean | undefined;
}

/** Promote a replica (CLUSTER FAILOVER) and wait until every node agrees. */
export async function failoverUseCase(core: HandleCore, replica: NodeSelector, o: FailoverOptions = {}): Promise<FailoverResult> {
  const mode = o.mode ?? 'coordinated';
  // A forced failover is a repair: the lease's slot may be served by the very master that is down.
  return core.exclusive('failover', o, { allowUnserved: mode !== 'coordinated' }, async (snapshot) => {
    // A forced failover happens exactly when the cluster is not healthy; only the coordinated one waits for health.
    const s = mode === 'coordinated' ? await waitUntilReady(core.conns, snapshot.seed, { what: 'a failover', signal: o.signal }) : snapshot;
    const ref = typeof replica === 'string' ? replica : selectNode(s, replica, 'replica').id;
    return failover(s, ref, { conns: core.conns, mode, probe: o.probe ?? true, password: core.target.password, signal: o.signal, onEvent: o.onEvent, target: core.target.flag });
  });
}

export interface DrillOptions extends OperationOptions {
  /** The master to fault (default: a random master with a synced replica). */
  readonly node?: NodeSelector | 'random' | undefined;
  /** stop (SIGTERM / docker stop), kill (SIGKILL, default) or pause (SIGSTOP / docker pause). */
  readonly mode?: FaultMode | undefined;
  /** Run a bounded writer through a cluster client and count what is lost. */
  readonly load?: boolean | undefined;
  /** Leave the keys the writer wrote (default: removed at the end). */
  readonly keepKeys?: boolean | undefined;
  /** Afterwards, hand the master role back to the faulted node. */
  readonly restore?: boolean | undefined;
  /** Called with the master about to be faulted (the CLI sets its repair hint here). */
  readonly onTarget?: ((master: { id: string; address: string; container?: string | undefined; pid?: number | undefined }) => void) | undefined;
}

/**
 * Fault a master, time the failover, bring it back, check, count lost writes: the same drill and
 * report as `rctl drill failover`. Only on nodes rctl may fault (its record, or the testcontainers
 * module); the user's data is left as it was found.
 */
export async function drillUseCase(core: HandleCore, o: DrillOptions = {}): Promise<DrillReport> {
  const faults = core.faults;
  if (!faults) throw new RctlError('USAGE', 'Drills stop, kill or freeze nodes, which rctl can only do for clusters it created.', { hint: 'Use --name with a cluster from `rctl ls` (or a cluster from rctl/testcontainers).' });
  const mode = o.mode ?? 'kill';
  // The drill faults a master on purpose, maybe the one serving the lease's slot: the lease must
  // outlive a failover (about 1.5 x node-timeout + election), so its TTL scales with node-timeout.
  const nodeTimeoutMs = core.target.record?.nodeTimeoutMs ?? (await nodeTimeoutMsOf(core.conns, (await core.snapshot()).seed).catch(() => 15_000));
  return core.exclusive('drill failover', o, { ttlMs: Math.max(20_000, 3 * nodeTimeoutMs + 10_000) }, async (snapshot) => {
    const s = await waitUntilReady(core.conns, snapshot.seed, { what: 'a drill', signal: o.signal });
    const eligible = mastersOf(s).filter((m) => replicasOf(s, m.id).some((r) => r.masterLinkStatus === 'up'));
    const master = o.node === undefined || o.node === 'random' ? eligible[Math.floor(Math.random() * eligible.length)] : selectNode(s, o.node, '--node');
    if (!master) throw new RctlError('REFUSED', 'No master has a synced replica to fail over to.', { hint: 'Create the cluster with --replicas 1 or more.' });
    const node = await faults.nodeAt(master.addr);
    if (!node) throw new RctlError('REFUSED', `${addrKey(master.addr)} was not started by rctl, so rctl cannot fault it.`);
    o.onTarget?.({ id: master.id, address: addrKey(master.addr), container: node.record.container, pid: node.record.pid });
    return drillFailover(s, master, {
      conns: core.conns,
      password: core.target.password,
      provider: node.provider,
      record: node.record,
      mode,
      load: Boolean(o.load),
      keepKeys: Boolean(o.keepKeys),
      restore: Boolean(o.restore),
      signal: o.signal,
      onEvent: o.onEvent,
      onRecovered: node.onRecovered,
    });
  });
}

/** Hand every shard's master role back to the node rctl gave it. */
export async function restoreRolesUseCase(core: HandleCore, intended: readonly NodeAddress[] | undefined, o: OperationOptions = {}): Promise<{ moved: { node: string; from: string; ms: number }[]; skipped: string[]; snapshot: Snapshot }> {
  if (!intended || intended.length === 0) throw new RctlError('USAGE', 'rctl knows the original roles only of clusters it created.', { hint: 'Use `rctl failover <replica>` to move a master role by hand.' });
  return core.exclusive('roles restore', o, {}, async (snapshot) => {
    const s = await waitUntilReady(core.conns, snapshot.seed, { what: 'restoring roles', signal: o.signal });
    return restoreRoles(s, intended, { conns: core.conns, password: core.target.password, signal: o.signal, onEvent: o.onEvent, target: core.target.flag });
  });
}

/** A node stopped, killed or frozen by `fault`; `recover()` brings it back (idempotent). */
export interface FaultedNode {
  readonly id: string;
  readonly address: string;
  readonly role: 'master' | 'replica';
  readonly mode: FaultMode;
  recover(): Promise<void>;
}

/**
 * Stop, kill or freeze one node, no questions asked (a chaos test's own fault; no lease, no
 * check). The caller recovers it; the ClusterHandle also recovers every fault still in place on close().
 */
export async function faultUseCase(core: HandleCore, sel: NodeSelector, mode: FaultMode, o: OperationOptions = {}): Promise<FaultedNode> {
  const faults = core.faults;
  if (!faults) throw new RctlError('USAGE', 'rctl faults only nodes it started (a cluster it created, or one from rctl/testcontainers).', { hint: 'Open the cluster by --name, or start it with rctl/testcontainers.' });
  const s = await core.snapshot();
  const n = selectNode(s, sel);
  const node = await faults.nodeAt(n.addr);
  if (!node) throw new RctlError('REFUSED', `${addrKey(n.addr)} was not started by rctl, so rctl cannot fault it.`);
  const fault = new InjectedFault(node.provider, node.record, mode, addrKey(n.addr), node.onRecovered);
  await fault.inject();
  (o.onEvent ?? noEvents)({ type: 'note', message: `${mode} ${n.role} ${addrKey(n.addr)} (${n.id.slice(0, 8)})` });
  let recovered = false;
  return {
    id: n.id,
    address: addrKey(n.addr),
    role: n.role === 'master' ? 'master' : 'replica',
    mode,
    async recover() {
      if (recovered) return;
      await fault.recover();
      recovered = true;
    },
  };
}
