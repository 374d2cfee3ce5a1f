import { addrKey } from './address.js';
import type { AdminConnections } from './connection.js';
import type { StrayKeys } from './check.js';
import { mastersOf, type Snapshot } from './snapshot.js';
import { SLOT_COUNT, slotsOf } from './slots.js';

/**
 * For every master, the slots it holds keys in without owning them (what redis-cli calls
 * "multiple owners"). One pipeline of CLUSTER COUNTKEYSINSLOT per master: ~11k tiny commands,
 * a few milliseconds each node.
 */
export async function findStrayKeys(conns: AdminConnections, s: Snapshot): Promise<StrayKeys> {
  const out = new Map<string, { slot: number; keys: number }[]>();
  await Promise.all(
    mastersOf(s).map(async (m) => {
      const owned = new Set(slotsOf(m.self.slots));
      const candidates: number[] = [];
      for (let slot = 0; slot < SLOT_COUNT; slot++) if (!owned.has(slot)) candidates.push(slot);
      const counts = await conns.run(m.addr, async (r) => {
        const p = r.pipeline();
        for (const slot of candidates) p.call('CLUSTER', 'COUNTKEYSINSLOT', String(slot));
        return (await p.exec()) ?? [];
      });
      const found: { slot: number; keys: number }[] = [];
      counts.forEach(([err, n], i) => {
        if (!err && Number(n) > 0) found.push({ slot: candidates[i] as number, keys: Number(n) });
      });
      out.set(addrKey(m.addr), found);
    }),
  );
  return out;
}
