import { RctlError } from '../errors.js';
import { waitUntil } from '../util/wait.js';
import { addrKey, type NodeAddress } from './address.js';
import { checkCluster, type Finding } from './check.js';
import type { AdminConnections } from './connection.js';
import { takeSnapshot, type Snapshot } from './snapshot.js';
import { findStrayKeys } from './stray-keys.js';

/** Findings that settle by themselves within moments (gossip after a change, a replica's first sync). */
const TRANSIENT = new Set<Finding['code']>(['NODE_LOADING', 'STATE_NOT_OK', 'MEMBERSHIP_DISAGREEMENT', 'ROLE_DISAGREEMENT', 'CONFIG_DISAGREEMENT', 'REPLICA_LINK_DOWN']);

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
const UNSETTLED = new Set<Finding['code']>(['NODE_LOADING', 'MEMBERSHIP_DISAGREEMENT', 'ROLE_DISAGREEMENT', 'CONFIG_DISAGREEMENT']);

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
