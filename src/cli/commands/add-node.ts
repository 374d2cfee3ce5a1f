import type { Command } from 'commander';
import { addNode } from '../../cluster/add-node.js';
import { parseHostPort } from '../../redis/address.js';
import { waitUntilReady } from '../../cluster/ready.js';
import { RctlError } from '../../errors.js';
import { mastersOf } from '../../cluster/snapshot.js';
import { recordMasters } from '../../state/records.js';
import { providerFor } from '../../provision/select.js';
import { recordedNodes } from '../../provision/recorded-nodes.js';
import { outputOptions } from '../options.js';
import { runCommand } from '../run.js';
import { changeTargetOptions, withExclusive, type LockFlags } from '../exclusive.js';
import { infoTable, nodeRow, orderedNodes } from '../views/cluster-views.js';

type AddFlags = LockFlags & { addr?: string; replicaOf?: string; json?: boolean; yes?: boolean };

export function registerAddNode(program: Command): void {
  outputOptions(
    changeTargetOptions(program.command('add-node').description('add an empty node as master or replica; without --addr, provision a new container/process'))
      .option('--addr <host:port>', 'a running, empty, cluster-enabled node to add')
      .option('--replica-of <id|auto>', 'join as a replica of this master ("auto": fewest replicas, another machine preferred)'),
  ).action((flags: AddFlags) =>
    runCommand(flags, async (ctx) => {
      let provisioned: Awaited<ReturnType<typeof recordedNodes>> | undefined;
      let index: number | undefined;
      return withExclusive(flags, ctx, 'add-node', async ({ conns, snapshot, target }) => {
        const ready = await waitUntilReady(conns, snapshot.seed, { what: 'adding a node', signal: ctx.signal });
        let addr = flags.addr ? parseHostPort(flags.addr, '--addr') : undefined;
        if (!addr) {
          const rec = target.record;
          if (!rec) {
            throw new RctlError('USAGE', 'rctl did not create this cluster, so it cannot provision a node for it.', { hint: 'Start an empty cluster-enabled node yourself and pass --addr host:port.' });
          }
          provisioned = await recordedNodes(rec.name, await providerFor(rec.provider, rec.image), conns, ctx.onEvent, ctx.signal);
          index = Math.max(0, ...rec.nodes.map((n) => n.index)) + 1;
          ctx.setRepairHint(`Run \`rctl del-node --name ${rec.name} 127.0.0.1:${rec.portBase + index - 1}\` if the new node was left half-added.`);
          await provisioned.start([index]);
          addr = provisioned.addressOf(index);
        }
        try {
          const res = await addNode(ready, addr, { conns, replicaOf: flags.replicaOf, signal: ctx.signal, onEvent: ctx.onEvent, machine: provisioned?.machine });
          const s = res.snapshot;
          if (target.record) await recordMasters(target.record.name, mastersOf(s).length);
          return {
            data: { id: res.id, address: `${res.addr.host}:${res.addr.port}`, role: res.role, masterId: res.masterId ?? null, nodes: orderedNodes(s).map((n) => nodeRow(s, n)) },
            human: `${infoTable(s)}\n\nAdded ${res.addr.host}:${res.addr.port} (${res.id.slice(0, 8)}) as ${res.role === 'master' ? 'an empty master: give it slots with `rctl rebalance --use-empty-masters`' : `a replica of ${res.masterId?.slice(0, 8)}`}.`,
          };
        } catch (err) {
          // Nothing half-done: a node rctl started for this is removed again.
          if (provisioned && index !== undefined) await provisioned.remove([index]).catch(() => undefined);
          throw err;
        }
      });
    }),
  );
}
