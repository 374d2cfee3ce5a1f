import { RctlError } from '../errors.js';
import { sleep } from '../util/abort.js';
import { waitUntil } from '../util/wait.js';
import { addrKey, type NodeAddress } from '../redis/address.js';
import { checkCluster, type CheckExpectations, type CheckResult, type Finding } from './check.js';
import type { AdminConnections } from '../redis/connection.js';
import { takeSnapshot, type Snapshot } from './snapshot.js';
import { findStrayKeys } from './stray-keys.js';

/** Findings that settle by themselves within moments (gossip after a change, a replica's first sync). */
// SLOT_CLAIMED_TWICE too: a master restarted after a failover claims its old slots until it hears
// of the higher epoch (then it drops them); a verdict waits for that, bounded.
const TRANSIENT = new Set<Finding['code']>(['NODE_LOADING', 'STATE_NOT_OK', 'MEMBERSHIP_DISAGREEMENT', 'ROLE_DISAGREEMENT', 'CONFIG_DISAGREEMENT', 'REPLICA_LINK_DOWN', 'SLOT_CLAIMED_TWICE']);

/**
 * The gate before moving data: wait (bounded) while only transient problems remain, refuse at
 * once on real ones (open slots, failing or unreachable nodes, uncovered slots, stray keys), each
 * with the command that fixes it. Right after `add-node` the new master does not see
 * cluster_state:ok yet; `redis-cli --cluster reshard` fails there with CLUSTERDOWN, rctl waits.
 */
export async function waitUntilReady(conns: AdminConnections, seed: NodeAddress, opts: { timeoutMs?: number; signal?: AbortSignal | undefined; what: string }): Promise<Snapshot> {
  const snap = await waitUntil(
    `the cluster to be healthy before ${opts.what}`,
    async () => {
      const s = await takeSnapshot(conns, seed);
      const problems = checkCluster(s).findings.filter((f) => f.severity === 'problem');
      if (problems.length === 0) return { done: true, value: s };
      // A node flagged fail that answers again is about to be cleared by its next ping exchange.
      const reachable = new Set(s.nodes.map((n) => addrKey(n.addr)));
      const settling = (f: Finding): boolean => TRANSIENT.has(f.code) || (f.code === 'NODE_FAILING' && f.nodes.every((a) => reachable.has(a)));
      const blocking = problems.filter((f) => !settling(f));
      if (blocking.length > 0) throw refusal(opts.what, blocking);
      return { done: false, reason: problems[0]!.message };
    },
    { timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: 50, signal: opts.signal, hint: 'Run `rctl check` to see what is still settling.' },
  );
  const stray = await findStrayKeys(conns, snap);
  const strayFindings = checkCluster(snap, {}, stray).findings.filter((f) => f.code === 'MULTIPLE_OWNERS');
  if (strayFindings.length > 0) throw refusal(opts.what, strayFindings);
  return snap;
}

function refusal(what: string, findings: readonly Finding[]): RctlError {
  const first = findings[0]!;
  const more = findings.length > 1 ? ` (and ${findings.length - 1} more problem(s))` : '';
  return new RctlError('REFUSED', `Refusing to start ${what}: ${first.message}${more}`, {
    hint: first.fix ?? 'Run `rctl check` and fix what it reports first.',
    details: { findings },
  });
}

/** Findings that only mean "gossip has not settled yet" after a failover, restart or change. */
const UNSETTLED = new Set<Finding['code']>(['NODE_LOADING', 'MEMBERSHIP_DISAGREEMENT', 'ROLE_DISAGREEMENT', 'CONFIG_DISAGREEMENT', 'SLOT_CLAIMED_TWICE']);

/**
 * Wait (bounded) until the nodes agree with each other, whatever else is wrong: repairs must act
 * on a settled picture (a master restarted after a failover claims its old slots until it hears
 * it was replaced).
 */
export async function waitSettled(conns: AdminConnections, seed: NodeAddress, o: { timeoutMs?: number; signal?: AbortSignal | undefined } = {}): Promise<Snapshot> {
  return waitUntil(
    'the nodes to agree with each other (members, roles, slots)',
    async () => {
      const s = await takeSnapshot(conns, seed);
      const reachable = new Set(s.nodes.map((n) => addrKey(n.addr)));
      const pending = checkCluster(s).findings.find((f) => UNSETTLED.has(f.code) || (f.code === 'NODE_FAILING' && f.nodes.every((a) => reachable.has(a))));
      return pending ? { done: false, reason: pending.message } : { done: true, value: s };
    },
    { timeoutMs: o.timeoutMs ?? 30_000, intervalMs: 100, signal: o.signal, hint: 'Run `rctl check` to see what keeps changing.' },
  );
}

/** What a final verdict is based on: the last reading, its check, and how long rctl waited for it to settle. */
export interface SettledVerdict {
  readonly snapshot: Snapshot;
  readonly check: CheckResult;
  readonly waitedMs: number;
}

/** cluster-node-timeout as the seed has it (ms); gossip settles within a fraction of it. */
async function nodeTimeoutOf(conns: AdminConnections, seed: NodeAddress): Promise<number> {
  try {
    const res = (await conns.run(seed, (r) => r.call('CONFIG', 'GET', 'cluster-node-timeout'))) as string[];
    const n = Number(res[1]);
    return Number.isFinite(n) && n > 0 ? n : 15_000;
  } catch {
    return 15_000;
  }
}

/**
 * How long a verdict may wait for changes rctl itself caused to reach every node. A node pings
 * every peer it has not heard from for node-timeout/2 (cluster.c clusterCron), so roles, epochs
 * and slot owners reach everyone within about node-timeout; a replica re-linking after a role
 * change needs its sync on top. Scaled with the cluster's size (more peers, more gossip rounds).
 */
export function settleBoundMs(nodeTimeoutMs: number, nodes: number): number {
  return Math.min(120_000, Math.max(5_000, 2 * nodeTimeoutMs) + 100 * nodes);
}

/**
 * The verdict after a change: read and check repeatedly while what is wrong is only what settles
 * by itself (gossip of roles, epochs and owners, replica links, cluster_state), bounded by
 * settleBoundMs; judge what is still wrong at the end. A problem that does not settle (an open
 * slot, stray keys, an unreachable node, lost keys) ends the wait at once.
 */
export async function settledVerdict(
  conns: AdminConnections,
  seed: NodeAddress,
  o: { expect?: CheckExpectations; signal?: AbortSignal | undefined; timeoutMs?: number } = {},
): Promise<SettledVerdict> {
  const t0 = performance.now();
  const first = await takeSnapshot(conns, seed);
  const bound = o.timeoutMs ?? settleBoundMs(await nodeTimeoutOf(conns, seed), first.nodes.length + first.unreachable.length);
  let snapshot = first;
  for (;;) {
    // Stray keys never settle by themselves and cost a server-side pass over 16384 slots per
    // master: they are counted once, for the final judgment, not on every round of the wait.
    const problems = checkCluster(snapshot, o.expect ?? {}).findings.filter((f) => f.severity === 'problem');
    const reachable = new Set(snapshot.nodes.map((n) => addrKey(n.addr)));
    const settling = problems.length > 0 && problems.every((f) => TRANSIENT.has(f.code) || (f.code === 'NODE_FAILING' && f.nodes.every((a) => reachable.has(a))));
    const waited = performance.now() - t0;
    if (!settling || waited >= bound) {
      const check = checkCluster(snapshot, o.expect ?? {}, await findStrayKeys(conns, snapshot));
      return { snapshot, check, waitedMs: Math.round(performance.now() - t0) };
    }
    await sleep(100, o.signal);
    snapshot = await takeSnapshot(conns, seed);
  }
}
