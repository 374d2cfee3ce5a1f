import type { Command } from 'commander';
import { deleteNode } from '../../cluster/del-node.js';
import { resolveKnownNode } from '../../cluster/node-ref.js';
import { waitUntilReady } from '../../cluster/ready.js';
import { providerFor } from '../../provision/select.js';
import { recordedAt, recordedNodes } from '../../provision/recorded-nodes.js';
import { outputOptions, targetOptions } from '../options.js';
import { confirmOrRefuse } from '../prompt.js';
import { runCommand } from '../run.js';
import { openCluster, type TargetFlags } from '../target.js';

type DelFlags = TargetFlags & { keepContainer?: boolean; json?: boolean; yes?: boolean };

export function registerDelNode(program: Command): void {
  outputOptions(
    targetOptions(program.command('del-node').description('remove a replica or an empty master (also one that is down) from the cluster').argument('<node>', 'id, unique id prefix or host:port')).option(
      '--keep-container',
      'leave the container/process and its data in place',
    ),
  ).action((ref: string, flags: DelFlags) =>
    runCommand(flags, async (ctx) => {
      const { conns, snapshot, target } = await openCluster(flags);
      try {
        const known = resolveKnownNode(snapshot, ref, 'NODE');
        // A node that is down cannot pass a health check; only wait for health when it answers.
        const s = known.state ? await waitUntilReady(conns, snapshot.seed, { what: 'removing a node', signal: ctx.signal }).catch(() => snapshot) : snapshot;
        const ok = await confirmOrRefuse(ctx, `Remove ${known.addr.host}:${known.addr.port} (${known.id.slice(0, 8)}) from the cluster?`, `Removing ${known.addr.host}:${known.addr.port}`);
        if (!ok) return { data: { removed: false }, human: 'Nothing changed.', exitCode: 1 };
        const res = await deleteNode(s, known.id, { conns, signal: ctx.signal, onEvent: ctx.onEvent });
        let deleted = false;
        const rec = target.record;
        const recorded = rec ? recordedAt(rec, res.addr) : undefined;
        if (rec && recorded && !flags.keepContainer) {
          const nodes = await recordedNodes(rec.name, await providerFor(rec.provider, rec.image), conns, ctx.onEvent);
          await nodes.remove([recorded.index]);
          deleted = true;
        }
        const what = deleted ? `; its ${rec?.provider === 'process' ? 'process' : 'container'} and data are deleted` : recorded ? ' (kept its container/process)' : '';
        return {
          data: { removed: true, id: res.id, address: `${res.addr.host}:${res.addr.port}`, wasReachable: res.wasReachable, movedReplicas: res.movedReplicas, deletedNode: deleted },
          human: `Removed ${res.addr.host}:${res.addr.port} (${res.id.slice(0, 8)}): no node lists it any more${what}.${res.movedReplicas.length ? ` Its ${res.movedReplicas.length} replica(s) now follow other masters.` : ''}`,
        };
      } finally {
        await conns.closeAll();
      }
    }),
  );
}
