import { mastersOf, replicasOf, type NodeState, type Snapshot } from './snapshot.js';

/**
 * Pure: the master a new replica should follow: fewest replicas first, then one on another
 * machine than the replica (anti-affinity), then most slots (the shard most worth protecting), then id.
 * `machineOf` maps node ids to failure domains when known.
 */
export function pickMasterForReplica(s: Snapshot, replicaMachine: string | undefined, machineOf: ReadonlyMap<string, string> = new Map()): NodeState | undefined {
  const slotCount = (m: NodeState): number => m.self.slots.reduce((n, r) => n + r.end - r.start + 1, 0);
  const candidates = mastersOf(s).filter((m) => !m.self.flags.includes('fail'));
  return candidates
    .map((m) => ({
      m,
      replicas: replicasOf(s, m.id).length,
      sameMachine: replicaMachine !== undefined && machineOf.get(m.id) === replicaMachine ? 1 : 0,
    }))
    .sort((a, b) => a.replicas - b.replicas || a.sameMachine - b.sameMachine || slotCount(b.m) - slotCount(a.m) || a.m.id.localeCompare(b.m.id))[0]?.m;
}
