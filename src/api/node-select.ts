import { resolveNodeRef } from '../cluster/node-ref.js';
import { mastersOf, replicasOf, type NodeState, type Snapshot } from '../cluster/snapshot.js';
import { RctlError } from '../errors.js';

/**
 * A node named by id, unique id prefix or host:port, or by role: `{ role: 'master' }` is a random
 * master, `{ role: 'replica', of: '<master ref>' }` a replica of that master, `index` picks the
 * n-th (0-based, in address order) instead of a random one.
 */
export type NodeSelector = string | { readonly role: 'master' | 'replica'; readonly of?: string; readonly index?: number };

const byAddr = (a: NodeState, b: NodeState): number => a.addr.host.localeCompare(b.addr.host) || a.addr.port - b.addr.port;

export function selectNode(s: Snapshot, sel: NodeSelector, what = 'node'): NodeState {
  if (typeof sel === 'string') return resolveNodeRef(s, sel, what);
  const pool = (sel.role === 'master' ? mastersOf(s) : sel.of ? replicasOf(s, resolveNodeRef(s, sel.of, 'of').id) : s.nodes.filter((n) => n.role === 'replica')).slice().sort(byAddr);
  if (pool.length === 0) throw new RctlError('UNKNOWN_NODE', `No ${sel.role}${sel.of ? ` of ${sel.of}` : ''} is reachable in this cluster.`, { hint: 'List the nodes with info() (`rctl info`).' });
  if (sel.index !== undefined) {
    const n = pool[sel.index];
    if (!n) throw new RctlError('UNKNOWN_NODE', `There is no ${sel.role} number ${sel.index} (there are ${pool.length}).`, { hint: 'Indexes start at 0, in address order.' });
    return n;
  }
  return pool[Math.floor(Math.random() * pool.length)]!;
}
