import type { Command } from 'commander';
import { outputOptions, targetOptions } from '../options.js';
import { runCommand } from '../run.js';
import { withTarget, type TargetFlags } from '../target.js';
import { infoTable, nodeRow, orderedNodes } from '../views/cluster-views.js';

export function registerInfo(program: Command): void {
  outputOptions(targetOptions(program.command('info').description('table of nodes: id, address, role, master, slots, keys, memory, link'))).action(
    (flags: TargetFlags & { json?: boolean; yes?: boolean }) =>
      runCommand(flags, async (ctx) => {
        const s = await withTarget(flags, (c) => c.info());
        return {
          data: {
            fingerprint: s.fingerprint,
            nodes: orderedNodes(s).map((n) => nodeRow(s, n)),
            unreachable: s.unreachable.map((u) => ({ address: `${u.addr.host}:${u.addr.port}`, id: u.id ?? null, error: u.error })),
          },
          // Only what is printed is rendered: with --json the table of every node is never shown.
          human: ctx.json ? '' : infoTable(s),
        };
      }),
  );
}
