import { randomBytes } from 'node:crypto';
import { RctlError, messageOf } from '../errors.js';
import { dockerClient } from '../provision/docker/engine.js';
import { labelsFor, networkName } from '../provision/docker/labels.js';
import type { NetworkMode } from '../state/records.js';
import { mapLimit } from '../util/pool.js';
import { RedisNodeContainer, type RedisNodeOptions, type StartedRedisNode } from './node-container.js';
import { reservePorts, type PortRange, type PortReservation } from './ports.js';
import { LABEL_SESSION, SESSION_ID, ensureWatchdog } from './session.js';

export interface NodeSetOptions {
  readonly count: number;
  /** Default: `tc-<random>`, unique per start so parallel test files never share names. */
  readonly cluster?: string;
  readonly image?: string | undefined;
  readonly network?: NetworkMode;
  readonly host?: string;
  /** Host networking: node k binds hosts[k-1], its own address (withAddressPerNode); overrides `host`. */
  readonly hosts?: readonly string[];
  readonly portRange?: PortRange;
  readonly nodeTimeoutMs?: number;
  readonly password?: string | undefined;
  readonly startupTimeoutMs?: number;
  /** A Sentinel group's nodes: see RedisNodeOptions. */
  readonly role?: RedisNodeOptions['role'];
  readonly settings?: RedisNodeOptions['settings'];
  readonly sentinelConfig?: RedisNodeOptions['sentinelConfig'];
  readonly kind?: string;
}

/** Started nodes plus everything to give back when they go (ports, the bridge network). */
export interface NodeSet {
  readonly cluster: string;
  readonly nodes: readonly StartedRedisNode[];
  /** Remove every container (and its anonymous volumes) and the network; release the ports. Idempotent. */
  stop(): Promise<void>;
}

/** Containers created at once: dockerd on 2 cores times out some of 200 concurrent creates (see the docker provider). */
const CONCURRENCY = 16;

export const newClusterName = (): string => `tc-${randomBytes(4).toString('hex')}`;

/**
 * Start `count` unformed cluster nodes, all or none: if one fails, the ones started are removed
 * and the ports released before the error is thrown. Forming is rctl's formCluster's job.
 */
export async function startNodes(o: NodeSetOptions): Promise<NodeSet> {
  const cluster = o.cluster ?? newClusterName();
  const network = o.network ?? 'host';
  ensureWatchdog();
  // Bridge networking publishes each node's client port on loopback: reserved too, so that it stays
  // the same across a restart (the bus port's reservation then goes unused, harmlessly).
  const ports: PortReservation[] = await reservePorts(o.count, { host: network === 'host' ? (o.hosts?.[0] ?? o.host ?? '127.0.0.1') : '127.0.0.1', ...(o.portRange ? { range: o.portRange } : {}) });
  const started: StartedRedisNode[] = [];
  let dockerNetwork: string | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(started.map((n) => n.stop({ timeout: 0, remove: true, removeVolumes: true }).catch(() => undefined)));
    if (dockerNetwork) await removeNetwork(dockerNetwork);
    for (const p of ports) p.release();
  };
  try {
    if (network === 'bridge') dockerNetwork = await createNetwork(cluster);
    const indexes = Array.from({ length: o.count }, (_, i) => i + 1);
    await mapLimit(
      indexes,
      async (index) => {
        const p = ports[index - 1];
        const node = await new RedisNodeContainer({
          cluster,
          index,
          image: o.image,
          network,
          ...(o.hosts?.[index - 1] ? { host: o.hosts[index - 1]!, ownAddress: true } : o.host ? { host: o.host } : {}),
          ...(p ? { port: p.port, busPort: p.busPort } : {}),
          ...(dockerNetwork ? { dockerNetwork } : {}),
          ...(o.nodeTimeoutMs !== undefined ? { nodeTimeoutMs: o.nodeTimeoutMs } : {}),
          password: o.password,
          ...(o.startupTimeoutMs !== undefined ? { startupTimeoutMs: o.startupTimeoutMs } : {}),
          ...(o.role ? { role: o.role } : {}),
          ...(o.settings ? { settings: o.settings } : {}),
          ...(o.sentinelConfig ? { sentinelConfig: o.sentinelConfig } : {}),
          ...(o.kind ? { kind: o.kind } : {}),
        }).start();
        started.push(node);
      },
      CONCURRENCY,
    );
  } catch (err) {
    await stop();
    if (err instanceof RctlError) throw err;
    throw new RctlError('PROVISION_FAILED', `Could not start the Redis containers: ${messageOf(err)}`, { cause: err });
  }
  started.sort((a, b) => a.index - b.index);
  return { cluster, nodes: started, stop };
}

/** A user-defined network (labelled like the docker provider's, plus the session) for bridge mode. */
async function createNetwork(cluster: string): Promise<string> {
  const docker = await dockerClient();
  const name = networkName(cluster);
  await docker.createNetwork({ Name: name, Labels: { ...labelsFor(cluster, 'network'), [LABEL_SESSION]: SESSION_ID } });
  return name;
}

async function removeNetwork(name: string): Promise<void> {
  try {
    const docker = await dockerClient();
    await docker.getNetwork(name).remove();
  } catch {
    // Already gone; the watchdog retries anything left at process exit.
  }
}
