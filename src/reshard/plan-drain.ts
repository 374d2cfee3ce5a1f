import { addrKey } from '../redis/address.js';
import { resolveNodeRef } from '../cluster/node-ref.js';
import { mastersOf, type NodeState, type Snapshot } from '../cluster/snapshot.js';
import { countSlots } from '../cluster/slots.js';
import { RctlError, usageError } from '../errors.js';
import { toWaves, type Plan } from './plan.js';
import { matchBalances } from './plan-rebalance.js';
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
 * Pure: empty some masters. Their slots go to `to`, or are spread so the remaining masters end up
 * as even as possible without moving anything between them: the receivers with fewest slots are
 * filled first, one slot at a time (ties by id: deterministic). Only the drained masters' slots
 * move, the least a drain can move. Sources and receivers are then matched largest-first
 * (matchBalances), so there are fewer source->target pairs than masters involved and each pair
 * gets contiguous runs: removing 10 masters of 60 gives ~59 pairs that run side by side, not ~550
 * pairs of a few slots each.
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
  const total = drained.reduce((n, d) => n + countSlots(d.self.slots), 0);
  const take = fillLowest(receivers.map((r) => ({ id: r.id, count: countSlots(r.self.slots) })), total);
  const moves = matchBalances([
    ...drained.map((d) => ({ id: d.id, balance: countSlots(d.self.slots), slots: d.self.slots })),
    ...receivers.map((r) => ({ id: r.id, balance: -(take.get(r.id) ?? 0), slots: r.self.slots })),
  ]);
  return {
    kind: 'drain',
    fingerprint: s.fingerprint,
    nodes: nodeAddresses(s),
    waves: toWaves(moves, intent.slotsPerBatch ?? DEFAULT_SLOTS_PER_BATCH, intent.batchesPerWave ?? DEFAULT_BATCHES_PER_WAVE),
    intent: { nodes: drained.map((d) => d.id), to: intent.to ?? null },
    notes: moves.length === 0 ? ['the named masters own no slots: nothing to move'] : [],
  };
}

/** How many of `total` new slots each receiver takes when each next slot goes to whoever has fewest (ties by id). */
export function fillLowest(receivers: readonly { id: string; count: number }[], total: number): Map<string, number> {
  const load = [...receivers].sort((a, b) => a.id.localeCompare(b.id)).map((r) => ({ id: r.id, count: r.count, take: 0 }));
  for (let i = 0; i < total; i++) {
    let min = load[0]!;
    for (const r of load) if (r.count < min.count) min = r;
    min.count++;
    min.take++;
  }
  return new Map(load.map((r) => [r.id, r.take]));
}
