import { RctlError } from '../errors.js';
import { noEvents } from '../events.js';
import type { Provider } from '../provision/provider.js';
import { refuseOpenBind } from '../provision/bind-address.js';
import { providerFor, resolveImage, selectProvider } from '../provision/select.js';
import { addrKey, parseHostPort, type NodeAddress } from '../redis/address.js';
import { AdminConnections } from '../redis/connection.js';
import { createSentinelGroup, type SentinelCreateResult } from '../sentinel/create.js';
import type { SentinelIntent } from '../sentinel/config.js';
import { discoverMasterName } from '../sentinel/discover.js';
import { sentinelDrill, type SentinelDrillReport } from '../sentinel/drill.js';
import { sentinelPartitionDrill } from '../sentinel/partition-drill.js';
import { sentinelFailover } from '../sentinel/failover.js';
import { sentinelStatus, type SentinelStatus } from '../sentinel/status.js';
import { deleteRecord, readRecord, requireRecord, writeRecord, type ClusterRecord, type NetworkMode, type ProviderKind } from '../state/records.js';
import type { FaultMode } from './faults.js';
import { confirmed, type OperationOptions } from './operation.js';

export const DEFAULT_SENTINEL_NAME = 'rctl-sentinel';

export interface SentinelTarget {
  /** A group rctl created (default "rctl-sentinel"). */
  readonly name?: string | undefined;
  /** Any Sentinel ("host:port"), also of a group rctl did not create. */
  readonly sentinel?: string | NodeAddress | undefined;
  /** The monitored master name; default: the group's, or the only one the Sentinel monitors. */
  readonly masterName?: string | undefined;
  /** AUTH for the data nodes; default: the one rctl's record remembers. */
  readonly password?: string | undefined;
  /** A group record held in memory (the testcontainers module): used instead of ~/.rctl, with its provider. */
  readonly group?: { readonly record: ClusterRecord; readonly provider: Provider } | undefined;
}

export interface SentinelCreateOptions extends OperationOptions, Partial<SentinelIntent> {
  readonly provider?: ProviderKind | undefined;
  readonly image?: string | undefined;
  readonly network?: NetworkMode | undefined;
  readonly allowOpen?: boolean | undefined;
  /** Accept a quorum below a majority of Sentinels (the CLI's --yes). */
  readonly allowWeakQuorum?: boolean | undefined;
}

/** Start a master, replicas and Sentinels and wait until every Sentinel sees a healthy master (`rctl sentinel create`). */
export async function createSentinel(o: SentinelCreateOptions = {}): Promise<SentinelCreateResult & { handle: SentinelHandle }> {
  const host = o.host ?? '127.0.0.1';
  refuseOpenBind(host, o.password, Boolean(o.allowOpen));
  const network = o.network ?? 'host';
  if (network === 'bridge') throw new RctlError('USAGE', 'Sentinel groups run with --network host for now.', { hint: 'Drop --network bridge.' });
  const provider = await selectProvider(o.provider, o.image, o.onEvent ?? noEvents);
  const intent: SentinelIntent = {
    name: o.name ?? DEFAULT_SENTINEL_NAME,
    masterName: o.masterName ?? 'mymaster',
    replicas: o.replicas ?? 2,
    sentinels: o.sentinels ?? 3,
    quorum: o.quorum ?? 2,
    downAfterMs: o.downAfterMs ?? 5000,
    failoverTimeoutMs: o.failoverTimeoutMs ?? 60_000,
    parallelSyncs: o.parallelSyncs ?? 1,
    portBase: o.portBase ?? 6379,
    sentinelPortBase: o.sentinelPortBase ?? 26379,
    host,
    password: o.password,
    addressPerNode: o.addressPerNode,
    minReplicasToWrite: o.minReplicasToWrite,
    minReplicasMaxLagS: o.minReplicasMaxLagS,
  };
  const res = await createSentinelGroup(intent, provider, { network, image: provider.kind === 'docker' ? resolveImage(o.image) : undefined, allowWeakQuorum: Boolean(o.allowWeakQuorum), onEvent: o.onEvent, signal: o.signal });
  return { ...res, handle: await openSentinel({ name: res.record.name, password: o.password }) };
}

/** Open a Sentinel group: by `name` (rctl created it) or any `sentinel` address. */
export async function openSentinel(t: SentinelTarget = {}): Promise<SentinelHandle> {
  if (t.group) {
    const rec = t.group.record;
    const sc = rec.sentinel;
    if (!sc) throw new RctlError('USAGE', `"${rec.name}" is not a Sentinel group.`);
    return new SentinelHandle(sc.nodes.map((n) => ({ host: n.host, port: n.port })), t.masterName ?? sc.masterName, rec, t.password ?? rec.password, t.group.provider);
  }
  if (t.sentinel) {
    const rec = t.name ? await readRecord(t.name) : undefined;
    const sentinels = [typeof t.sentinel === 'string' ? parseHostPort(t.sentinel, '--sentinel') : t.sentinel];
    const password = t.password ?? rec?.password;
    const masterName = t.masterName ?? rec?.sentinel?.masterName ?? (await discover(sentinels, password));
    return new SentinelHandle(sentinels, masterName, rec, password, undefined);
  }
  const rec = await requireRecord(t.name ?? DEFAULT_SENTINEL_NAME);
  if (rec.kind !== 'sentinel' || !rec.sentinel) throw new RctlError('USAGE', `"${rec.name}" is a Redis Cluster, not a Sentinel group.`, { hint: 'Use the cluster commands (rctl check, rctl failover) for it.' });
  return new SentinelHandle(rec.sentinel.nodes.map((n) => ({ host: n.host, port: n.port })), t.masterName ?? rec.sentinel.masterName, rec, t.password ?? rec.password, undefined);
}

/** Without a master name: the one master the Sentinel monitors (several: a usage error listing them). */
async function discover(sentinels: readonly NodeAddress[], password: string | undefined): Promise<string> {
  const conns = new AdminConnections({ password });
  try {
    return await discoverMasterName(conns, sentinels);
  } finally {
    await conns.closeAll();
  }
}

export interface SentinelDrillOptions extends OperationOptions {
  /**
   * stop, kill, pause: the master process; partition: the master cut from Sentinels and replicas
   * while clients still reach it (needs a group created with addressPerNode, iptables and root).
   */
  readonly mode?: FaultMode | 'partition' | undefined;
  /** partition: how long the cut lasts at least (default down-after + 5 s). */
  readonly durationMs?: number | undefined;
  readonly load?: boolean | undefined;
  readonly keepKeys?: boolean | undefined;
}

/** A Sentinel group: status, failover, drill. Connections are opened per call. */
export class SentinelHandle {
  /** @internal use openSentinel() */
  constructor(
    readonly sentinels: readonly NodeAddress[],
    readonly masterName: string,
    readonly record: ClusterRecord | undefined,
    readonly password: string | undefined,
    private readonly provider: Provider | undefined,
  ) {}

  private async withConns<T>(fn: (c: AdminConnections) => Promise<T>): Promise<T> {
    const conns = new AdminConnections({ password: this.password });
    try {
      return await fn(conns);
    } finally {
      await conns.closeAll();
    }
  }

  /** Each Sentinel's view and the verdict (what `rctl sentinel status` prints). */
  status(o: { replicas?: number | undefined } = {}): Promise<SentinelStatus> {
    const expect = this.record ? { replicas: this.record.replicasPerMaster, sentinels: this.record.sentinel?.nodes.length } : {};
    return this.withConns((c) => sentinelStatus(c, this.sentinels, this.masterName, o.replicas !== undefined ? { ...expect, replicas: o.replicas } : expect));
  }

  /** SENTINEL FAILOVER; resolves once +switch-master was seen and every Sentinel and replica agree. */
  failover(o: OperationOptions = {}): Promise<{ oldMaster: string; newMaster: string; switchMs: number; agreedMs: number }> {
    const data = this.record?.nodes.map((n) => ({ host: n.host, port: n.port })) ?? [];
    return this.withConns(async (c) => {
      const res = await sentinelFailover(c, this.sentinels, this.masterName, data, { onEvent: o.onEvent, signal: o.signal });
      return { oldMaster: addrKey(res.oldMaster), newMaster: addrKey(res.newMaster), switchMs: res.switchMs, agreedMs: res.agreedMs };
    });
  }

  /** Fault the master, record Sentinel events, bring it back, count lost writes (groups rctl started). */
  async drill(o: SentinelDrillOptions = {}): Promise<SentinelDrillReport> {
    const rec = this.record;
    if (!rec) throw new RctlError('USAGE', 'Drills stop, kill or freeze nodes, which rctl can only do for groups it created.', { hint: 'Use --name with a group from `rctl ls`.' });
    const mode = o.mode ?? 'kill';
    if (mode === 'partition') {
      return this.withConns((conns) => sentinelPartitionDrill(rec, { conns, durationMs: o.durationMs, keepKeys: Boolean(o.keepKeys), signal: o.signal, onEvent: o.onEvent }));
    }
    const provider = this.provider ?? (await providerFor(rec.provider, rec.image));
    const inMemory = this.provider !== undefined;
    return this.withConns((conns) =>
      sentinelDrill(rec, provider, {
        conns,
        mode,
        load: Boolean(o.load),
        keepKeys: Boolean(o.keepKeys),
        signal: o.signal,
        onEvent: o.onEvent,
        onRecovered: inMemory
          ? undefined
          : async (n) => {
              const latest = await readRecord(rec.name);
              if (latest) await writeRecord({ ...latest, nodes: latest.nodes.map((x) => (x.index === n.index ? n : x)) });
            },
      }),
    );
  }
}

/** Remove a Sentinel group rctl created, with its data. */
export async function destroySentinel(name: string = DEFAULT_SENTINEL_NAME, o: OperationOptions = {}): Promise<{ name: string }> {
  const rec = await requireRecord(name);
  if (rec.kind !== 'sentinel') throw new RctlError('USAGE', `"${name}" is a Redis Cluster, not a Sentinel group.`, { hint: `Use \`rctl destroy --name ${name}\`.` });
  await confirmed(o, `Destroy Sentinel group "${name}" and its data?`, `Destroying "${name}"`);
  await (await providerFor(rec.provider, rec.image)).purge(name, [...rec.nodes, ...(rec.sentinel?.nodes ?? [])]);
  await deleteRecord(name);
  return { name };
}
