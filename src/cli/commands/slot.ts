import type { Command } from 'commander';
import { keySlot, type SlotOwner } from '../../index.js';
import { readRecord } from '../../state/records.js';
import { outputOptions, targetOptions } from '../options.js';
import { runCommand } from '../run.js';
import { DEFAULT_NAME, withTarget, type TargetFlags } from '../target.js';
import { table } from '../views/table.js';

export function registerSlot(program: Command): void {
  outputOptions(targetOptions(program.command('slot').description('hash slot of each key (hash tags honoured) and, with a cluster, its owner').argument('<key...>', 'keys'))).action(
    (keys: string[], flags: TargetFlags & { json?: boolean; yes?: boolean }) =>
      runCommand(flags, async () => {
        // Without --seed/--name and without a default cluster, the slot alone is still useful.
        const withCluster = flags.seed !== undefined || flags.name !== undefined || (await readRecord(DEFAULT_NAME)) !== undefined;
        const rows: SlotOwner[] = withCluster ? await withTarget(flags, (c) => c.slotOf(...keys)) : keys.map((key) => ({ key, slot: keySlot(key), owner: null }));
        return {
          data: { keys: rows },
          human: table(
            withCluster ? ['key', 'slot', 'node', 'node id'] : ['key', 'slot'],
            rows.map((r) => (withCluster ? [r.key, r.slot, r.owner?.address ?? 'unowned', r.owner?.id.slice(0, 8) ?? '-'] : [r.key, r.slot])),
          ),
        };
      }),
  );
}
