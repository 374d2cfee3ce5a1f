import { mastersOf, type Snapshot } from '../cluster/snapshot.js';
import { countSlots } from '../cluster/slots.js';
import { planMoves, type Plan } from './plan.js';

/**
 * Masters the plan leaves without a slot. Pure. Redis 7 turns such a master into a replica of
 * the node that took its last slot (cluster-allow-replica-migration, default yes; cluster.c
 * clusterUpdateSlotsConfigWith), which a drain (scale-in, the seeds' "reshard everything away,
 * then del-node") does not want: the node would full-sync data it is about to lose.
 */
export function mastersEmptiedBy(plan: Plan, s: Snapshot): string[] {
  const leaving = new Map<string, number>();
  for (const m of planMoves(plan)) leaving.set(m.from, (leaving.get(m.from) ?? 0) + 1);
  const arriving = new Set(planMoves(plan).map((m) => m.to));
  return mastersOf(s)
    .filter((m) => !arriving.has(m.id) && countSlots(m.self.slots) > 0 && leaving.get(m.id) === countSlots(m.self.slots))
    .map((m) => m.id);
}
