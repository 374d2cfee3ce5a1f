import { lookup } from 'node:dns/promises';
import type { Redis } from 'ioredis';
import { isIP } from 'node:net';
import { RctlError } from '../errors.js';
import { noEvents, step, type EventSink } from '../events.js';
import { throwIfAborted } from '../util/abort.js';
import { waitUntil } from '../util/wait.js';
import { addrKey, type NodeAddress } from '../redis/address.js';
import { checkCluster } from './check.js';
import { isGhost, isMaster, parseInfo } from './cluster-nodes.js';
import { firstError, pipelined } from './slot-ops.js';
import { formatRanges } from './slots.js';
import { formingNodeTimeoutMs, formingSizing, gossipFloorMs, nextFormingTimeoutMs } from './forming.js';
import { mapLimit } from '../util/pool.js';
import { countSlots, SLOT_COUNT } from './slots.js';
import type { AdminConnections } from '../redis/connection.js';
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
  /** cluster-node-timeout the nodes run with afterwards (the highest, if they differ). */
  readonly nodeTimeoutMs: number;
}

/**
 * Turn empty cluster-enabled nodes into a cluster: plan placement, assign slots and config
 * epochs, attach each replica to its master, introduce every node to every other one, then wait
 * (bounded, scaled to the size) until the cluster passes the same check `rctl check` runs,
 * replica links included. The order is what makes big clusters form fast: see forming.ts.
 */
export async function formCluster(opts: FormOptions): Promise<FormResult> {
  const { conns, signal } = opts;
  const onEvent = opts.onEvent ?? noEvents;

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
  const slotsOf = new Map(placement.masters.map((m) => [m.node, m.slots]));

  throwIfAborted(signal);
  // How many nodes rctl talks to at once does not depend on the timeout read below.
  const each = <R>(fn: (s: NodeState, i: number) => Promise<R>): Promise<R[]> => mapLimit(states, fn, formingSizing(states.length, 0).concurrency);
  // A master delays a diskless full sync by repl-diskless-sync-delay (5 s by default) to batch
  // replicas; nodes rctl started have 0, nodes given with --nodes get 0 until their replicas synced.
  const saved = await each((s) =>
    conns.run(s.addr, async (r) => {
      const res = await r.pipeline().call('CONFIG', 'GET', 'cluster-node-timeout').call('CONFIG', 'GET', 'repl-diskless-sync-delay').exec();
      return { nodeTimeout: Number((res?.[0]?.[1] as string[] | undefined)?.[1] ?? '15000'), syncDelay: String((res?.[1]?.[1] as string[] | undefined)?.[1] ?? '5') };
    }),
  );
  const nodeTimeoutMs = Math.max(...saved.map((x) => x.nodeTimeout));
  const bounds = formingSizing(states.length, nodeTimeoutMs);
  const floor = gossipFloorMs(states.length);
  if (nodeTimeoutMs < floor) {
    onEvent({ type: 'warning', message: `cluster-node-timeout ${nodeTimeoutMs} ms is low for ${states.length} nodes: their gossip alone (~${Math.round((4 * states.length ** 2) / (nodeTimeoutMs / 1000))} messages/s) can keep two cores busy and make nodes flag each other failing; ${floor} ms or more is safer on one machine` });
  }
  let formingTimeout = formingNodeTimeoutMs(states.length, nodeTimeoutMs);
  /** Seen a pfail/fail flag while forming: give every node a longer timeout at once (see forming.ts). */
  const backOff = async (why: string): Promise<void> => {
    const next = nextFormingTimeoutMs(formingTimeout, nodeTimeoutMs);
    if (next <= formingTimeout) return;
    formingTimeout = next;
    onEvent({ type: 'warning', message: `${why}: the machine is busier than expected; node-timeout raised to ${next} ms until the cluster is formed` });
    await each((s) => conns.run(s.addr, (r) => r.call('CONFIG', 'SET', 'cluster-node-timeout', String(next))).catch(() => undefined));
  };
  const flagged = (views: readonly NodeState[]): string | undefined => {
    for (const v of views) {
      const l = v.view.find((x) => x.flags.includes('fail?') || x.flags.includes('fail'));
      if (l) return `${addrKey(v.addr)} flagged ${l.host}:${l.port} as ${l.flags.includes('fail') ? 'failing' : 'possibly failing'}`;
    }
    return undefined;
  };
  const restore = async (): Promise<void> => {
    await each((s, i) =>
      conns
        .run(s.addr, (r) => r.pipeline().call('CONFIG', 'SET', 'cluster-node-timeout', String(saved[i]!.nodeTimeout)).call('CONFIG', 'SET', 'repl-diskless-sync-delay', saved[i]!.syncDelay).exec())
        .catch(() => undefined),
    );
  };
  try {
    // Phase 1, on every node before any MEET: SET-CONFIG-EPOCH is refused once a node knows another
    // node, and the slots go with the node's first ping (see forming.ts for why that matters).
    await step(onEvent, 'assign slots and config epochs', () =>
      each((s, i) =>
        conns.run(s.addr, async (r) => {
          // Two CONFIG SETs rather than one with two pairs: multi-pair CONFIG SET is Redis >= 7.0.
          await r.pipeline().call('CONFIG', 'SET', 'cluster-node-timeout', String(formingTimeout)).call('CONFIG', 'SET', 'repl-diskless-sync-delay', '0').exec();
          const range = slotsOf.get(addrKey(s.addr));
          if (range) await addSlotsRange(r, range.start, range.end);
          // Distinct epochs up front so no collision has to be resolved by gossip (redis-cli does the same).
          await r.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1));
        }),
      ),
    );
    const ips = await Promise.all(states.map((s) => resolveIp(s.addr.host)));
    const indexOf = new Map(states.map((s, i) => [addrKey(s.addr), i]));
    /** CLUSTER MEET's arguments for node j (IP, client port, bus port). */
    const meetArgs = (j: number): string[] => ['MEET', ips[j] as string, String(states[j]!.addr.port), String(busPortOf(states[j]!))];
    const meet = (r: Redis, j: number): Promise<unknown> => r.call('CLUSTER', ...meetArgs(j));

    // Phase 2: each replica meets its master alone and becomes its replica before it meets anyone
    // else, so every other node learns its role in the handshake itself instead of a gossip round
    // later (a role travels only in the node's own ping header).
    if (placement.replicas.length > 0) {
      await step(onEvent, 'attach replicas to their masters', () =>
        mapLimit(
          placement.replicas,
          async (rep) => {
            const replica = node(rep.node);
            const master = node(rep.master);
            await conns.run(replica.addr, (r) => meet(r, indexOf.get(rep.master)!));
            await waitUntil(
              `${addrKey(replica.addr)} to learn its master ${addrKey(master.addr)} and replicate it`,
              async () => {
                try {
                  await conns.run(replica.addr, (c) => c.call('CLUSTER', 'REPLICATE', master.id));
                  return { done: true, value: undefined };
                } catch (err) {
                  // "Unknown node": the handshake has not completed yet (a cluster cron or two).
                  if (err instanceof RctlError && /Unknown node/i.test(err.message)) return { done: false, reason: `it does not know ${master.id.slice(0, 8)} yet` };
                  throw err;
                }
              },
              { timeoutMs: bounds.attachBoundMs, intervalMs: 20, signal, hint: busHint },
            );
          },
          bounds.concurrency,
        ),
      );
    }

    // Phase 3: every pair meets directly. Hearing of a node by gossip costs a ping round per hop
    // (node-timeout/2 or the 1-per-second random ping); a direct MEET completes in a cron or two.
    // The handshakes are what a cluster needs anyway (one bus link per pair).
    const pairedWith = new Map(placement.replicas.map((r) => [r.node, r.master]));
    const pairs = (i: number): number[] => {
      const me = addrKey(states[i]!.addr);
      const out: number[] = [];
      for (let j = 0; j < states.length; j++) {
        const peer = addrKey(states[j]!.addr);
        const attached = pairedWith.get(me) === peer || pairedWith.get(peer) === me;
        // Phase 2 introduced each replica to its master already.
        if (!attached && j < i) out.push(j);
      }
      return out;
    };
    // A node busy with hundreds of handshakes answers a pipeline of MEETs late, not never: the
    // bound grows with the pipeline, and a timed-out pipeline is sent again (MEET is idempotent:
    // a handshake already in progress for that address is not started twice).
    // All nodes at once, not through the pool: a MEET is cheap for rctl, and a node that answers
    // its pipeline late must not hold back the introductions of the nodes queued behind it.
    const introduce = (): Promise<void[]> =>
      Promise.all(states.map((s, i) => {
        const peers = pairs(i);
        if (peers.length === 0) return Promise.resolve();
        return waitUntil(
          `${addrKey(s.addr)} to accept ${peers.length} CLUSTER MEETs`,
          async () => {
            const res = await pipelined(conns, s, (p) => {
              for (const j of peers) p.call('CLUSTER', ...meetArgs(j));
            }, 30_000 + 50 * peers.length);
            // A reply that did not come in time is a busy node, not a refusal: send the pipeline again.
            if (res.some(([err]) => err && /timed out/i.test(err.message))) throw new RctlError('TIMEOUT', `${addrKey(s.addr)} did not answer its CLUSTER MEETs in time.`);
            firstError(res, s, 'CLUSTER MEET');
            return { done: true, value: undefined };
          },
          { timeoutMs: bounds.agreeBoundMs, intervalMs: bounds.pollIntervalMs, signal, hint: busHint },
        );
      }));
    /** Each node MEETs the peers it does not list yet (or lists only as a handshake). */
    const reintroduce = (views: readonly NodeState[]): Promise<unknown> =>
      Promise.all(
        views.map((v, i) => {
          const known = new Set(v.view.filter((l) => !isGhost(l)).map((l) => `${l.host}:${l.port}`));
          const missing = states.map((_, j) => j).filter((j) => j !== i && !known.has(`${ips[j]}:${states[j]!.addr.port}`));
          if (missing.length === 0) return undefined;
          return pipelined(conns, v, (p) => {
            for (const j of missing) p.call('CLUSTER', ...meetArgs(j));
          }, 30_000).catch(() => undefined);
        }),
      );
    const n = states.length;
    await step(onEvent, `introduce every node to every other (${(n * (n - 1)) / 2} pairs)`, () => introduce());
    // A handshake not completed within max(node-timeout, 1 s) is dropped by Redis (clusterCron), and
    // a node too busy to answer is not a failure: a node that still lacks a peer after a few polls
    // is introduced to it again, and a node that does not answer in time is just read again.
    let round = 0;
    const met = await step(onEvent, 'wait until every handshake completed', () =>
      waitUntil(
        `every node to complete its handshakes with all ${n} nodes`,
        async () => {
          round++;
          const views = await each((s) => readNode(conns, s.addr).catch((err: unknown) => {
            if (err instanceof RctlError && (err.code === 'TIMEOUT' || err.code === 'LOADING')) return undefined;
            throw err;
          }));
          const busy = views.findIndex((v) => v === undefined);
          if (busy >= 0) return { done: false, reason: `${addrKey(states[busy]!.addr)} is too busy to answer` };
          const read = views as NodeState[];
          const why = flagged(read);
          if (why) await backOff(why);
          const behind = read.find((v) => v.view.length < n || v.view.some(isGhost));
          if (!behind) return { done: true, value: read };
          if (round % 8 === 0) await reintroduce(read);
          return { done: false, reason: `${addrKey(behind.addr)} lists ${behind.view.length} of ${n} nodes${behind.view.some(isGhost) ? ', some still in handshake' : ''}` };
        },
        { timeoutMs: bounds.agreeBoundMs, intervalMs: bounds.pollIntervalMs, signal, hint: busHint },
      ),
    );
    // Phase 4: a node processes the slots, epoch and role in a packet only from a sender it already
    // knows by name (cluster.c clusterProcessPacket: the reply that ends a handshake just renames the
    // peer). After phase 3 the node that sent a MEET knows its peer's configuration, but the peer may
    // know only its name (unless gossip named the sender before its MEET arrived). Each peer still
    // missing a configuration gets one more MEET from its owner, a packet it now processes in full,
    // instead of waiting up to node-timeout/2 for the next regular ping.
    const nudged = new Map<string, number>();
    const stale = await step(onEvent, 'introduce again where a node missed a configuration', () => nudgeStale(conns, met, nudged, 0), (k) => `${k} pairs`);
    onEvent({ type: 'note', message: `${stale} of ${(n * (n - 1)) / 2} pairs needed a second MEET` });

    const bound = `bound ${Math.round(bounds.agreeBoundMs / 1000)} s for ${n} nodes`;
    const deadline = performance.now() + bounds.agreeBoundMs;
    // First the cheap reading (CLUSTER INFO, a few hundred bytes per node), polled until every node
    // knows every other one and serves all slots; only then the full reading rctl check judges.
    await step(onEvent, `wait until every node knows all ${n} and serves all slots (${bound})`, () =>
      waitUntil(
        `every node to know all ${n} nodes, see cluster_state:ok and ${placement.masters.length} masters with slots`,
        async () => {
          const infos = await each((s) => conns.run(s.addr, (r) => r.call('CLUSTER', 'INFO')).then((x) => parseInfo(String(x))));
          const pfail = infos.findIndex((x) => Number(x['cluster_slots_pfail']) > 0 || Number(x['cluster_slots_fail']) > 0);
          if (pfail >= 0) await backOff(`${addrKey(states[pfail]!.addr)} sees slots of a failing master`);
          const behind = infos.findIndex((x) => Number(x['cluster_known_nodes']) < n || x['cluster_state'] !== 'ok' || Number(x['cluster_size']) !== placement.masters.length);
          if (behind < 0) return { done: true, value: undefined };
          const x = infos[behind]!;
          return { done: false, reason: `${addrKey(states[behind]!.addr)} knows ${x['cluster_known_nodes']} of ${n} nodes, sees ${x['cluster_size']} masters with slots, cluster_state:${x['cluster_state']}` };
        },
        { timeoutMs: bounds.agreeBoundMs, intervalMs: bounds.pollIntervalMs, signal, hint: busHint },
      ),
    );

    const snapshot = await step(onEvent, 'wait for agreement on roles and slots, replica links up', () =>
      waitUntil(
        'the new cluster to agree on members, slots and roles, report cluster_state:ok and sync every replica',
        async () => {
          const views = await each((s) => readNode(conns, s.addr));
          await nudgeStale(conns, views, nudged, bounds.pollIntervalMs * 4);
          const why = flagged(views);
          if (why) await backOff(why);
          const snap: Snapshot = { seed: states[0]!.addr, nodes: views, unreachable: [], fingerprint: fingerprintOf(views) };
          const res = checkCluster(snap, { replicasPerMaster: opts.replicasPerMaster });
          if (slotAgreementMs === undefined && slotsAgreed(views)) slotAgreementMs = Math.round(performance.now() - t0);
          const bad = res.findings.find((f) => f.severity === 'problem');
          return bad ? { done: false, reason: bad.message } : { done: true, value: snap };
        },
        { timeoutMs: Math.max(5000, deadline - performance.now()), intervalMs: bounds.pollIntervalMs, signal, hint: busHint },
      ),
    );
    const agreementMs = Math.round(performance.now() - t0);
    await restore();
    return { placement, snapshot, agreementMs, slotAgreementMs: slotAgreementMs ?? agreementMs, nodeTimeoutMs };
  } catch (err) {
    await restore();
    throw err;
  }
}

const busHint = 'Cluster bus ports (client port + 10000) must be reachable between all nodes; check firewalls and --network.';

/**
 * A node that still has a stale picture of a peer (its role, master or slots) after the two rounds
 * of MEET missed the peer's configuration in a race: the peer's first ping reached it before the
 * handshake named the peer, so it was not processed, and the next regular ping may be
 * node-timeout/2 away. One more MEET from the peer is a packet it processes at once. Each pair is
 * nudged at most once per `everyMs`.
 */
async function nudgeStale(conns: AdminConnections, views: readonly NodeState[], last: Map<string, number>, everyMs: number): Promise<number> {
  const truth = new Map(views.map((v) => [v.id, v.self]));
  const now = performance.now();
  const work: { from: NodeState; to: NodeState }[] = [];
  for (const observer of views) {
    for (const seen of observer.view) {
      const self = truth.get(seen.id);
      if (!self || seen.id === observer.id || isGhost(seen)) continue;
      const same = isMaster(seen) === isMaster(self) && seen.masterId === self.masterId && formatRanges(seen.slots) === formatRanges(self.slots);
      const key = `${seen.id}>${observer.id}`;
      if (same || now - (last.get(key) ?? -Infinity) < everyMs) continue;
      last.set(key, now);
      work.push({ from: views.find((v) => v.id === seen.id)!, to: observer });
    }
  }
  // One pipeline per node that owes MEETs, as in phase 3.
  const byFrom = new Map<string, { from: NodeState; to: NodeState[] }>();
  for (const { from, to } of work) {
    const e = byFrom.get(from.id) ?? { from, to: [] };
    e.to.push(to);
    byFrom.set(from.id, e);
  }
  await mapLimit([...byFrom.values()], ({ from, to }) =>
    pipelined(conns, from, (p) => {
      for (const t of to) p.call('CLUSTER', 'MEET', t.self.host || t.addr.host, String(t.addr.port), String(busPortOf(t)));
    }, 10_000 + 50 * to.length).catch(() => undefined),
  );
  return work.length;
}

/** Every node must be empty, cluster-enabled and alone: never merge a node that holds data or belongs to another cluster. */
async function preflight(conns: AdminConnections, nodes: readonly FormNode[]): Promise<NodeState[]> {
  const states = await mapLimit(nodes, (n) => readNode(conns, n.addr));
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
