import { isMyself, type NodeLine } from '../cluster/cluster-nodes.js';

/**
 * Whether a claim of an importing slot by the node whose CLUSTER NODES this is would carry a config
 * epoch above `epoch` (the current owner's). CLUSTER SETSLOT <slot> NODE <myself> on an importing
 * slot bumps the claimer's epoch past the highest it knows (clusterBumpConfigEpochWithoutConsensus:
 * currentEpoch + 1), unless its own epoch already is that highest, in which case it keeps it.
 * `currentEpoch` (CLUSTER INFO cluster_current_epoch) counts when known; every configEpoch the
 * node has heard of is a lower bound of it. Equal epochs on both sides are a collision that Redis
 * resolves by itself; until then the claim does not outrank.
 */
export function claimOutranks(view: readonly NodeLine[], epoch: number, currentEpoch = 0): boolean {
  const self = view.find(isMyself);
  const highest = Math.max(currentEpoch, ...view.map((l) => l.configEpoch));
  return highest >= epoch && !(self?.configEpoch === highest && highest === epoch);
}
