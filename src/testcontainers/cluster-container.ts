import { Cluster, type ClusterOptions } from 'ioredis';
import {
  formCluster,
  openCluster,
  RctlError,
  usageError,
  type CheckReport,
  type ClusterHandle,
  type DrillOptions,
  type DrillReport,
  type EventSink,
  type FaultBackend,
  type FaultedNode,
  type FormResult,
  type Healed,
  type NodeSelector,
  type OperationOptions,
  type PartitionDrillOptions,
  type PartitionDrillReport,
  type PartitionHandle,
  type PartitionOptions,
} from '../index.js';
import { messageOf } from '../errors.js';
import { DockerProvider } from '../provision/docker/docker-provider.js';
import { dockerClient } from '../provision/docker/engine.js';
import { resolveImage } from '../provision/select.js';
import { addrKey, parseHostPort, type NodeAddress } from '../redis/address.js';
import type { NetworkMode } from '../state/records.js';
import { natMapOf, type StartedRedisNode } from './node-container.js';
import { startNodes, type NodeSet } from './nodes.js';
import { pickLoopbackBlock, type LoopbackBlock } from './loopback-block.js';
import { RedisGroupBuilder } from './builder.js';

/**
 * Default cluster-node-timeout. Redis's own default (15 s) makes a failover drill take ~30 s; rctl
 * create's 5 s ~10 s. 2 s keeps a drill to a few seconds while leaving a loaded 2-core CI machine
 * (several test files starting containers at once) a wide margin before a slow node is flagged
 * failing by mistake; withNodeTimeout(1000) is fine on an idle machine.
 */
export const DEFAULT_NODE_TIMEOUT_MS = 2000;

/** What start() takes besides the builder's settings. */
export interface StartOptions {
  /** Progress of forming (the same events `rctl create --json` streams). */
  readonly onEvent?: EventSink | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** One node as started (its role is the one formCluster gave it; faults and drills change roles later). */
export interface ClusterNodeInfo {
  readonly index: number;
  /** The address the node announces (CLUSTER NODES, MOVED): rctl's core and ClusterHandle use it. */
  readonly address: string;
  /** Where this process reaches it: the same, or a published loopback port under bridge networking. */
  readonly externalAddress: string;
  readonly containerId: string;
  readonly containerName: string;
  readonly role: 'master' | 'replica';
}

/**
 * A Redis Cluster for tests, in the manner of @testcontainers/redis: each node a testcontainers
 * container on free ports, formed and checked by rctl's core (formCluster, the code behind
 * `rctl create --nodes`: it returns only once replicas are linked and synced), then opened as a
 * ClusterHandle whose faults act on these containers. Nothing is written under ~/.rctl.
 *
 *   await using cluster = await new RedisClusterContainer().withReplicas(1).start();
 *   const redis = cluster.createClient();
 *   expect((await cluster.drillFailover({ mode: 'kill', load: true })).load?.lost).toBe(0);
 */
export class RedisClusterContainer extends RedisGroupBuilder {
  private masters = 3;
  private replicas = 1;
  private nodeTimeoutMs = DEFAULT_NODE_TIMEOUT_MS;
  private network: NetworkMode = 'host';
  private host = '127.0.0.1';
  private addressPerNode = false;

  /** Masters (default 3, at least 3). */
  withMasters(n: number): this {
    this.masters = n;
    return this;
  }
  /** Replicas per master (default 1). */
  withReplicas(n: number): this {
    this.replicas = n;
    return this;
  }
  /** cluster-node-timeout in ms (default 2000, see DEFAULT_NODE_TIMEOUT_MS). */
  withNodeTimeout(ms: number): this {
    this.nodeTimeoutMs = ms;
    return this;
  }
  /**
   * `host` (default): nodes listen on this machine's loopback. `bridge`: a Docker network of their
   * own, each client port published on a loopback port; createClient() maps the announced container
   * addresses to those (natMap). rctl's core (forming, check, drills) connects to the container
   * addresses themselves, which this machine reaches on Linux, not from Docker Desktop's VM.
   */
  withNetworkMode(mode: NetworkMode): this {
    this.network = mode;
    return this;
  }
  /** Host networking: the address nodes bind (default 127.0.0.1). Anything else needs a password. */
  withHost(host: string): this {
    this.host = host;
    return this;
  }

  /**
   * Host networking, each node on its own loopback address (127.0.<block>.<k>, a block no other
   * cluster uses), opening its connections from it (bind-source-addr): what partitions need, since
   * their rules name nodes by address. Then `partition()` / `drillPartition()` work (as root, with
   * iptables); stop() heals what is still cut. Protected mode is off on these nodes (a replica
   * connects from its own 127.x address, which protected mode would refuse); 127/8 is not
   * reachable from the network.
   */
  withAddressPerNode(): this {
    this.addressPerNode = true;
    return this;
  }

  /**
   * Start the nodes, form the cluster, open it. All or nothing: on any failure every container
   * started is removed and its ports released before the error (an RctlError) is thrown.
   */
  async start(o: StartOptions = {}): Promise<StartedRedisClusterContainer> {
    this.validate();
    const image = resolveImage(this.image);
    let set: NodeSet | undefined;
    let handle: ClusterHandle | undefined;
    let block: LoopbackBlock | undefined;
    try {
      if (this.addressPerNode) block = pickLoopbackBlock(this.masters * (1 + this.replicas));
      set = await startNodes({
        count: this.masters * (1 + this.replicas),
        image,
        network: this.network,
        host: this.host,
        ...(block ? { hosts: block.addresses } : {}),
        nodeTimeoutMs: this.nodeTimeoutMs,
        password: this.password,
        ...(this.portRange ? { portRange: this.portRange } : {}),
        ...(this.startupTimeoutMs !== undefined ? { startupTimeoutMs: this.startupTimeoutMs } : {}),
      });
      const nodes = set.nodes;
      const addrs = nodes.map((n) => n.getClusterAddress());
      const form = await formCluster({
        nodes: addrs,
        masters: this.masters,
        replicas: this.replicas,
        password: this.password,
        // Every container is a failure domain of its own: faults act on one container, and
        // placement then has no "replica shares its master's machine" compromise to warn about.
        machineOf: (a) => addrKey(a),
        onEvent: o.onEvent,
        signal: o.signal,
      });
      handle = await openCluster({
        seed: addrs,
        password: this.password,
        faults: containerFaults(nodes, new DockerProvider(await dockerClient(), image)),
        intendedMasters: form.placement.masters.map((m) => parseHostPort(m.node)),
      });
      return new StartedRedisClusterContainer(set, handle, form, this.password, this.replicas, block);
    } catch (err) {
      await handle?.close().catch(() => undefined);
      await set?.stop();
      block?.release();
      if (err instanceof RctlError) throw err;
      throw new RctlError('PROVISION_FAILED', `The Redis Cluster containers did not start: ${messageOf(err)}`, { cause: err, hint: 'Nothing was left behind.' });
    }
  }

  private validate(): void {
    if (!Number.isInteger(this.masters) || this.masters < 3) throw usageError(`withMasters(${this.masters}): a Redis Cluster needs at least 3 masters.`);
    if (!Number.isInteger(this.replicas) || this.replicas < 0) throw usageError(`withReplicas(${this.replicas}): replicas per master must be an integer of at least 0.`);
    if (!Number.isInteger(this.nodeTimeoutMs) || this.nodeTimeoutMs < 100) throw usageError(`withNodeTimeout(${this.nodeTimeoutMs}): cluster-node-timeout must be an integer of at least 100 ms.`);
    if (this.network !== 'host' && this.network !== 'bridge') throw usageError(`withNetworkMode('${String(this.network)}'): use 'host' or 'bridge'.`);
    if (this.addressPerNode && this.network !== 'host') {
      throw usageError("withAddressPerNode() needs host networking: bridged containers have addresses of their own, and partitions inside them are not supported yet.", "Drop withNetworkMode('bridge').");
    }
    if (this.addressPerNode && this.host !== '127.0.0.1') throw usageError(`withAddressPerNode() picks the nodes' addresses itself: drop withHost('${this.host}').`);
    if (this.network === 'host' && !this.password && !/^(127\.|localhost$|::1$)/.test(this.host)) {
      throw usageError(`withHost('${this.host}') without a password: every node would accept anyone on the network.`, 'Add withPassword(...), or keep the default 127.0.0.1.');
    }
  }
}

/** Faults on these containers, by announced address: kill/stop/pause/restart go through rctl's docker provider. */
function containerFaults(nodes: readonly StartedRedisNode[], provider: DockerProvider): FaultBackend {
  const byAddr = new Map(nodes.map((n) => [addrKey(n.getClusterAddress()), n]));
  return {
    async nodeAt(addr: NodeAddress) {
      const n = byAddr.get(addrKey(addr));
      if (!n) return undefined;
      const a = n.getClusterAddress();
      return { provider, record: { index: n.index, host: a.host, port: a.port, busPort: n.getBusPort(), container: n.getId() } };
    },
  };
}

/**
 * A started, healthy Redis Cluster. `handle` is rctl's ClusterHandle on it (every operation of the
 * API); the common ones are here too. stop() (or `await using`) removes everything.
 */
export class StartedRedisClusterContainer {
  private readonly clients = new Set<Cluster>();
  private stopping: Promise<void> | undefined;

  /** @internal RedisClusterContainer.start() makes it. */
  constructor(
    private readonly set: NodeSet,
    /** rctl's ClusterHandle on this cluster: check, info, drills, faults, plans, scale... */
    readonly handle: ClusterHandle,
    /** What forming found (placement, how long agreement took). */
    readonly form: FormResult,
    private readonly password: string | undefined,
    private readonly replicasPerMaster: number,
    private readonly block?: LoopbackBlock,
  ) {}

  /** The name the containers carry (`<name>-node-<i>`, label io.rctl.cluster=<name>). */
  getName(): string {
    return this.set.cluster;
  }
  /** `host:port` of every node, as this process reaches it. */
  getSeeds(): string[] {
    return this.set.nodes.map((n) => addrKey(n.getExternalAddress()));
  }
  /** `redis://[:password@]host:port` of every node. */
  getConnectionUrls(): string[] {
    return this.set.nodes.map((n) => n.getConnectionUrl());
  }
  getPassword(): string | undefined {
    return this.password;
  }
  getNodes(): ClusterNodeInfo[] {
    const masters = new Set(this.form.placement.masters.map((m) => m.node));
    return this.set.nodes.map((n) => {
      const address = addrKey(n.getClusterAddress());
      return { index: n.index, address, externalAddress: addrKey(n.getExternalAddress()), containerId: n.getId(), containerName: n.getName().replace(/^\//, ''), role: masters.has(address) ? 'master' : 'replica' };
    });
  }
  /** The started testcontainers of the nodes (logs, exec, ...). */
  getContainers(): readonly StartedRedisNode[] {
    return this.set.nodes;
  }

  /**
   * An ioredis Cluster client that reaches every node: the password set, and under bridge
   * networking a natMap from the announced container addresses to the published ports. Clients
   * still open are disconnected by stop() (a client left reconnecting to removed nodes would keep
   * the test process alive).
   */
  createClient(options: ClusterOptions = {}): Cluster {
    const natMap = natMapOf(this.set.nodes);
    const client = new Cluster(
      this.set.nodes.map((n) => n.getExternalAddress()),
      {
        ...(Object.keys(natMap).length > 0 ? { natMap } : {}),
        ...options,
        redisOptions: { ...(this.password ? { password: this.password } : {}), ...options.redisOptions },
      },
    );
    this.clients.add(client);
    client.once('end', () => this.clients.delete(client));
    return client;
  }

  /** The same findings and verdict as `rctl check` (replicas expected per master: as started). */
  check(o: { replicas?: number | undefined } = {}): Promise<CheckReport> {
    return this.handle.check({ replicas: o.replicas ?? this.replicasPerMaster });
  }
  /** The same drill and typed report as `rctl drill failover --json`. */
  drillFailover(o: DrillOptions = {}): Promise<DrillReport> {
    return this.handle.drillFailover(o);
  }
  /** SIGKILL a node's container; `recover()` on the result starts it again (stop() does too). */
  kill(node: NodeSelector, o: OperationOptions = {}): Promise<FaultedNode> {
    return this.handle.kill(node, o);
  }
  /** `docker stop` a node (graceful). Named stopNode: stop() removes the whole cluster, as in testcontainers. */
  stopNode(node: NodeSelector, o: OperationOptions = {}): Promise<FaultedNode> {
    return this.handle.stop(node, o);
  }
  /** `docker pause` a node: it keeps its connections but answers nothing. */
  pause(node: NodeSelector, o: OperationOptions = {}): Promise<FaultedNode> {
    return this.handle.pause(node, o);
  }
  /** Stop a node and start it again; resolves once it runs (it rejoins by itself). */
  restart(node: NodeSelector, o: OperationOptions = {}): Promise<void> {
    return this.handle.restart(node, o);
  }

  /**
   * Cut nodes off the rest of the cluster (full, bus-only, one-way) until heal() on the result or
   * here, or stop(). Needs withAddressPerNode(), root and iptables; refused before anything is
   * touched otherwise.
   */
  partition(isolate: NodeSelector | readonly NodeSelector[], o: PartitionOptions = {}): Promise<PartitionHandle> {
    return this.handle.partition(isolate, o);
  }
  /** Remove every partition rule of this cluster. */
  heal(): Promise<Healed> {
    return this.handle.heal();
  }
  /** The same drill and report as `rctl drill partition --json`: cut, watch, heal, settle, lost writes. */
  drillPartition(o: PartitionDrillOptions = {}): Promise<PartitionDrillReport> {
    return this.handle.drillPartition(o);
  }

  /**
   * Heal partitions, close the handle (bringing back faults still in place), disconnect clients made by
   * createClient(), remove every container with its anonymous volumes, release the ports.
   * Idempotent; concurrent calls share one stop.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const c of this.clients) c.disconnect();
      this.clients.clear();
      // Recovering faults first is pointless work when everything goes anyway, but it is what
      // close() does and it is bounded; the containers are removed whatever it finds.
      // close() heals the cuts this handle made; heal() also catches ones made through another
      // handle on the same cluster. Only with withAddressPerNode(): nothing else can be cut.
      if (this.block) await this.handle.heal().catch(() => undefined);
      await this.handle.close().catch(() => undefined);
      await this.set.stop();
      this.block?.release();
    })();
    return this.stopping;
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
