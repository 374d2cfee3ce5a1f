import { addRules, deleteRules, ensureChain, heal, type DropRule } from '../provision/netfilter/index.js';
import { planPartition, type PartitionMode, type PartitionNode, type PartitionPlan } from './partition-plan.js';

export { heal as healCluster, listTagged, healChain, type Healed, type Tagged } from '../provision/netfilter/index.js';

/** A partition in place. `heal()` removes its own rules (and the chain once empty); idempotent. */
export interface PartitionHandle {
  readonly cluster: string;
  readonly plan: PartitionPlan;
  readonly rules: readonly DropRule[];
  heal(): Promise<void>;
}

/**
 * Cut side A from side B of `cluster` (planPartition says how and refuses before touching
 * anything). Every rule goes into the cluster's tagged chain, so `rctl heal --name <cluster>`
 * removes it even if this process dies; if applying fails halfway, what was applied is removed.
 */
export async function partition(cluster: string, sideA: readonly PartitionNode[], sideB: readonly PartitionNode[], mode: PartitionMode): Promise<PartitionHandle> {
  const plan = planPartition(sideA, sideB, mode);
  try {
    await ensureChain(cluster);
    await addRules(cluster, plan.rules);
  } catch (err) {
    await deleteRules(cluster, plan.rules)
      .then((left) => (left === 0 ? heal(cluster) : undefined))
      .catch(() => undefined);
    throw err;
  }
  return {
    cluster,
    plan,
    rules: plan.rules,
    async heal(): Promise<void> {
      // Only this partition's rules: another one on the same cluster stays until it heals too.
      const left = await deleteRules(cluster, plan.rules);
      if (left === 0) await heal(cluster);
    },
  };
}
