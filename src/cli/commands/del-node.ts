import type { Command } from 'commander';
import { outputOptions } from '../options.js';
import { runCommand } from '../run.js';
import { changeTargetOptions, type LockFlags } from '../exclusive.js';
import { opts, orDeclined, withTarget } from '../target.js';

type DelFlags = LockFlags & { keepContainer?: boolean; json?: boolean; yes?: boolean };

export function registerDelNode(program: Command): void {
  outputOptions(
    changeTargetOptions(program.command('del-node').description('remove a replica or an empty master (also one that is down) from the cluster').argument('<node>', 'id, unique id prefix or host:port')).option(
      '--keep-container',
      'leave the container/process and its data in place',
    ),
  ).action((ref: string, flags: DelFlags) =>
    runCommand(flags, (ctx) =>
      orDeclined(
        () =>
          withTarget(flags, async (c) => {
            const res = await c.delNode(ref, { ...opts(ctx, flags), keepContainer: flags.keepContainer });
            const what = res.deletedNode ? `; its ${c.record?.provider === 'process' ? 'process' : 'container'} and data are deleted` : res.recorded ? ' (kept its container/process)' : '';
            return {
              data: { removed: true, id: res.id, address: `${res.addr.host}:${res.addr.port}`, wasReachable: res.wasReachable, movedReplicas: res.movedReplicas, deletedNode: res.deletedNode },
              human: `Removed ${res.addr.host}:${res.addr.port} (${res.id.slice(0, 8)}): no node lists it any more${what}.${res.movedReplicas.length ? ` Its ${res.movedReplicas.length} replica(s) now follow other masters.` : ''}`,
            };
          }),
        { removed: false },
      ),
    ),
  );
}
