import type { Command } from 'commander';
import { deleteNode } from '../../cluster/del-node.js';
import { resolveKnownNode } from '../../cluster/node-ref.js';
import { waitUntilReady } from '../../cluster/ready.js';
import { mastersOf } from '../../cluster/snapshot.js';
import { recordMasters } from '../../state/records.js';
import { providerFor } from '../../provision/select.js';
import { recordedAt, recordedNodes } from '../../provision/recorded-nodes.js';
import { outputOptions } from '../options.js';
import { declined } from '../declined.js';
import { confirmOrRefuse } from '../prompt.js';
import { runCommand } from '../run.js';
import { changeTargetOptions, withExclusive, type LockFlags } from '../exclusive.js';

type DelFlags = LockFlags & { keepContainer?: boolean; json?: boolean; yes?: boolean };

export function registerDelNode(program: Command): void {
  outputOptions(
    changeTargetOptions(program.command('del-node').description('remove a replica or an empty master (also one that is down) from the cluster').argument('<node>', 'id, unique id prefix or host:port')).option(
      '--keep-container',
      'leave the container/process and its data in place',
    ),
  ).action((ref: string, flags: DelFlags) =>
    runCommand(flags, async (ctx) => {
      return withExclusive(flags, ctx, 'del-node', async ({ conns, snapshot, target }) => {
        const known = resolveKnownNode(snapshot, ref, 'NODE');
        // A node that is down cannot pass a health check; only wait for health when it answers.
        const s = known.state ? await waitUntilReady(conns, snapshot.seed, { what: 'removing a node', signal: ctx.signal }).catch(() => snapshot) : snapshot;
        const ok = await confirmOrRefuse(ctx, `Remove ${known.addr.host}:${known.addr.port} (${known.id.slice(0, 8)}) from the cluster?`, `Removing ${known.addr.host}:${known.addr.port}`);
        if (!ok) return declined({ removed: false });
        const rec = target.record;
        // Before the cluster changes: a docker cluster with no engine answering is refused up front.
        const provider = rec && recordedAt(rec, known.addr) && !flags.keepContainer ? await providerFor(rec.provider, rec.image) : undefined;
        const res = await deleteNode(s, known.id, { conns, signal: ctx.signal, onEvent: ctx.onEvent });
        let deleted = false;
        const recorded = rec ? recordedAt(rec, res.addr) : undefined;
        if (rec) await recordMasters(rec.name, mastersOf(res.snapshot).length);
        if (rec && recorded && provider) {
          const nodes = await recordedNodes(rec.name, provider, conns, ctx.onEvent);
          await nodes.remove([recorded.index]);
          deleted = true;
        }
        const what = deleted ? `; its ${rec?.provider === 'process' ? 'process' : 'container'} and data are deleted` : recorded ? ' (kept its container/process)' : '';
        return {
          data: { removed: true, id: res.id, address: `${res.addr.host}:${res.addr.port}`, wasReachable: res.wasReachable, movedReplicas: res.movedReplicas, deletedNode: deleted },
          human: `Removed ${res.addr.host}:${res.addr.port} (${res.id.slice(0, 8)}): no node lists it any more${what}.${res.movedReplicas.length ? ` Its ${res.movedReplicas.length} replica(s) now follow other masters.` : ''}`,
        };
      }, { allowUnserved: true });
    }),
  );
}
