import { createHash } from 'node:crypto';
import { RctlError } from '../errors.js';
import { addrKey, type NodeAddress } from './address.js';
import { isGhost, isMaster, isMyself, parseClusterNodes, parseInfo, type NodeLine } from './cluster-nodes.js';
import type { AdminConnections } from './connection.js';
import { formatRanges, type SlotRange } from './slots.js';

/** What one reachable node says about itself and the cluster. */
export interface NodeState {
  readonly addr: NodeAddress;
  readonly id: string;
  /** Its own line of CLUSTER NODES (the only one with migrating/importing markers). */
  readonly self: NodeLine;
  /** Its whole CLUSTER NODES: its view of the cluster. */
  readonly view: readonly NodeLine[];
  readonly clusterState: string;
  readonly knownNodes: number;
  readonly keys: number;
  /** Keys with a TTL (INFO keyspace "expires="): a drop in keys up to this many may be expiry, not loss. */
  readonly expires: number;
  /** Replication offset: master_repl_offset on a master, slave_repl_offset on a replica. */
  readonly replOffset: number | undefined;
  readonly usedMemory: number;
  readonly role: 'master' | 'replica';
  /** For replicas: INFO replication's master_link_status ("up"/"down"). */
  readonly masterLinkStatus: string | undefined;
}

export interface UnreachableNode {
  readonly addr: NodeAddress;
  /** Known when some peer listed it. */
  readonly id: string | undefined;
  readonly error: string;
}

/** An immutable reading of the cluster: every command reads this, planners take it as input. */
export interface Snapshot {
  readonly seed: NodeAddress;
  /** Reachable nodes, sorted by id. */
  readonly nodes: readonly NodeState[];
  readonly unreachable: readonly UnreachableNode[];
  /** Hash of the topology (roles, slot ownership, open slots); a plan made on one snapshot is refused on another. */
  readonly fingerprint: string;
}

/** Nodes from the snapshot with their own view's role and slots. */
export const mastersOf = (s: Snapshot): NodeState[] => s.nodes.filter((n) => n.role === 'master');
export const replicasOf = (s: Snapshot, masterId: string): NodeState[] => s.nodes.filter((n) => n.role === 'replica' && n.self.masterId === masterId);
export const nodeById = (s: Snapshot, id: string): NodeState | undefined => s.nodes.find((n) => n.id === id);

/** Read one node: CLUSTER NODES, CLUSTER INFO, INFO in one round trip. */
export async function readNode(conns: AdminConnections, addr: NodeAddress): Promise<NodeState> {
  return conns.run(addr, async (r) => {
    const res = await r.pipeline().call('CLUSTER', 'NODES').call('CLUSTER', 'INFO').info().exec();
    if (!res) throw new Error('empty pipeline reply');
    for (const [err] of res) if (err) throw err;
    const view = parseClusterNodes(String(res[0]?.[1] ?? ''));
    const cinfo = parseInfo(String(res[1]?.[1] ?? ''));
    const info = parseInfo(String(res[2]?.[1] ?? ''));
    const self = view.find(isMyself);
    if (!self) throw new RctlError('REDIS_ERROR', `Redis at ${addrKey(addr)} listed no "myself" line in CLUSTER NODES.`);
    const keys = Number(/keys=(\d+)/.exec(info['db0'] ?? '')?.[1] ?? 0);
    const expires = Number(/expires=(\d+)/.exec(info['db0'] ?? '')?.[1] ?? 0);
    const offset = info['slave_repl_offset'] ?? info['master_repl_offset'];
    return {
      addr,
      id: self.id,
      // A node that has met nobody yet reports an empty address for itself.
      self: self.host === '' ? { ...self, host: addr.host, port: addr.port } : self,
      view,
      clusterState: cinfo['cluster_state'] ?? 'unknown',
      knownNodes: Number(cinfo['cluster_known_nodes'] ?? 0),
      keys,
      expires,
      replOffset: offset === undefined ? undefined : Number(offset),
      usedMemory: Number(info['used_memory'] ?? 0),
      role: isMaster(self) ? 'master' : 'replica',
      masterLinkStatus: info['master_link_status'],
    };
  });
}

/**
 * Read the whole cluster starting from one seed: the seed's view names the nodes, every node is
 * read in parallel, and nodes that only some peers know are followed too.
 */
export async function takeSnapshot(conns: AdminConnections, seed: NodeAddress): Promise<Snapshot> {
  const first = await readNode(conns, seed);
  const states = new Map<string, NodeState>([[first.id, first]]);
  const unreachable = new Map<string, UnreachableNode>();
  const seen = new Set<string>([addrKey(first.self)]);
  let frontier: { addr: NodeAddress; id: string | undefined }[] = addressesIn(first, seen);
  while (frontier.length > 0) {
    const results = await Promise.all(
      frontier.map(async ({ addr, id }) => {
        try {
          return { ok: true as const, state: await readNode(conns, addr) };
        } catch (err) {
          if (err instanceof RctlError && err.code === 'AUTH') throw err;
          return { ok: false as const, node: { addr, id, error: err instanceof Error ? err.message : String(err) } };
        }
      }),
    );
    const next: { addr: NodeAddress; id: string | undefined }[] = [];
    for (const r of results) {
      if (r.ok) {
        states.set(r.state.id, r.state);
        next.push(...addressesIn(r.state, seen));
      } else unreachable.set(addrKey(r.node.addr), r.node);
    }
    frontier = next;
  }
  const nodes = [...states.values()].sort((a, b) => a.id.localeCompare(b.id));
  return { seed, nodes, unreachable: [...unreachable.values()], fingerprint: fingerprintOf(nodes) };
}

function addressesIn(state: NodeState, seen: Set<string>): { addr: NodeAddress; id: string }[] {
  const out: { addr: NodeAddress; id: string }[] = [];
  for (const line of state.view) {
    if (isMyself(line) || isGhost(line) || line.host === '') continue;
    const addr = { host: line.host, port: line.port };
    const key = addrKey(addr);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ addr, id: line.id });
  }
  return out;
}

/** Topology identity: roles, replica->master, owned ranges, open slots. Key counts are not part of it. */
export function fingerprintOf(nodes: readonly NodeState[]): string {
  const parts = [...nodes]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((n) => {
      const s = n.self;
      const open = [...s.migrating.map((m) => `>${m.slot}:${m.to}`), ...s.importing.map((m) => `<${m.slot}:${m.from}`)].join(',');
      return `${n.id} ${n.role} ${s.masterId ?? '-'} ${formatRanges(s.slots)} ${open}`;
    });
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16);
}

/** Slot ownership as this node sees it: "masterId:ranges|..." sorted (the idea of redis-cli's config signature). */
export function slotSignature(view: readonly NodeLine[]): string {
  return view
    .filter((l) => isMaster(l) && l.slots.length > 0)
    .map((l) => `${l.id}:${formatRanges(l.slots)}`)
    .sort()
    .join('|');
}

export type { SlotRange };
