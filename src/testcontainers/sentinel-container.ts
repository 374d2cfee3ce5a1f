import { Redis, type RedisOptions } from 'ioredis';
import { openSentinel, RctlError, RCTL_VERSION, type ClusterRecord, type EventSink, type OperationOptions, type SentinelDrillOptions, type SentinelDrillReport, type SentinelHandle, type SentinelStatus } from '../index.js';
import { messageOf } from '../errors.js';
import { step, noEvents } from '../events.js';
import { DockerProvider } from '../provision/docker/docker-provider.js';
import { dockerClient } from '../provision/docker/engine.js';
import { resolveImage } from '../provision/select.js';
import { addrKey, type NodeAddress } from '../redis/address.js';
import { AdminConnections } from '../redis/connection.js';
import { dataNodeSettings, sentinelConfig, validateSentinelIntent, type SentinelIntent } from '../sentinel/config.js';
import { attachReplicas, waitSentinelsAgree } from '../sentinel/create.js';
import type { NodeRecord } from '../state/records.js';
import type { StartedRedisNode } from './node-container.js';
import { newClusterName, startNodes, type NodeSet } from './nodes.js';
import { RedisGroupBuilder } from './builder.js';

/** What start() takes besides the builder's settings. */
export interface SentinelStartOptions {
  readonly onEvent?: EventSink | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * A Redis master, its replicas and the Sentinels watching them, as testcontainers containers on
 * free ports (host networking), set up exactly as `rctl sentinel create` sets them up: the same
 * settings (dataNodeSettings, sentinelConfig), the same REPLICAOF-and-wait and the same "every
 * Sentinel agrees" wait. createSentinelGroup itself is not reused because it writes a record under
 * ~/.rctl; the group's record lives in memory here and is handed to openSentinel({ group }).
 */
export class RedisSentinelContainer extends RedisGroupBuilder {
  private replicas = 2;
  private sentinels = 3;
  private quorum = 2;
  private downAfterMs = 1000;
  private failoverTimeoutMs = 10_000;
  private masterName = 'mymaster';


  /** Replicas of the master (default 2). */
  withReplicas(n: number): this {
    this.replicas = n;
    return this;
  }
  /** Sentinels (default 3). */
  withSentinels(n: number): this {
    this.sentinels = n;
    return this;
  }
  /** Sentinels that must agree the master is down (default 2). */
  withQuorum(n: number): this {
    this.quorum = n;
    return this;
  }
  /**
   * down-after-milliseconds (default 1000: a test's failover within a few seconds; rctl sentinel
   * create's 5000 is for real machines).
   */
  withDownAfter(ms: number): this {
    this.downAfterMs = ms;
    return this;
  }
  /** failover-timeout (default 10000). */
  withFailoverTimeout(ms: number): this {
    this.failoverTimeoutMs = ms;
    return this;
  }
  /** The monitored master's name (default "mymaster"). */
  withMasterName(name: string): this {
    this.masterName = name;
    return this;
  }

  async start(o: SentinelStartOptions = {}): Promise<StartedRedisSentinelContainer> {
    const onEvent = o.onEvent ?? noEvents;
    const name = newClusterName();
    const intent: SentinelIntent = {
      name,
      masterName: this.masterName,
      replicas: this.replicas,
      sentinels: this.sentinels,
      quorum: this.quorum,
      downAfterMs: this.downAfterMs,
      failoverTimeoutMs: this.failoverTimeoutMs,
      parallelSyncs: 1,
      // Ports are reserved one by one (reservePorts), not as ranges: these two only satisfy the
      // range checks of validateSentinelIntent, nothing reads them.
      portBase: 1024,
      sentinelPortBase: 1024 + 1 + this.replicas,
      host: '127.0.0.1',
      password: this.password,
    };
    // A weak quorum is refused by the CLI without --yes; a test may want one on purpose: a warning.
    for (const w of validateSentinelIntent(intent)) onEvent({ type: 'warning', message: w });
    const image = resolveImage(this.image);
    const common = { cluster: name, image, network: 'host' as const, password: this.password, nodeTimeoutMs: 0, ...(this.portRange ? { portRange: this.portRange } : {}), ...(this.startupTimeoutMs !== undefined ? { startupTimeoutMs: this.startupTimeoutMs } : {}) };
    const conns = new AdminConnections({ password: this.password });
    let data: NodeSet | undefined;
    let sents: NodeSet | undefined;
    try {
      data = await step(onEvent, `start the master and ${this.replicas} replica(s)`, () =>
        startNodes({ ...common, count: 1 + this.replicas, settings: (n, dir) => dataNodeSettings(intent, n.port, dir, false) }),
      );
      const [master, ...replicas] = data.nodes.map((n) => n.getClusterAddress()) as [NodeAddress, ...NodeAddress[]];
      await step(onEvent, 'attach the replicas (REPLICAOF), wait for links up and offsets equal', () => attachReplicas(conns, master, replicas, o.signal));
      sents = await step(onEvent, `start ${this.sentinels} Sentinel(s) monitoring "${this.masterName}"`, () =>
        startNodes({ ...common, count: this.sentinels, role: 'sentinel', kind: 'sentinel', sentinelConfig: (n, dir) => sentinelConfig(intent, n.port, master, dir) }),
      );
      const sentinelAddrs = sents.nodes.map((n) => n.getClusterAddress());
      await step(onEvent, 'wait until every Sentinel sees the master ok, all replicas, all Sentinels, and CKQUORUM passes', () => waitSentinelsAgree(conns, sentinelAddrs, intent, o.signal));
      const record: ClusterRecord = {
        name,
        kind: 'sentinel',
        status: 'ready',
        provider: 'docker',
        image,
        network: 'host',
        host: '127.0.0.1',
        portBase: master.port,
        masters: 1,
        replicasPerMaster: this.replicas,
        nodeTimeoutMs: 0,
        ...(this.password ? { password: this.password } : {}),
        createdAt: new Date().toISOString(),
        rctlVersion: RCTL_VERSION,
        nodes: data.nodes.map((n, i) => ({ ...nodeRecord(n), role: i === 0 ? ('master' as const) : ('replica' as const) })),
        sentinel: { masterName: this.masterName, quorum: this.quorum, downAfterMs: this.downAfterMs, nodes: sents.nodes.map(nodeRecord) },
      };
      const handle = await openSentinel({ group: { record, provider: new DockerProvider(await dockerClient(), image) }, password: this.password });
      return new StartedRedisSentinelContainer(data, sents, handle);
    } catch (err) {
      await sents?.stop();
      await data?.stop();
      if (err instanceof RctlError) throw err;
      throw new RctlError('PROVISION_FAILED', `The Redis Sentinel containers did not start: ${messageOf(err)}`, { cause: err, hint: 'Nothing was left behind.' });
    } finally {
      await conns.closeAll();
    }
  }
}

/** What rctl's docker provider needs to fault a container (it acts on the container id). */
function nodeRecord(n: StartedRedisNode): NodeRecord {
  const a = n.getClusterAddress();
  return { index: n.index, host: a.host, port: a.port, busPort: n.getBusPort(), container: n.getId() };
}

/** A started, healthy Sentinel group. stop() (or `await using`) removes everything. */
export class StartedRedisSentinelContainer {
  private readonly clients = new Set<Redis>();
  private stopping: Promise<void> | undefined;

  /** @internal RedisSentinelContainer.start() makes it. */
  constructor(
    private readonly data: NodeSet,
    private readonly sents: NodeSet,
    /** rctl's SentinelHandle on this group (status, failover, drill). */
    readonly handle: SentinelHandle,
  ) {}

  /** The name the containers carry (label io.rctl.cluster=<name>). */
  getName(): string {
    return this.data.cluster;
  }
  getMasterName(): string {
    return this.handle.masterName;
  }
  /** `host:port` of every Sentinel. */
  getSentinels(): string[] {
    return this.sents.nodes.map((n) => addrKey(n.getExternalAddress()));
  }
  /** `host:port` of the data nodes, the master (at start) first. */
  getDataNodes(): string[] {
    return this.data.nodes.map((n) => addrKey(n.getExternalAddress()));
  }
  getPassword(): string | undefined {
    return this.handle.password;
  }

  /** An ioredis client that finds the master through the Sentinels (and follows failovers). */
  createClient(options: RedisOptions = {}): Redis {
    const client = new Redis({
      sentinels: this.sents.nodes.map((n) => n.getExternalAddress()),
      name: this.handle.masterName,
      ...(this.handle.password ? { password: this.handle.password } : {}),
      ...options,
    });
    this.clients.add(client);
    client.once('end', () => this.clients.delete(client));
    return client;
  }

  /** Each Sentinel's view and the verdict (what `rctl sentinel status` reports). */
  status(o: { replicas?: number | undefined } = {}): Promise<SentinelStatus> {
    return this.handle.status(o);
  }
  /** SENTINEL FAILOVER; resolves once every Sentinel and replica agree on the new master. */
  failover(o: OperationOptions = {}): Promise<{ oldMaster: string; newMaster: string; switchMs: number; agreedMs: number }> {
    return this.handle.failover(o);
  }
  /** Fault the master, time the switch, bring it back, count lost writes (`rctl sentinel drill`). */
  drill(o: SentinelDrillOptions = {}): Promise<SentinelDrillReport> {
    return this.handle.drill(o);
  }

  /** Disconnect clients made by createClient(), remove every container, release the ports. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const c of this.clients) c.disconnect();
      this.clients.clear();
      await Promise.all([this.sents.stop(), this.data.stop()]);
    })();
    return this.stopping;
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
