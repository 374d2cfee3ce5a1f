/**
 * How a cluster of a given size is formed: pure sizing rules, unit-tested, measured on a 2-core
 * machine (bench:scale-curve shows the figures; the numbers below come from it).
 *
 * Gossip cost. Every node pings every peer whose last pong is older than node-timeout/2
 * (cluster.c clusterCron), and each ping and pong carries a 2 KiB slot bitmap plus max(3, N/10)
 * gossip entries. So a cluster of N nodes exchanges about 4·N²/node-timeout messages a second:
 * an idle 200-node cluster at node-timeout 15 s used ~0.9 of this machine's 2 cores (INFO's
 * used_cpu over 5 s, 0.46 % per node). At 300 ms, the timeout that made 3-master clusters agree
 * fast, 100 nodes would need ~12 cores: every node starved, missed pongs, and the cluster flagged
 * itself failing (issue 11: 50 masters × 1 replica failed after 60 s).
 *
 * So rctl does not speed up agreement by a low node-timeout any more: it makes agreement
 * independent of gossip rounds. Slots, config epochs and replica roles are all set before a node
 * meets the rest of the cluster, so the first ping of every handshake already carries the final
 * configuration (a node's role and slots travel only in its own header, never in others' gossip),
 * and every pair meets directly, so nobody waits to hear of a node second-hand.
 */

/**
 * node-timeout while forming. It no longer buys gossip speed (see above), but it still decides one
 * wait: a master that saw fewer than a majority of masters with slots (every fresh node does, it
 * knows none) turns cluster_state ok only clamp(node-timeout, 500, 5000) ms after that
 * (clusterUpdateState's rejoin delay, counted from the moment its own slots were assigned). So the
 * timeout is lowered towards 500 ms, the floor of that delay, as far as the gossip it causes stays
 * within about one core (0.375·N² ms); clusters that big take longer than 5 s to meet anyway, and
 * keep their configured timeout (raised to that bound if it is lower, so forming itself never
 * floods the machine). A machine busy with other work can still starve a node past it: then
 * `nextFormingTimeoutMs` backs off.
 */
export function formingNodeTimeoutMs(nodes: number, configuredMs: number): number {
  const bound = Math.max(500, Math.ceil(GOSSIP_COST_MS_PER_NODE_SQUARED * nodes * nodes));
  return bound <= DEFAULT_NODE_TIMEOUT_MS ? bound : Math.max(configuredMs, bound);
}

/**
 * After a node was seen flagging a peer pfail/fail while forming (it missed a pong for a whole
 * node-timeout: the machine is busier than the sizing assumed), the timeout doubles, up to the
 * configured one or Redis's default, whichever is higher; a FAIL would otherwise let a replica
 * start an election in a cluster that is not even formed.
 */
export function nextFormingTimeoutMs(currentMs: number, configuredMs: number): number {
  return Math.min(Math.max(configuredMs, 15_000), currentMs * 2);
}

/** Nodes whose gossip at the default timeout (5 s) stays within about a core; beyond, the default grows. */
const GOSSIP_COST_MS_PER_NODE_SQUARED = 0.375;

/** rctl's default cluster-node-timeout for clusters it provisions on one machine. */
export const DEFAULT_NODE_TIMEOUT_MS = 5000;

/**
 * The node-timeout rctl picks when the user did not: 5 s, or more when the cluster is so big that
 * its gossip at 5 s would take more than about one core (0.375·N² ms, rounded up to a second:
 * 200 nodes get 15 s, Redis's own default).
 */
export function defaultNodeTimeoutMs(nodes: number): number {
  const needed = Math.ceil((GOSSIP_COST_MS_PER_NODE_SQUARED * nodes * nodes) / 1000) * 1000;
  return Math.max(DEFAULT_NODE_TIMEOUT_MS, needed);
}

/**
 * The smallest node-timeout this many nodes can run with before gossip alone needs about two
 * cores (the whole machine rctl was measured on); below it nodes flag each other failing.
 * Used to warn, not to refuse: the user may run the nodes on many machines.
 */
export function gossipFloorMs(nodes: number): number {
  return Math.ceil((GOSSIP_COST_MS_PER_NODE_SQUARED * nodes * nodes) / 2);
}

export interface FormingSizing {
  /** How often rctl polls the nodes while waiting: a full poll of N nodes costs the nodes CPU too. */
  readonly pollIntervalMs: number;
  /** Bound on replicas learning their master (one handshake each). */
  readonly attachBoundMs: number;
  /** Bound on the whole agreement wait (handshakes, state ok, replica syncs). */
  readonly agreeBoundMs: number;
  /** How many nodes rctl talks to at once while configuring and introducing them. */
  readonly concurrency: number;
}

/**
 * Waits scale with the cluster: a handshake round is a few 100 ms cluster crons per node on a busy
 * machine, each replica's first full sync forks its master, and a master flagged PFAIL meanwhile
 * is cleared by its next pong (within node-timeout/2). No fixed bound that a big cluster cannot meet.
 */
export function formingSizing(nodes: number, nodeTimeoutMs: number): FormingSizing {
  return {
    pollIntervalMs: Math.min(1000, Math.max(50, 2 * nodes)),
    attachBoundMs: 10_000 + 100 * nodes,
    agreeBoundMs: 30_000 + 300 * nodes + 2 * nodeTimeoutMs,
    concurrency: 32,
  };
}
