import { createHash } from 'node:crypto';
import { RctlError } from '../errors.js';
import { DEFAULT_CONCURRENCY, mapLimit } from '../util/pool.js';
import { addrKey, type NodeAddress } from '../redis/address.js';
import { isGhost, isMaster, isMyself, parseClusterNodes, type LineCache, type NodeLine } from './cluster-nodes.js';
import type { AdminConnections } from '../redis/connection.js';
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

/**
 * Read one node: CLUSTER NODES, CLUSTER INFO, INFO in one round trip. `lines`: a cache shared by
 * the reads of one snapshot (see parseClusterNodes).
 */
export async function readNode(conns: AdminConnections, addr: NodeAddress, lines?: LineCache): Promise<NodeState> {
  return conns.run(addr, async (r) => {
    const res = await r.pipeline().call('CLUSTER', 'NODES').call('CLUSTER', 'INFO').info().exec();
    if (!res) throw new Error('empty pipeline reply');
    for (const [err] of res) if (err) throw err;
    const view = parseClusterNodes(String(res[0]?.[1] ?? ''), lines);
    const cinfo = String(res[1]?.[1] ?? '');
    const info = String(res[2]?.[1] ?? '');
    const self = view.find(isMyself);
    if (!self) throw new RctlError('REDIS_ERROR', `Redis at ${addrKey(addr)} listed no "myself" line in CLUSTER NODES.`);
    const db0 = infoField(info, 'db0') ?? '';
    const keys = Number(/keys=(\d+)/.exec(db0)?.[1] ?? 0);
    const expires = Number(/expires=(\d+)/.exec(db0)?.[1] ?? 0);
    const offset = infoField(info, 'slave_repl_offset') ?? infoField(info, 'master_repl_offset');
    return {
      addr,
      id: self.id,
      // A node that has met nobody yet reports an empty address for itself.
      self: self.host === '' ? { ...self, host: addr.host, port: addr.port } : self,
      view,
      clusterState: infoField(cinfo, 'cluster_state') ?? 'unknown',
      knownNodes: Number(infoField(cinfo, 'cluster_known_nodes') ?? 0),
      keys,
      expires,
      replOffset: offset === undefined ? undefined : Number(offset),
      usedMemory: Number(infoField(info, 'used_memory') ?? 0),
      role: isMaster(self) ? 'master' : 'replica',
      masterLinkStatus: infoField(info, 'master_link_status'),
    };
  });
}

/**
 * One "key:value" of an INFO reply, found by a plain string search: a snapshot needs 8 of INFO's
 * ~150 fields, on every node (parsing all of them into objects cost 20-45 ms on 200 nodes).
 */
export function infoField(text: string, key: string): string | undefined {
  const needle = `${key}:`;
  let at = 0;
  if (!text.startsWith(needle)) {
    at = text.indexOf(`\n${needle}`) + 1;
    if (at === 0) return undefined;
  }
  const from = at + needle.length;
  let end = text.indexOf('\n', from);
  if (end < 0) end = text.length;
  return text.slice(from, end).trim();
}

/**
 * Read the whole cluster starting from one seed: the seed's view names the nodes, every node is
 * read (one connection and one pipelined round trip each, `concurrency` at a time: see
 * util/pool.ts for the measured default), and nodes that only some peers know are followed too.
 * Cost on N nodes: N round trips and N CLUSTER NODES replies of N lines each to parse (O(N^2)
 * bytes; that is what checking that every node agrees takes, redis-cli reads the same).
 */
export async function takeSnapshot(conns: AdminConnections, seed: NodeAddress, opts: { concurrency?: number } = {}): Promise<Snapshot> {
  const lines: LineCache = new Map();
  const first = await readNode(conns, seed, lines);
  const states = new Map<string, NodeState>([[first.id, first]]);
  const unreachable = new Map<string, UnreachableNode>();
  const seen: Seen = { keys: new Set<string>([addrKey(first.self)]), first: new Map() };
  let frontier: { addr: NodeAddress; id: string | undefined }[] = addressesIn(first, seen);
  while (frontier.length > 0) {
    const results = await mapLimit(
      frontier,
      async ({ addr, id }) => {
        try {
          return { ok: true as const, state: await readNode(conns, addr, lines) };
        } catch (err) {
          if (err instanceof RctlError && err.code === 'AUTH') throw err;
          return { ok: false as const, node: { addr, id, error: err instanceof Error ? err.message : String(err) } };
        }
      },
      opts.concurrency ?? DEFAULT_CONCURRENCY,
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

/** Addresses already followed, by host:port; `first` remembers each id's first one (see addressesIn). */
interface Seen {
  readonly keys: Set<string>;
  readonly first: Map<string, NodeLine>;
}

/**
 * Addresses in a node's view that nobody has followed yet. Every view lists (nearly) every node:
 * a line naming an id at the address it was first seen at is skipped without building its
 * host:port key (N views of N lines; any other address still goes through the key check).
 */
function addressesIn(state: NodeState, seen: Seen): { addr: NodeAddress; id: string }[] {
  const out: { addr: NodeAddress; id: string }[] = [];
  for (const line of state.view) {
    if (isMyself(line) || isGhost(line) || line.host === '') continue;
    const known = seen.first.get(line.id);
    if (known && known.host === line.host && known.port === line.port) continue;
    if (!known) seen.first.set(line.id, line);
    const addr = { host: line.host, port: line.port };
    const key = addrKey(addr);
    if (seen.keys.has(key)) continue;
    seen.keys.add(key);
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

/** "id:ranges" of a master line, per parsed slot list: views of one snapshot share them (LineCache). */
const ownership = new WeakMap<readonly SlotRange[], string>();

/** "masterId:ranges" of a master line that owns slots, else undefined; one string per parsed slot list. */
export function ownershipOf(l: NodeLine): string | undefined {
  if (l.slots.length === 0 || !isMaster(l)) return undefined;
  let part = ownership.get(l.slots);
  // Keyed by the slot list: a list shared by lines of different ids (built by hand) must not mix them up.
  if (part === undefined || part.charCodeAt(l.id.length) !== 58 /* ":" */ || !part.startsWith(l.id)) {
    part = `${l.id}:${formatRanges(l.slots)}`;
    ownership.set(l.slots, part);
  }
  return part;
}

/** Slot ownership as this node sees it: "masterId:ranges|..." sorted (the idea of redis-cli's config signature). */
export function slotSignature(view: readonly NodeLine[]): string {
  const parts: string[] = [];
  for (const l of view) {
    const part = ownershipOf(l);
    if (part !== undefined) parts.push(part);
  }
  return parts.sort().join('|');
}

export type { SlotRange };
