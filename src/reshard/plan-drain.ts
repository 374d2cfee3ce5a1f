import { addrKey } from '../cluster/address.js';
import { resolveNodeRef } from '../cluster/node-ref.js';
import { mastersOf, type NodeState, type Snapshot } from '../cluster/snapshot.js';
import { countSlots, slotsOf } from '../cluster/slots.js';
import { RctlError, usageError } from '../errors.js';
import { toWaves, type Plan } from './plan.js';
import { DEFAULT_BATCHES_PER_WAVE, DEFAULT_SLOTS_PER_BATCH, nodeAddresses } from './plan-reshard.js';

export interface DrainIntent {
  /** Masters to empty (references). */
  readonly nodes: readonly string[];
  /** All their slots to this master; default: spread so the remaining masters end up even. */
  readonly to?: string | undefined;
  readonly slotsPerBatch?: number;
  readonly batchesPerWave?: number;
}

/**
 * Pure: empty some masters. Their slots go to `to`, or each next slot to whichever remaining
 * master currently has fewest, so the survivors end up balanced (ties by id: deterministic).
 */
export function planDrain(s: Snapshot, intent: DrainIntent): Plan {
  if (intent.nodes.length === 0) throw usageError('Name at least one master to drain.');
  const drained = [...new Map(intent.nodes.map((r) => resolveNodeRef(s, r, '--node')).map((n) => [n.id, n])).values()];
  for (const d of drained) if (d.role !== 'master') throw new RctlError('REFUSED', `${addrKey(d.addr)} is a replica; only masters own slots to drain.`, { hint: 'Name masters (`rctl info` shows roles).' });
  const keep = mastersOf(s).filter((m) => !drained.some((d) => d.id === m.id));
  if (keep.length === 0) throw new RctlError('REFUSED', 'Draining every master would leave no one to own the slots.');
  let receivers: NodeState[] = keep;
  if (intent.to !== undefined) {
    const to = resolveNodeRef(s, intent.to, '--to');
    if (drained.some((d) => d.id === to.id)) throw usageError(`--to ${addrKey(to.addr)} is one of the masters being drained.`);
    if (to.role !== 'master') throw new RctlError('REFUSED', `--to ${addrKey(to.addr)} is a replica; slots can only move to a master.`);
    receivers = [to];
  }
  const load = new Map(receivers.map((r) => [r.id, countSlots(r.self.slots)]));
  const moves: { slot: number; from: string; to: string }[] = [];
  for (const d of [...drained].sort((a, b) => a.id.localeCompare(b.id))) {
    for (const slot of slotsOf(d.self.slots)) {
      const to = [...load].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))[0]![0];
      load.set(to, load.get(to)! + 1);
      moves.push({ slot, from: d.id, to });
    }
  }
  // Group by pair so that each receiver gets contiguous runs where possible.
  moves.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.slot - b.slot);
  return {
    kind: 'drain',
    fingerprint: s.fingerprint,
    nodes: nodeAddresses(s),
    waves: toWaves(moves, intent.slotsPerBatch ?? DEFAULT_SLOTS_PER_BATCH, intent.batchesPerWave ?? DEFAULT_BATCHES_PER_WAVE),
    intent: { nodes: drained.map((d) => d.id), to: intent.to ?? null },
    notes: moves.length === 0 ? ['the named masters own no slots: nothing to move'] : [],
  };
}
