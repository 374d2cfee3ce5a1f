import { AbstractStartedContainer, GenericContainer, type StartedTestContainer } from 'testcontainers';
import { RctlError } from '../errors.js';
import { connectableHost } from '../provision/bind-address.js';
import { containerName, labelsFor } from '../provision/docker/labels.js';
import type { NodeSpec, ProvisionRequest } from '../provision/provider.js';
import { redisSettings, splitSecrets, toArgs, toConfigFile } from '../provision/redis-args.js';
import { resolveImage } from '../provision/select.js';
import type { NodeAddress } from '../redis/address.js';
import type { NetworkMode } from '../state/records.js';
import { PingWaitStrategy } from './ping-wait.js';
import { LABEL_SESSION, SESSION_ID, ensureWatchdog } from './session.js';

/** The same kind label rctl's docker provider puts on its nodes: `rctl destroy --name` finds these too. */
const NODE_KIND = 'redis-node';
/**
 * Inside the container: settings kept off the command line (requirepass, masterauth), mode 0600.
 * Named after the container, so the wait can tell this node from another on the same port.
 */
const secretsFile = (name: string): string => `/data/${name}.conf`;
/**
 * Bridge networking: every node has its own network namespace, so each listens on the standard
 * ports inside; Docker publishes the client port on loopback under a port it picks.
 */
export const BRIDGE_PORT = 6379;
const BRIDGE_BUS_PORT = BRIDGE_PORT + 10000;

export interface RedisNodeOptions {
  /** Names the container `<cluster>-node-<index>` and labels it (io.rctl.cluster), as `rctl create` would. */
  readonly cluster: string;
  readonly index: number;
  /** Default: RCTL_IMAGE, else ~/.rctl/config.json `image`, else the pinned official image (like the CLI). */
  readonly image?: string | undefined;
  /** `host` (default): the node listens on `host:port` of this machine. `bridge`: a Docker network. */
  readonly network?: NetworkMode;
  /** Host networking: the address to bind (default 127.0.0.1). */
  readonly host?: string;
  /**
   * Host networking: `host` is this node's own address (withAddressPerNode), not one shared by the
   * cluster: the node also opens its bus and replication connections from it (bind-source-addr), so
   * partition rules naming the address catch all of its traffic.
   */
  readonly ownAddress?: boolean;
  /**
   * Host networking: client port (bus port = port + 10000 unless given); reservePorts() picks free ones.
   * Bridge networking: the loopback port the node's client port is published on (default: one
   * Docker picks). A fixed one survives a restart (kill/stop faults): Docker would pick anew.
   */
  readonly port?: number;
  readonly busPort?: number;
  /** Bridge networking: the Docker network to join (default Docker's `bridge`). */
  readonly dockerNetwork?: string;
  readonly nodeTimeoutMs?: number;
  readonly password?: string | undefined;
  /** Bound on start-up until the node answers PING (default 30 s). */
  readonly startupTimeoutMs?: number;
  /** `node` (default) or `sentinel`: names the container `<cluster>-<role>-<index>`. */
  readonly role?: 'node' | 'sentinel';
  /** redis-server settings instead of a cluster node's (a Sentinel group's data nodes: dataNodeSettings). */
  readonly settings?: ProvisionRequest['settings'];
  /** A Sentinel: its sentinel.conf (Sentinel rewrites it, so a file, never arguments). */
  readonly sentinelConfig?: ProvisionRequest['sentinelConfig'];
  /** Labelled `io.rctl.kind` (default `redis-node`, as the docker provider labels its nodes). */
  readonly kind?: string;
}

/**
 * One Redis Cluster node as a testcontainers container, started exactly like rctl's docker
 * provider starts one (the same settings, from redisSettings(); the password in a 0600 file, never
 * in the container's arguments), labelled with rctl's labels and this process's session.
 */
export class RedisNodeContainer extends GenericContainer {
  private readonly o: Required<Pick<RedisNodeOptions, 'network' | 'host'>> & RedisNodeOptions;
  private readonly spec: NodeSpec;

  constructor(opts: RedisNodeOptions) {
    super(resolveImage(opts.image));
    const network = opts.network ?? 'host';
    const host = opts.host ?? '127.0.0.1';
    this.o = { ...opts, network, host };
    if (network === 'host' && opts.port === undefined) {
      throw new RctlError('USAGE', 'A node with host networking needs a port.', { hint: 'Reserve one with reservePorts().' });
    }
    this.spec =
      network === 'host'
        ? { index: opts.index, port: opts.port!, busPort: opts.busPort ?? opts.port! + 10000, ...(opts.ownAddress ? { host } : {}) }
        : { index: opts.index, port: BRIDGE_PORT, busPort: BRIDGE_BUS_PORT };
    const req: ProvisionRequest = {
      cluster: opts.cluster,
      nodes: [this.spec],
      network,
      host,
      nodeTimeoutMs: opts.nodeTimeoutMs ?? 5000,
      password: opts.password,
    };
    const name = containerName(opts.cluster, opts.index, opts.role ?? 'node');
    // redis-server reads the config file named first, then applies the arguments after it. A
    // Sentinel gets all of its settings in that file, which it rewrites as its state changes.
    const { secrets, open } = opts.sentinelConfig ? { secrets: [], open: [] } : splitSecrets((opts.settings ?? ((n, d) => redisSettings(req, n, d)))(this.spec, '/data'));
    const content = opts.sentinelConfig ? opts.sentinelConfig(this.spec, '/data') : toConfigFile(secrets);
    this.withName(name)
      .withCommand(opts.sentinelConfig ? ['redis-server', secretsFile(name), '--sentinel'] : ['redis-server', secretsFile(name), ...toArgs(open)])
      .withLabels({ ...labelsFor(opts.cluster, opts.kind ?? NODE_KIND, opts.index), [LABEL_SESSION]: SESSION_ID })
      .withCopyContentToContainer([{ content, target: secretsFile(name), mode: 0o600 }])
      .withWaitStrategy(
        new PingWaitStrategy(
          (ports) => (network === 'host' ? { host: connectableHost(host), port: this.spec.port } : { host: '127.0.0.1', port: ports.getBinding(BRIDGE_PORT) }),
          // A Sentinel has no requirepass of its own (auth-pass is for the nodes it watches).
          opts.sentinelConfig ? undefined : opts.password,
          secretsFile(name),
        ),
      );
    if (opts.startupTimeoutMs !== undefined) this.withStartupTimeout(opts.startupTimeoutMs);
    if (network === 'host') {
      this.withNetworkMode('host');
    } else {
      this.withNetworkMode(opts.dockerNetwork ?? 'bridge').withExposedPorts(BRIDGE_PORT);
      // Published on loopback only: testcontainers would publish on every interface, and a node
      // in bridge mode has protected-mode off (it must accept the other containers). A reserved port
      // rather than one Docker picks: Docker picks anew on every start, and a node restarted after a
      // fault must stay where createClient()'s natMap says it is.
      this.hostConfig.PortBindings = { [`${BRIDGE_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(opts.port ?? 0) }] };
    }
  }

  override async start(): Promise<StartedRedisNode> {
    // Before the container exists, so that a crash right after creating it still gets it removed.
    ensureWatchdog();
    const started = await super.start();
    return new StartedRedisNode(started, this.o, this.spec);
  }
}

export class StartedRedisNode extends AbstractStartedContainer {
  constructor(
    started: StartedTestContainer,
    private readonly o: Required<Pick<RedisNodeOptions, 'network' | 'host'>> & RedisNodeOptions,
    private readonly spec: NodeSpec,
  ) {
    super(started);
  }

  get index(): number {
    return this.o.index;
  }

  get network(): NetworkMode {
    return this.o.network;
  }

  /**
   * The address the node announces to the cluster (CLUSTER NODES, MOVED): host:port under host
   * networking, the container's address on its Docker network under bridge networking.
   */
  getClusterAddress(): NodeAddress {
    if (this.o.network === 'host') return { host: connectableHost(this.o.host), port: this.spec.port };
    return { host: this.getIpAddress(this.getNetworkNames()[0] ?? 'bridge'), port: BRIDGE_PORT };
  }

  /** Where this process reaches the node: the cluster address, or the loopback port Docker published. */
  getExternalAddress(): NodeAddress {
    if (this.o.network === 'host') return this.getClusterAddress();
    return { host: '127.0.0.1', port: this.getMappedPort(BRIDGE_PORT) };
  }

  getBusPort(): number {
    return this.spec.busPort;
  }

  /** `redis://[:password@]host:port` for this node (the external address), as @testcontainers/redis offers. */
  getConnectionUrl(): string {
    const a = this.getExternalAddress();
    const auth = this.o.password ? `:${encodeURIComponent(this.o.password)}@` : '';
    return `redis://${auth}${a.host}:${a.port}`;
  }
}

/** ioredis natMap: announced address -> the address this process reaches (only entries that differ). */
export function natMapOf(nodes: readonly StartedRedisNode[]): Record<string, { host: string; port: number }> {
  const map: Record<string, { host: string; port: number }> = {};
  for (const n of nodes) {
    const inner = n.getClusterAddress();
    const outer = n.getExternalAddress();
    if (inner.host !== outer.host || inner.port !== outer.port) map[`${inner.host}:${inner.port}`] = outer;
  }
  return map;
}
