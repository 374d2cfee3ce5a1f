import type { Command } from 'commander';
import { validateCreateIntent, type CreateIntent } from '../../cluster/create.js';
import { createCluster, formCluster } from '../../index.js';
import { choiceOption, durationMs, intAtLeast, nonNegativeInt, oneOf, port, toInt } from '../parse.js';
import { runCommand } from '../run.js';
import { DEFAULT_NAME } from '../target.js';
import { infoTable, nodeRow, orderedNodes } from '../views/cluster-views.js';
import { ms } from '../views/table.js';
import { ALLOW_OPEN_FLAG, connectableHost } from '../../provision/bind-address.js';
import { ADDRESS_PER_NODE_FLAG } from '../../provision/node-address.js';
import { resolvePassword } from '../password.js';
import type { CommandContext, CommandOutput } from '../context.js';

interface CreateFlags {
  name?: string;
  masters?: number;
  replicas?: number;
  provider?: string;
  image?: string;
  network?: string;
  portBase?: number;
  nodeTimeout?: number;
  host?: string;
  announceIp?: string;
  password?: string;
  passwordFile?: string;
  allowOpen?: boolean;
  addressPerNode?: boolean;
  minReplicasToWrite?: number;
  minReplicasMaxLag?: number;
  nodes?: string;
  json?: boolean;
  yes?: boolean;
}

export function registerCreate(program: Command): void {
  program
    .command('create')
    .description('provision nodes (docker or process) and form a healthy cluster; or form one from existing empty nodes (--nodes)')
    .option('--name <name>', 'cluster name; containers are <name>-node-<i>', DEFAULT_NAME)
    .option('--masters <n>', 'number of masters (at least 3)', intAtLeast(3, 'Redis Cluster needs 3 masters to agree on failures.'), 3)
    .option('--replicas <n>', 'replicas per master', nonNegativeInt, 1)
    .addOption(choiceOption('--provider <provider>', 'docker (default when an engine answers) or process (redis-server from PATH)', ['docker', 'process']))
    .option('--image <image>', 'Redis image for docker (default: RCTL_IMAGE, ~/.rctl/config.json, or the pinned official tag)')
    .addOption(choiceOption('--network <mode>', 'docker networking', ['host', 'bridge'], 'host'))
    .option('--port-base <port>', 'first client port; bus ports are port + 10000', port, 6381)
    .option('--node-timeout <ms>', 'cluster-node-timeout in milliseconds (default 5000; more for clusters of over 115 nodes, so that their gossip stays within about a core)', durationMs)
    .option('--host <addr>', 'address to bind and announce', '127.0.0.1')
    .option('--announce-ip <addr>', 'bridge mode: address clients outside Docker use (cluster-announce-ip)')
    .option('--password <password>', 'set requirepass and masterauth on every node; visible to other local users in `ps`: prefer RCTL_PASSWORD or --password-file')
    .option('--password-file <path>', 'read the password from the first line of this file')
    .option(ADDRESS_PER_NODE_FLAG, 'give node k its own address --host + (k-1) (127/8, e.g. --host 127.0.0.21), so partition drills can cut one node; not with --network bridge')
    .option('--min-replicas-to-write <n>', 'min-replicas-to-write on every node: a master acknowledged by fewer replicas within --min-replicas-max-lag refuses writes (bounds what a partition loses; at most --replicas)', nonNegativeInt)
    .option('--min-replicas-max-lag <s>', 'min-replicas-max-lag in seconds (with --min-replicas-to-write; default 10)', intAtLeast(1))
    .option(ALLOW_OPEN_FLAG, 'accept a --host other than loopback without a password (anyone on the network can connect)')
    .option('--nodes <host:port,...>', 'form a cluster from these running, empty nodes instead of provisioning')
    .option('--json', 'machine-readable output')
    .option('--yes', 'never prompt')
    .action((flags: CreateFlags) =>
      runCommand(flags, async (ctx) => {
        const masters = toInt(flags.masters, '--masters');
        const replicas = toInt(flags.replicas, '--replicas');
        const password = resolvePassword(flags);
        if (flags.nodes) return formExisting(flags.nodes, masters, replicas, password, ctx);
        const network = oneOf(flags.network, '--network', ['host', 'bridge'] as const, 'host') ?? 'host';
        const intent: CreateIntent = {
          name: flags.name ?? DEFAULT_NAME,
          masters,
          replicasPerMaster: replicas,
          network,
          host: flags.host ?? '127.0.0.1',
          announceIp: flags.announceIp,
          portBase: toInt(flags.portBase, '--port-base'),
          nodeTimeoutMs: flags.nodeTimeout === undefined ? undefined : toInt(flags.nodeTimeout, '--node-timeout'),
          password,
          image: flags.image,
          addressPerNode: Boolean(flags.addressPerNode),
          minReplicasToWrite: flags.minReplicasToWrite === undefined ? undefined : toInt(flags.minReplicasToWrite, '--min-replicas-to-write'),
          minReplicasMaxLagS: flags.minReplicasMaxLag === undefined ? undefined : toInt(flags.minReplicasMaxLag, '--min-replicas-max-lag'),
        };
        const providerKind = oneOf(flags.provider, '--provider', ['docker', 'process'] as const);
        validateCreateIntent(intent);
        ctx.setRepairHint(`Run \`rctl destroy --name ${intent.name} --yes\` to remove what create had started.`);
        const { record, form, totalMs } = await createCluster({
          ...intent,
          masters,
          replicas,
          provider: providerKind,
          allowOpen: Boolean(flags.allowOpen),
          onEvent: ctx.onEvent,
          signal: ctx.signal,
        });
        const s = form.snapshot;
        return {
          data: {
            name: record.name,
            provider: record.provider,
            image: record.image ?? null,
            network: record.network,
            totalMs,
            nodeTimeoutMs: record.nodeTimeoutMs,
            minReplicasToWrite: record.minReplicasToWrite ?? null,
            minReplicasMaxLagS: record.minReplicasMaxLagS ?? null,
            agreementMs: form.agreementMs,
            slotAgreementMs: form.slotAgreementMs,
            nodes: orderedNodes(s).map((n) => nodeRow(s, n)),
          },
          human: `${infoTable(s)}\n\nCluster "${record.name}" is healthy (${record.provider}, ${ms(totalMs)} in all, agreement ${ms(form.agreementMs)}).\nTry: redis-cli -c -h ${connectableHost(record.nodes[0]?.host ?? record.host)} -p ${record.nodes[0]?.port}${record.password ? ' --askpass' : ''}   ·   rctl check --name ${record.name}`,
        };
      }),
    );
}

async function formExisting(list: string, masters: number, replicas: number, password: string | undefined, ctx: CommandContext): Promise<CommandOutput> {
  const nodes = list.split(',').filter(Boolean);
  const form = await formCluster({ nodes, masters, replicas, password, onEvent: ctx.onEvent, signal: ctx.signal });
  const s = form.snapshot;
  return {
    data: { nodeTimeoutMs: form.nodeTimeoutMs, agreementMs: form.agreementMs, slotAgreementMs: form.slotAgreementMs, nodes: orderedNodes(s).map((n) => nodeRow(s, n)) },
    human: `${infoTable(s)}\n\nCluster formed on ${nodes.map((a) => a.trim()).join(', ')} (agreement ${ms(form.agreementMs)}).`,
  };
}
