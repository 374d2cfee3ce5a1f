import type { Command } from 'commander';
import { addrKey } from '../../redis/address.js';
import { keySlot } from '../../cluster/keyslot.js';
import { mastersOf, type Snapshot } from '../../cluster/snapshot.js';
import { slotsOf } from '../../cluster/slots.js';
import { readRecord } from '../../state/records.js';
import { outputOptions, targetOptions } from '../options.js';
import { runCommand } from '../run.js';
import { DEFAULT_NAME, openCluster, type TargetFlags } from '../target.js';
import { table } from '../views/table.js';

export function registerSlot(program: Command): void {
  outputOptions(targetOptions(program.command('slot').description('hash slot of each key (hash tags honoured) and, with a cluster, its owner').argument('<key...>', 'keys'))).action(
    (keys: string[], flags: TargetFlags & { json?: boolean; yes?: boolean }) =>
      runCommand(flags, async () => {
        // Without --seed/--name and without a default cluster, the slot alone is still useful.
        const withCluster = flags.seed !== undefined || flags.name !== undefined || (await readRecord(DEFAULT_NAME)) !== undefined;
        let snapshot: Snapshot | undefined;
        if (withCluster) {
          const open = await openCluster(flags);
          snapshot = open.snapshot;
          await open.conns.closeAll();
        }
        const owner = new Map<number, { id: string; address: string }>();
        if (snapshot) for (const m of mastersOf(snapshot)) for (const s of slotsOf(m.self.slots)) owner.set(s, { id: m.id, address: addrKey(m.addr) });
        const rows = keys.map((key) => {
          const slot = keySlot(key);
          return { key, slot, owner: owner.get(slot) ?? null };
        });
        return {
          data: { keys: rows },
          human: table(
            snapshot ? ['key', 'slot', 'node', 'node id'] : ['key', 'slot'],
            rows.map((r) => (snapshot ? [r.key, r.slot, r.owner?.address ?? 'unowned', r.owner?.id.slice(0, 8) ?? '-'] : [r.key, r.slot])),
          ),
        };
      }),
  );
}
