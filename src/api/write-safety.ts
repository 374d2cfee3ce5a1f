import { applyWriteSafety, assertEnoughReplicas, validateWriteSafety, type NodeWriteSafety } from '../cluster/write-safety.js';
import { usageError } from '../errors.js';
import { readRecord, writeRecord } from '../state/records.js';
import type { HandleCore } from './handle-core.js';
import type { OperationOptions } from './operation.js';

export interface WriteSafetyOptions extends OperationOptions {
  /** min-replicas-to-write on every node; 0 turns the fence off. */
  readonly minReplicasToWrite: number;
  /** min-replicas-max-lag in seconds (at least 1); undefined: each node keeps its current value. */
  readonly minReplicasMaxLagS?: number | undefined;
}

export interface WriteSafetyResult {
  readonly minReplicasToWrite: number;
  readonly minReplicasMaxLagS: number;
  /** Each node's values as CONFIG GET reads them after the change. */
  readonly nodes: readonly NodeWriteSafety[];
  /** The record now carries them, so nodes rctl starts later (add-node, scale-out) get them too. */
  readonly recorded: boolean;
}

/**
 * `rctl config write-safety`: CONFIG SET min-replicas-to-write / max-lag on every node, verified by
 * CONFIG GET. Refused before anything is set if a master has fewer replicas than asked (it would
 * refuse every write) or a node does not answer. Under the cluster's lease: a scale-out starting
 * nodes meanwhile would miss the setting.
 */
export async function setWriteSafetyUseCase(core: HandleCore, o: WriteSafetyOptions): Promise<WriteSafetyResult> {
  if (o.minReplicasToWrite === undefined) throw usageError('--min-replicas-to-write is required.', '0 turns the fence off; 1 makes a master refuse writes once no replica acknowledges it.');
  validateWriteSafety(o);
  return core.exclusive('config write-safety', o, {}, async (s) => {
    assertEnoughReplicas(s, o.minReplicasToWrite);
    const nodes = await applyWriteSafety(core.conns, s, { minReplicasToWrite: o.minReplicasToWrite, minReplicasMaxLagS: o.minReplicasMaxLagS });
    const lag = nodes[0]?.minReplicasMaxLagS ?? o.minReplicasMaxLagS ?? 10;
    const rec = core.target.record ? await readRecord(core.target.record.name) : undefined;
    if (rec) await writeRecord({ ...rec, minReplicasToWrite: o.minReplicasToWrite, minReplicasMaxLagS: lag });
    return { minReplicasToWrite: o.minReplicasToWrite, minReplicasMaxLagS: lag, nodes, recorded: rec !== undefined };
  });
}
