import type { Command } from 'commander';
import { addrKey, parseHostPort, type NodeAddress } from '../../cluster/address.js';
import { AdminConnections } from '../../cluster/connection.js';
import { ExitCode, RctlError } from '../../errors.js';
import { providerFor, resolveImage, selectProvider } from '../../provision/select.js';
import { createSentinelGroup } from '../../sentinel/create.js';
import { sentinelDrill, type SentinelDrillReport } from '../../sentinel/drill.js';
import { sentinelFailover } from '../../sentinel/failover.js';
import { sentinelStatus, type SentinelStatus } from '../../sentinel/status.js';
import { deleteRecord, readRecord, requireRecord, writeRecord, type ClusterRecord } from '../../state/records.js';
import type { CommandContext, CommandOutput } from '../context.js';
import { oneOf, toInt } from '../parse.js';
import { confirmOrRefuse } from '../prompt.js';
import { runCommand } from '../run.js';
import { ms, table } from '../views/table.js';

const DEFAULT = 'rctl-sentinel';
type Common = { name?: string; sentinel?: string; masterName?: string; password?: string; json?: boolean; yes?: boolean };

const common = (c: Command): Command =>
  c
    .option('--name <name>', `Sentinel group rctl created (default "${DEFAULT}")`)
    .option('--sentinel <host:port>', 'any Sentinel, also of a group rctl did not create')
    .option('--master-name <name>', 'the monitored master name (default: the group\'s)')
    .option('--password <password>', 'auth for the data nodes (or RCTL_PASSWORD)')
    .option('--json', 'machine-readable output')
    .option('--yes', 'never prompt');

interface Target {
  sentinels: NodeAddress[];
  masterName: string;
  record: ClusterRecord | undefined;
  password: string | undefined;
}

async function target(f: Common): Promise<Target> {
  const password = f.password ?? (process.env['RCTL_PASSWORD'] || undefined);
  if (f.sentinel) {
    const rec = f.name ? await readRecord(f.name) : undefined;
    return { sentinels: [parseHostPort(f.sentinel, '--sentinel')], masterName: f.masterName ?? rec?.sentinel?.masterName ?? 'mymaster', record: rec, password: password ?? rec?.password };
  }
  const rec = await requireRecord(f.name ?? DEFAULT);
  if (rec.kind !== 'sentinel' || !rec.sentinel) throw new RctlError('USAGE', `"${rec.name}" is a Redis Cluster, not a Sentinel group.`, { hint: 'Use the cluster commands (rctl check, rctl failover) for it.' });
  return { sentinels: rec.sentinel.nodes.map((n) => ({ host: n.host, port: n.port })), masterName: f.masterName ?? rec.sentinel.masterName, record: rec, password: password ?? rec.password };
}

export function registerSentinel(program: Command): void {
  const s = program.command('sentinel').description('Redis Sentinel groups: a master, replicas and Sentinels');

  s.command('create')
    .description('start a master, replicas and Sentinels; wait until every Sentinel sees a healthy master')
    .option('--name <name>', 'group name', DEFAULT)
    .option('--master-name <name>', 'name Sentinels monitor the master as', 'mymaster')
    .option('--replicas <n>', 'replicas', '2')
    .option('--sentinels <n>', 'Sentinels', '3')
    .option('--quorum <n>', 'Sentinels that must agree the master is down', '2')
    .option('--down-after <ms>', 'down-after-milliseconds', '5000')
    .option('--failover-timeout <ms>', 'failover-timeout', '60000')
    .option('--parallel-syncs <n>', 'parallel-syncs', '1')
    .option('--port-base <port>', 'master port; replicas follow', '6379')
    .option('--sentinel-port-base <port>', 'first Sentinel port', '26379')
    .option('--provider <docker|process>', 'docker (default when an engine answers) or process')
    .option('--image <image>', 'Redis image for docker')
    .option('--network <host|bridge>', 'docker networking', 'host')
    .option('--host <addr>', 'address to bind and announce', '127.0.0.1')
    .option('--password <password>', 'requirepass/masterauth on the data nodes, auth-pass for Sentinels')
    .option('--json', 'machine-readable output')
    .option('--yes', 'never prompt; also accept a quorum below a majority')
    .action((f: Record<string, string | boolean | undefined>) =>
      runCommand(f, async (ctx) => {
        const provider = await selectProvider(oneOf(f['provider'] as string | undefined, '--provider', ['docker', 'process'] as const), f['image'] as string | undefined);
        const network = oneOf(f['network'] as string | undefined, '--network', ['host', 'bridge'] as const, 'host')!;
        if (network === 'bridge') throw new RctlError('USAGE', 'Sentinel groups run with --network host for now.', { hint: 'Drop --network bridge.' });
        const res = await createSentinelGroup(
          {
            name: String(f['name']),
            masterName: String(f['masterName']),
            replicas: toInt(f['replicas'] as string, '--replicas'),
            sentinels: toInt(f['sentinels'] as string, '--sentinels'),
            quorum: toInt(f['quorum'] as string, '--quorum'),
            downAfterMs: toInt(f['downAfter'] as string, '--down-after'),
            failoverTimeoutMs: toInt(f['failoverTimeout'] as string, '--failover-timeout'),
            parallelSyncs: toInt(f['parallelSyncs'] as string, '--parallel-syncs'),
            portBase: toInt(f['portBase'] as string, '--port-base'),
            sentinelPortBase: toInt(f['sentinelPortBase'] as string, '--sentinel-port-base'),
            host: String(f['host']),
            password: (f['password'] as string | undefined) ?? (process.env['RCTL_PASSWORD'] || undefined),
          },
          provider,
          { network, image: provider.kind === 'docker' ? resolveImage(f['image'] as string | undefined) : undefined, allowWeakQuorum: Boolean(f['yes']), onEvent: ctx.onEvent, signal: ctx.signal },
        );
        return { data: { name: res.record.name, warnings: res.warnings, ...statusJson(res.status) }, human: `${statusView(res.status)}\n\nSentinel group "${res.record.name}" is healthy.` };
      }),
    );

  common(s.command('status').description('each Sentinel\'s view and a verdict; exit 0 healthy, 1 problems')).action((f: Common) =>
    runCommand(f, async () => {
      const t = await target(f);
      const conns = new AdminConnections({ password: t.password });
      try {
        const st = await sentinelStatus(conns, t.sentinels, t.masterName, t.record ? { replicas: t.record.replicasPerMaster, sentinels: t.record.sentinel?.nodes.length } : {});
        return { data: statusJson(st), human: statusView(st), exitCode: st.healthy ? ExitCode.ok : ExitCode.problems };
      } finally {
        await conns.closeAll();
      }
    }),
  );

  common(s.command('failover').description('SENTINEL FAILOVER; waits for +switch-master and for every Sentinel and replica to agree')).action((f: Common) =>
    runCommand(f, async (ctx) => {
      const t = await target(f);
      const conns = new AdminConnections({ password: t.password });
      try {
        const data = t.record?.nodes.map((n) => ({ host: n.host, port: n.port })) ?? [];
        const res = await sentinelFailover(conns, t.sentinels, t.masterName, data, { onEvent: ctx.onEvent, signal: ctx.signal });
        return {
          data: { oldMaster: addrKey(res.oldMaster), newMaster: addrKey(res.newMaster), switchMs: res.switchMs, agreedMs: res.agreedMs },
          human: `${addrKey(res.newMaster)} is master of "${t.masterName}" (was ${addrKey(res.oldMaster)}): +switch-master after ${ms(res.switchMs)}, everyone agreed after ${ms(res.agreedMs)}.`,
        };
      } finally {
        await conns.closeAll();
      }
    }),
  );

  common(s.command('drill').description('fault the master (stop, kill, pause), record Sentinel events, bring it back, count lost writes'))
    .option('--mode <stop|kill|pause>', 'how to fault the master', 'kill')
    .option('--load', 'run a bounded writer through a Sentinel-aware client')
    .action((f: Common & { mode?: string; load?: boolean }) =>
      runCommand(f, async (ctx) => {
        const t = await target(f);
        if (!t.record) throw new RctlError('USAGE', 'Drills stop, kill or freeze nodes, which rctl can only do for groups it created.', { hint: 'Use --name with a group from `rctl ls`.' });
        const rec = t.record;
        const mode = oneOf(f.mode, '--mode', ['stop', 'kill', 'pause'] as const, 'kill')!;
        const conns = new AdminConnections({ password: t.password });
        try {
          const report = await sentinelDrill(rec, await providerFor(rec.provider, rec.image), {
            conns,
            mode,
            load: Boolean(f.load),
            signal: ctx.signal,
            onEvent: ctx.onEvent,
            onRecovered: async (n) => {
              const latest = await readRecord(rec.name);
              if (latest) await writeRecord({ ...latest, nodes: latest.nodes.map((x) => (x.index === n.index ? n : x)) });
            },
          });
          return { data: { ...report, status: statusJson(report.status) }, human: drillView(report), exitCode: report.status.healthy ? ExitCode.ok : ExitCode.problems };
        } finally {
          await conns.closeAll();
        }
      }),
    );

  s.command('destroy')
    .description('remove a Sentinel group rctl created, with its data')
    .option('--name <name>', 'group name', DEFAULT)
    .option('--json', 'machine-readable output')
    .option('--yes', 'never prompt')
    .action((f: { name?: string; json?: boolean; yes?: boolean }) => runCommand(f, (ctx) => destroy(ctx, f.name ?? DEFAULT)));
  s.commands.forEach((c) => c.exitOverride());
}

async function destroy(ctx: CommandContext, name: string): Promise<CommandOutput> {
  const rec = await requireRecord(name);
  if (rec.kind !== 'sentinel') throw new RctlError('USAGE', `"${name}" is a Redis Cluster, not a Sentinel group.`, { hint: `Use \`rctl destroy --name ${name}\`.` });
  const ok = await confirmOrRefuse(ctx, `Destroy Sentinel group "${name}" and its data?`, `Destroying "${name}"`);
  if (!ok) return { data: { destroyed: false }, human: 'Nothing removed.', exitCode: 1 };
  await (await providerFor(rec.provider, rec.image)).purge(name, [...rec.nodes, ...(rec.sentinel?.nodes ?? [])]);
  await deleteRecord(name);
  return { data: { destroyed: true, name }, human: `Destroyed Sentinel group "${name}".` };
}

function statusJson(st: SentinelStatus): Record<string, unknown> {
  return {
    healthy: st.healthy,
    master: st.master ? addrKey(st.master) : null,
    problems: st.problems,
    sentinels: st.views.map((v) => ({ sentinel: addrKey(v.sentinel), master: addrKey(v.master), flags: v.flags, replicas: v.numReplicas, otherSentinels: v.numOtherSentinels, quorum: v.quorum, ckquorum: v.ckquorum, failoverEpoch: v.failoverEpoch ?? null })),
    unreachable: st.unreachable,
  };
}

function statusView(st: SentinelStatus): string {
  const t = table(
    ['sentinel', 'master', 'flags', 'replicas', 'other sentinels', 'quorum', 'ckquorum'],
    st.views.map((v) => [addrKey(v.sentinel), addrKey(v.master), v.flags.join(','), v.numReplicas, v.numOtherSentinels, v.quorum, /^OK/.test(v.ckquorum) ? 'OK' : v.ckquorum]),
  );
  return `${t}\n${st.healthy ? `Healthy: every Sentinel names ${st.master ? addrKey(st.master) : '?'}, which is master; its replicas follow it.` : `Problems:\n${st.problems.map((p) => `  - ${p}`).join('\n')}`}`;
}

function drillView(r: SentinelDrillReport): string {
  const rows = Object.entries(r.events).map(([e, t]) => [e, ms(t)]);
  if (r.allAgreeMs !== undefined) rows.push(['every Sentinel and replica agree', ms(r.allAgreeMs)]);
  if (r.rejoinedMs !== undefined) rows.push(['old master back as a replica', ms(r.rejoinedMs)]);
  const lines = [`Drill: ${r.mode} of master ${r.master} (down-after ${r.downAfterMs} ms); new master ${r.newMaster ?? '?'}`, table(['after the fault', 'time'], rows)];
  if (r.load) lines.push(table(['writes', 'count'], [['attempted', r.load.attempted], ['acknowledged', r.load.acknowledged], ['failed (client saw an error)', r.load.failed], ['lost (acknowledged, not readable afterwards)', r.load.lost]]));
  lines.push(r.status.healthy ? 'Status after the drill: healthy.' : `Status after the drill: ${r.status.problems.join('; ')}`);
  return lines.join('\n');
}
