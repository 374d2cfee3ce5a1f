import type { Command } from 'commander';
import { createSentinel, destroySentinel, ExitCode, usageError, openSentinel, DEFAULT_SENTINEL_NAME, type SentinelDrillReport, type SentinelHandle, type SentinelStatus } from '../../index.js';
import { addrKey } from '../../redis/address.js';
import { ALLOW_OPEN_FLAG } from '../../provision/bind-address.js';
import type { CommandContext, CommandOutput } from '../context.js';
import { choiceOption, durationMs, nonNegativeInt, oneOf, port, positiveInt, toInt } from '../parse.js';
import { resolvePassword } from '../password.js';
import { runCommand } from '../run.js';
import { opts, orDeclined } from '../target.js';
import { keysJson, keysLine } from '../views/keys-view.js';
import { loadJson, withNulls } from '../views/drill-json.js';
import { ms, table } from '../views/table.js';

const DEFAULT = DEFAULT_SENTINEL_NAME;
type Common = { name?: string; sentinel?: string; masterName?: string; password?: string; passwordFile?: string; json?: boolean; yes?: boolean };

const common = (c: Command): Command =>
  c
    .option('--name <name>', `Sentinel group rctl created (default "${DEFAULT}")`)
    .option('--sentinel <host:port>', 'any Sentinel, also of a group rctl did not create')
    .option('--master-name <name>', 'the monitored master name (default: the group\'s; with --sentinel, the only master it monitors)')
    .option('--password <password>', 'auth for the data nodes; visible to other local users in `ps`: prefer RCTL_PASSWORD or --password-file')
    .option('--password-file <path>', 'read the password from the first line of this file')
    .option('--json', 'machine-readable output')
    .option('--yes', 'never prompt');

/** The group the flags name, through the public API (resolution, record, password, master name). */
const open = (f: Common): Promise<SentinelHandle> =>
  openSentinel({ name: f.name, sentinel: f.sentinel, masterName: f.masterName, password: resolvePassword(f) });

/** `sentinel status`, and `check` on a Sentinel group: each Sentinel's view and the verdict (exit 0/1). */
export async function sentinelStatusOutput(f: Common, o: { replicas?: number | undefined } = {}): Promise<CommandOutput> {
  const t = await open(f);
  const st = await t.status(o);
  return { data: { kind: 'sentinel', masterName: t.masterName, ...statusJson(st) }, human: statusView(st), exitCode: st.healthy ? ExitCode.ok : ExitCode.problems };
}

export function registerSentinel(program: Command): void {
  const s = program.command('sentinel').description('Redis Sentinel groups: a master, replicas and Sentinels');

  s.command('create')
    .description('start a master, replicas and Sentinels; wait until every Sentinel sees a healthy master')
    .option('--name <name>', 'group name', DEFAULT)
    .option('--master-name <name>', 'name Sentinels monitor the master as', 'mymaster')
    .option('--replicas <n>', 'replicas', nonNegativeInt, 2)
    .option('--sentinels <n>', 'Sentinels', positiveInt, 3)
    .option('--quorum <n>', 'Sentinels that must agree the master is down', positiveInt, 2)
    .option('--down-after <ms>', 'down-after-milliseconds', durationMs, 5000)
    .option('--failover-timeout <ms>', 'failover-timeout in milliseconds', durationMs, 60_000)
    .option('--parallel-syncs <n>', 'parallel-syncs', positiveInt, 1)
    .option('--port-base <port>', 'master port; replicas follow', port, 6379)
    .option('--sentinel-port-base <port>', 'first Sentinel port', port, 26379)
    .addOption(choiceOption('--provider <provider>', 'docker (default when an engine answers) or process', ['docker', 'process']))
    .option('--image <image>', 'Redis image for docker')
    .addOption(choiceOption('--network <mode>', 'docker networking (Sentinel groups: host only for now)', ['host', 'bridge'], 'host'))
    .option('--host <addr>', 'address to bind and announce', '127.0.0.1')
    .option('--address-per-node', 'every data node and Sentinel on its own loopback address from --host up (e.g. --host 127.0.0.41): needed by `sentinel drill --mode partition`')
    .option('--min-replicas-to-write <n>', 'data nodes refuse writes with fewer replicas acknowledging within --min-replicas-max-lag', nonNegativeInt)
    .option('--min-replicas-max-lag <s>', 'min-replicas-max-lag in seconds (default 10)', positiveInt)
    .option('--password <password>', 'requirepass/masterauth on the data nodes, auth-pass for Sentinels; visible in `ps`: prefer RCTL_PASSWORD or --password-file')
    .option('--password-file <path>', 'read the password from the first line of this file')
    .option(ALLOW_OPEN_FLAG, 'accept a --host other than loopback without a password (anyone on the network can connect)')
    .option('--json', 'machine-readable output')
    .option('--yes', 'never prompt; also accept a quorum below a majority')
    .action((f: Record<string, string | boolean | undefined>) =>
      runCommand(f, async (ctx) => {
        const password = resolvePassword({ password: f['password'] as string | undefined, passwordFile: f['passwordFile'] as string | undefined });
        const res = await createSentinel({
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
          addressPerNode: Boolean(f['addressPerNode']),
          minReplicasToWrite: f['minReplicasToWrite'] === undefined ? undefined : toInt(f['minReplicasToWrite'] as string, '--min-replicas-to-write'),
          minReplicasMaxLagS: f['minReplicasMaxLag'] === undefined ? undefined : toInt(f['minReplicasMaxLag'] as string, '--min-replicas-max-lag'),
          password,
          allowOpen: Boolean(f['allowOpen']),
          provider: oneOf(f['provider'] as string | undefined, '--provider', ['docker', 'process'] as const),
          network: oneOf(f['network'] as string | undefined, '--network', ['host', 'bridge'] as const, 'host')!,
          image: f['image'] as string | undefined,
          allowWeakQuorum: Boolean(f['yes']),
          onEvent: ctx.onEvent,
          signal: ctx.signal,
        });
        return { data: { name: res.record.name, warnings: res.warnings, ...statusJson(res.status) }, human: `${statusView(res.status)}\n\nSentinel group "${res.record.name}" is healthy.` };
      }),
    );

  common(s.command('status').description('each Sentinel\'s view and a verdict; exit 0 healthy, 1 problems')).action((f: Common) => runCommand(f, () => sentinelStatusOutput(f)));

  common(s.command('failover').description('SENTINEL FAILOVER; waits for +switch-master and for every Sentinel and replica to agree')).action((f: Common) =>
    runCommand(f, async (ctx) => {
      const t = await open(f);
      const res = await t.failover({ onEvent: ctx.onEvent, signal: ctx.signal });
      return {
        data: res,
        human: `${res.newMaster} is master of "${t.masterName}" (was ${res.oldMaster}): +switch-master after ${ms(res.switchMs)}, everyone agreed after ${ms(res.agreedMs)}.`,
      };
    }),
  );

  common(s.command('drill').description('fault the master (stop, kill, pause, or partition: cut from Sentinels and replicas), record Sentinel events, bring it back, count lost writes'))
    .addOption(choiceOption('--mode <mode>', 'how to fault the master; partition needs a group created with --address-per-node, iptables and root', ['stop', 'kill', 'pause', 'partition'], 'kill'))
    .option('--duration <ms>', 'partition: how long the cut lasts at least (default down-after + 5 s; held until a failover under way completes)', durationMs)
    .option('--load', 'run a bounded writer through a Sentinel-aware client (its keys are removed afterwards); partition always runs its writers')
    .option('--keep-keys', 'leave the keys the writer wrote in place (they share one per-run prefix)')
    .action((f: Common & { mode?: string; load?: boolean; keepKeys?: boolean; duration?: number }) =>
      runCommand(f, async (ctx) => {
        const t = await open(f);
        const mode = oneOf(f.mode, '--mode', ['stop', 'kill', 'pause', 'partition'] as const, 'kill')!;
        if (f.duration !== undefined && mode !== 'partition') throw usageError('--duration is for --mode partition.', 'Drop --duration, or pass --mode partition.');
        const report = await t.drill({ mode, durationMs: f.duration, load: Boolean(f.load), keepKeys: Boolean(f.keepKeys), signal: ctx.signal, onEvent: ctx.onEvent });
        return { data: withNulls({ ...report, load: loadJson(report.load), keys: keysJson(report.keys), status: statusJson(report.status) }), human: drillView(report), exitCode: report.status.healthy ? ExitCode.ok : ExitCode.problems };
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

function destroy(ctx: CommandContext, name: string): Promise<CommandOutput> {
  return orDeclined(
    async () => {
      await destroySentinel(name, opts(ctx));
      return { data: { destroyed: true, name }, human: `Destroyed Sentinel group "${name}".` };
    },
    { destroyed: false },
    'Nothing removed.',
  );
}

function statusJson(st: SentinelStatus): Record<string, unknown> {
  return {
    healthy: st.healthy,
    master: st.master ? addrKey(st.master) : null,
    problems: st.problems,
    sentinels: st.views.map((v) => ({ sentinel: addrKey(v.sentinel), master: addrKey(v.master), flags: v.flags, replicas: v.numReplicas, otherSentinels: v.numOtherSentinels, quorum: v.quorum, ckquorum: v.ckquorum, ckquorumOk: /^OK/.test(v.ckquorum), failoverEpoch: v.failoverEpoch ?? null })),
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
  if (r.load) lines.push(table(['writes', 'count'], [['attempted', r.load.attempted], ['acknowledged', r.load.acknowledged], ['failed (client saw an error)', r.load.failed], ['lost (acknowledged, not readable afterwards)', r.load.lost], ['landed despite an error (failed, readable afterwards)', r.load.failedPresent]]));
  if (r.lostWrites) {
    const l = r.lostWrites;
    lines.push(
      table(
        ['writes (both writers)', 'count'],
        [['attempted', l.attempted], ['acknowledged', l.acknowledged], ['failed (client saw an error)', l.failed], ['lost (acknowledged, not readable after heal)', l.lost.count], ['landed despite an error', l.failedPresent]],
      ),
    );
    if (l.lost.count > 0) lines.push(`Lost writes were acknowledged ${ms(l.lost.firstAckMs ?? 0)} to ${ms(l.lost.lastAckMs ?? 0)} after the cut (cut lasted ${ms(r.cutMs ?? 0)}), by ${Object.entries(l.lost.byNode).map(([n, c]) => `${n} (${c})`).join(', ')}.`);
  }
  if (r.prediction) lines.push(`Predicted: ${r.prediction.text}`);
  if (r.agreement) lines.push(`Measurement ${r.agreement.agrees ? 'agrees' : 'DISAGREES'}: ${r.agreement.reasons.join('; ')}`);
  if (r.load || r.lostWrites) lines.push(keysLine(r.keys));
  lines.push(r.status.healthy ? 'Status after the drill: healthy.' : `Status after the drill: ${r.status.problems.join('; ')}`);
  return lines.join('\n');
}
