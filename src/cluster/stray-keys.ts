import { addrKey } from './address.js';
import type { StrayKeys } from './check.js';
import type { AdminConnections } from './connection.js';
import { slotKeyCounts } from './slot-counts.js';
import { mastersOf, type Snapshot } from './snapshot.js';
import { slotsOf } from './slots.js';

/** For every master, the slots it holds keys in without owning them (what redis-cli calls "multiple owners"). */
export async function findStrayKeys(conns: AdminConnections, s: Snapshot): Promise<StrayKeys> {
  const out = new Map<string, { slot: number; keys: number }[]>();
  await Promise.all(
    mastersOf(s).map(async (m) => {
      const owned = new Set(slotsOf(m.self.slots));
      const counts = await slotKeyCounts(conns, m.addr);
      out.set(
        addrKey(m.addr),
        [...counts].filter(([slot]) => !owned.has(slot)).map(([slot, keys]) => ({ slot, keys })),
      );
    }),
  );
  return out;
}
