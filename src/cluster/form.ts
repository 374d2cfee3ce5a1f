import { lookup } from 'node:dns/promises';
import type { Redis } from 'ioredis';
import { isIP } from 'node:net';
import { RctlError } from '../errors.js';
import { noEvents, step, type EventSink } from '../events.js';
import { throwIfAborted } from '../util/abort.js';
import { waitUntil } from '../util/wait.js';
import { addrKey, type NodeAddress } from './address.js';
import { checkCluster } from './check.js';
import { isGhost, isMaster } from './cluster-nodes.js';
import { countSlots, SLOT_COUNT } from './slots.js';
import type { AdminConnections } from './connection.js';
import { assertFreshNode } from './node-preflight.js';
import { planPlacement, PlacementError, type Placement } from './placement.js';
import { fingerprintOf, readNode, slotSignature, type NodeState, type Snapshot } from './snapshot.js';

export interface FormNode {
  readonly addr: NodeAddress;
  /** Failure domain for anti-affinity. */
  readonly machine: string;
}

export interface FormOptions {
  readonly nodes: readonly FormNode[];
  readonly masters: number;
  readonly replicasPerMaster: number;
  readonly conns: AdminConnections;
  readonly onEvent?: EventSink;
  readonly signal?: AbortSignal | undefined;
  /** Bound on each convergence wait. */
  readonly joinTimeoutMs?: number;
  /** Why a node does not answer (from the provider), used in error messages. */
  readonly diagnose?: (addr: NodeAddress) => Promise<string | undefined>;
}

export interface FormResult {
  readonly placement: Placement;
  readonly snapshot: Snapshot;
  /** From "every node answers" to "all agree, state ok, replica links up". */
  readonly agreementMs: number;
  /** From "every node answers" to "every node reports the same full slot map" (what redis-cli waits for). */
  readonly slotAgreementMs: number;
}

/**
 * Turn empty cluster-enabled nodes into a cluster: plan placement, assign slots and config
 * epochs, introduce every node to every other one, attach replicas, then wait (bounded) until
 * the cluster passes the same check `rctl check` runs, replica links included.
 */
export async function formCluster(opts: FormOptions): Promise<FormResult> {
  const { conns, signal } = opts;
  const onEvent = opts.onEvent ?? noEvents;
  const joinTimeoutMs = opts.joinTimeoutMs ?? 30_000;

  const states = await step(onEvent, 'preflight: nodes empty and cluster-enabled', () => preflight(conns, opts.nodes));
  const t0 = performance.now();
  let slotAgreementMs: number | undefined;
  let placement: Placement;
  try {
    placement = planPlacement(
      opts.nodes.map((n) => ({ key: addrKey(n.addr), machine: n.machine })),
      { masters: opts.masters, replicasPerMaster: opts.replicasPerMaster },
    );
  } catch (err) {
    if (err instanceof PlacementError) throw new RctlError('USAGE', `Cannot place the cluster: ${err.message}.`);
    throw err;
  }
  for (const note of placement.notes) onEvent({ type: 'warning', message: note });
  const byKey = new Map(states.map((s) => [addrKey(s.addr), s]));
  const node = (key: string): NodeState => byKey.get(key) as NodeState;

  throwIfAborted(signal);
  // Gossip spreads slot ownership and roles only through pings: one random peer per second, plus
  // every peer whose last pong is older than node-timeout/2. While forming, a 300 ms node timeout
  // makes every node ping every peer every ~150 ms, so agreement takes a few cluster crons instead
  // of seconds. No replica can fail over meanwhile (a master needs FAIL, which needs a majority of
  // masters to miss pongs on loopback); the configured timeout is restored before returning.
  // Likewise a master delays a diskless full sync by repl-diskless-sync-delay (5 s by default) to
  // batch replicas; nodes rctl started have 0, nodes given with --nodes get 0 until their replicas synced.
  const saved = await Promise.all(
    states.map((s) =>
      conns.run(s.addr, async (r) => {
        const res = await r.pipeline().call('CONFIG', 'GET', 'cluster-node-timeout').call('CONFIG', 'GET', 'repl-diskless-sync-delay').exec();
        return { nodeTimeout: String((res?.[0]?.[1] as string[] | undefined)?.[1] ?? '15000'), syncDelay: String((res?.[1]?.[1] as string[] | undefined)?.[1] ?? '5') };
      }),
    ),
  );
  const restore = async (): Promise<void> => {
    await Promise.all(
      states.map((s, i) =>
        conns
          .run(s.addr, (r) =>
            r
              .pipeline()
              .call('CONFIG', 'SET', 'cluster-node-timeout', saved[i]!.nodeTimeout)
              .call('CONFIG', 'SET', 'repl-diskless-sync-delay', saved[i]!.syncDelay)
              .exec(),
          )
          .catch(() => undefined),
      ),
    );
  };
  try {
    await step(onEvent, 'assign slots, config epochs, CLUSTER MEET', async () => {
      const ips = await Promise.all(states.map((s) => resolveIp(s.addr.host)));
      const slotsOf = new Map(placement.masters.map((m) => [m.node, m.slots]));
      // Phase 1 on every node before any MEET: SET-CONFIG-EPOCH is refused once a node knows
      // another node, and a peer's MEET can arrive at any moment once phase 2 starts.
      await Promise.all(
        states.map((s, i) =>
          conns.run(s.addr, async (r) => {
            // Two CONFIG SETs rather than one with two pairs: multi-pair CONFIG SET is Redis >= 7.0.
            await r.pipeline().call('CONFIG', 'SET', 'cluster-node-timeout', String(FORMING_NODE_TIMEOUT_MS)).call('CONFIG', 'SET', 'repl-diskless-sync-delay', '0').exec();
            const range = slotsOf.get(addrKey(s.addr));
            if (range) await addSlotsRange(r, range.start, range.end);
            // Distinct epochs up front so no collision has to be resolved by gossip (redis-cli does the same).
            await r.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1));
          }),
        ),
      );
      // Phase 2: every pair meets directly instead of everyone meeting one node and waiting for
      // gossip to spread the rest: each handshake then completes within a couple of 100 ms crons.
      await Promise.all(
        states.map((s, i) =>
          conns.run(s.addr, async (r) => {
            const p = r.pipeline();
            for (let j = 0; j < i; j++) {
              const peer = states[j] as NodeState;
              p.call('CLUSTER', 'MEET', ips[j] as string, String(peer.addr.port), String(busPortOf(peer)));
            }
            const res = (await p.exec()) ?? [];
            for (const [err] of res) if (err) throw err;
          }),
        ),
      );
    });

    // Each replica is attached as soon as it knows its master, while the rest of the handshakes go on.
    await step(onEvent, 'attach replicas as soon as they know their master', () =>
      Promise.all(
        placement.replicas.map(async (rep) => {
          const replica = node(rep.node);
          const master = node(rep.master);
          await waitUntil(
            `${addrKey(replica.addr)} to learn its master ${addrKey(master.addr)}`,
            async () => {
              const v = await readNode(conns, replica.addr);
              const seen = v.view.find((l) => l.id === master.id);
              return seen && !isGhost(seen) ? { done: true, value: undefined } : { done: false, reason: `it does not know ${master.id.slice(0, 8)} yet` };
            },
            { timeoutMs: joinTimeoutMs, signal, hint: busHint },
          );
          await conns.run(replica.addr, (c) => c.call('CLUSTER', 'REPLICATE', master.id));
        }),
      ),
    );

    const snapshot = await step(onEvent, 'wait for agreement, state ok, replica links up', () =>
      waitUntil(
        'the new cluster to agree on members, slots and roles, report cluster_state:ok and sync every replica',
        async () => {
          const views = await Promise.all(states.map((s) => readNode(conns, s.addr)));
          const snap: Snapshot = { seed: states[0]!.addr, nodes: views, unreachable: [], fingerprint: fingerprintOf(views) };
          const res = checkCluster(snap, { replicasPerMaster: opts.replicasPerMaster });
          if (slotAgreementMs === undefined && slotsAgreed(views)) slotAgreementMs = Math.round(performance.now() - t0);
          const bad = res.findings.find((f) => f.severity === 'problem');
          return bad ? { done: false, reason: bad.message } : { done: true, value: snap };
        },
        { timeoutMs: joinTimeoutMs, signal, hint: busHint },
      ),
    );
    const agreementMs = Math.round(performance.now() - t0);
    await restore();
    return { placement, snapshot, agreementMs, slotAgreementMs: slotAgreementMs ?? agreementMs };
  } catch (err) {
    await restore();
    throw err;
  }
}

const FORMING_NODE_TIMEOUT_MS = 300;

const busHint = 'Cluster bus ports (client port + 10000) must be reachable between all nodes; check firewalls and --network.';

/** Every node must be empty, cluster-enabled and alone: never merge a node that holds data or belongs to another cluster. */
async function preflight(conns: AdminConnections, nodes: readonly FormNode[]): Promise<NodeState[]> {
  const states = await Promise.all(nodes.map((n) => readNode(conns, n.addr)));
  for (const s of states) assertFreshNode(s);
  const ids = new Set(states.map((s) => s.id));
  if (ids.size !== states.length) throw new RctlError('USAGE', 'The same node is listed twice.', { hint: 'List each node once.' });
  return states;
}

async function addSlotsRange(r: Redis, start: number, end: number): Promise<void> {
  try {
    await r.call('CLUSTER', 'ADDSLOTSRANGE', String(start), String(end));
  } catch (err) {
    // ADDSLOTSRANGE is Redis >= 7.0; older servers take the slots one by one.
    if (!/unknown subcommand/i.test(err instanceof Error ? err.message : '')) throw err;
    const slots: string[] = [];
    for (let s = start; s <= end; s++) slots.push(String(s));
    await r.call('CLUSTER', 'ADDSLOTS', ...slots);
  }
}

/** Every node reports the same owners for all 16384 slots. */
function slotsAgreed(views: readonly NodeState[]): boolean {
  const sigs = new Set(views.map((v) => slotSignature(v.view)));
  return sigs.size === 1 && views.every((v) => v.view.filter(isMaster).reduce((n, l) => n + countSlots(l.slots), 0) === SLOT_COUNT);
}

const busPortOf = (s: NodeState): number => (s.self.busPort > 0 ? s.self.busPort : s.addr.port + 10000);

/** CLUSTER MEET takes an IP address, not a hostname. */
async function resolveIp(host: string): Promise<string> {
  if (isIP(host)) return host;
  return (await lookup(host)).address;
}
