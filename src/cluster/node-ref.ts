import { RctlError } from '../errors.js';
import { addrKey } from '../redis/address.js';
import type { NodeState, Snapshot } from './snapshot.js';

/**
 * Resolve what a user typed for a node: a full id, a unique id prefix (4+ characters), or
 * host:port. Pure: works on the snapshot.
 */
export function resolveNodeRef(s: Snapshot, ref: string, flag: string): NodeState {
  const text = ref.trim();
  const byAddr = s.nodes.find((n) => addrKey(n.addr) === text || `${n.self.host}:${n.self.port}` === text);
  if (byAddr) return byAddr;
  const lower = text.toLowerCase();
  const exact = s.nodes.find((n) => n.id === lower);
  if (exact) return exact;
  if (/^[0-9a-f]{4,39}$/.test(lower)) {
    const matches = s.nodes.filter((n) => n.id.startsWith(lower));
    if (matches.length === 1) return matches[0] as NodeState;
    if (matches.length > 1) {
      throw new RctlError('UNKNOWN_NODE', `${flag} "${text}" is ambiguous: it matches ${matches.map((n) => `${n.id.slice(0, 12)} (${addrKey(n.addr)})`).join(', ')}.`, {
        hint: 'Use more characters of the id, or host:port.',
      });
    }
  }
  throw new RctlError('UNKNOWN_NODE', `${flag} "${text}" matches no node of this cluster.`, {
    hint: 'Use a node id, a unique id prefix (4+ characters) or host:port; `rctl info` lists them.',
  });
}

/** A node known to the cluster, reachable or not (del-node may remove a node that is down). */
export interface KnownNode {
  readonly id: string;
  readonly addr: { host: string; port: number };
  /** Present when the node answered. */
  readonly state: NodeState | undefined;
}

export function resolveKnownNode(s: Snapshot, ref: string, flag: string): KnownNode {
  try {
    const n = resolveNodeRef(s, ref, flag);
    return { id: n.id, addr: n.addr, state: n };
  } catch (err) {
    const text = ref.trim().toLowerCase();
    const down = s.unreachable.filter((u) => u.id && (u.id === text || (text.length >= 4 && u.id.startsWith(text)) || addrKey(u.addr) === ref.trim()));
    if (down.length === 1 && down[0]!.id) return { id: down[0]!.id, addr: down[0]!.addr, state: undefined };
    throw err;
  }
}
