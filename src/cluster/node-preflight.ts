import { RctlError } from '../errors.js';
import { addrKey } from '../redis/address.js';
import type { NodeState } from './snapshot.js';

/** A node may join or form a cluster only if it is empty and alone: never merge data or steal a node of another cluster. */
export function assertFreshNode(s: NodeState): void {
  if (s.keys > 0) {
    throw new RctlError('NODE_NOT_EMPTY', `Node ${addrKey(s.addr)} already holds ${s.keys} key(s).`, {
      hint: 'rctl only adds empty nodes; flush it (FLUSHALL) or use another node.',
    });
  }
  if (s.knownNodes > 1 || s.self.slots.length > 0) {
    throw new RctlError('NODE_IN_OTHER_CLUSTER', `Node ${addrKey(s.addr)} already belongs to a cluster (it knows ${s.knownNodes} nodes, owns ${s.self.slots.length} slot range(s)).`, {
      hint: 'Use another node, or run CLUSTER RESET HARD on it if that cluster is really gone.',
    });
  }
}
