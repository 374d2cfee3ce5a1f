import type Docker from 'dockerode';
import { RctlError, messageOf } from '../../errors.js';
import type { EventSink } from '../../events.js';
import type { NodeRecord } from '../../state/records.js';
import { assertPortsFree } from '../ports.js';
import type { FaultMode, NodeSpec, ProvisionRequest, ProvisionedNode, Provider } from '../provider.js';
import { redisSettings, splitSecrets, toArgs, toConfigFile } from '../redis-args.js';
import { engineId, ensureImage, requireEngine, statusOf } from './engine.js';
import { LABEL_CLUSTER, LABEL_KIND, containerName, labelsFor, networkName, volumeName } from './labels.js';
import { containerLogTail } from './logs.js';
import { tarOf } from './tar.js';
import { mapLimit } from '../../util/pool.js';

const NODE_KIND = 'redis-node';
/** In the node's volume: the settings kept off the command line (SECRET_SETTINGS), mode 0600. */
const SECRETS_FILE = 'redis.conf';

/**
 * Each node is a container `<cluster>-node-<i>` with its own labelled data volume, started from
 * `image` with the settings every rctl node gets. Host networking by default (the classic setup:
 * nodes on 127.0.0.1:6381..); bridge networking publishes the ports instead.
 */
/** Containers created and started at once. */
const DOCKER_CONCURRENCY = 16;

export class DockerProvider implements Provider {
  readonly kind = 'docker' as const;

  constructor(
    private readonly docker: Docker,
    private readonly image: string,
  ) {}

  async preflight(req: ProvisionRequest, onEvent: EventSink): Promise<void> {
    if (req.network === 'bridge' && req.nodes.some((n) => n.host)) {
      throw new RctlError('USAGE', '--address-per-node does not go with --network bridge: bridged containers have their own addresses.', { hint: 'Drop --address-per-node, or use --network host.' });
    }
    await requireEngine(this.docker);
    const mine = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL_CLUSTER}=${req.cluster}`] } });
    const clash = mine.filter((c) => req.nodes.some((n) => c.Names.includes(`/${containerName(req.cluster, n.index)}`)));
    if (clash.length > 0) {
      throw new RctlError('CLUSTER_EXISTS', `Containers of cluster "${req.cluster}" already exist (${clash.map((c) => c.Names[0]?.slice(1)).join(', ')}).`, {
        hint: `Remove them with \`rctl destroy --name ${req.cluster} --yes\`, or choose another --name.`,
      });
    }
    for (const n of req.nodes) {
      const name = containerName(req.cluster, n.index);
      try {
        const c = await this.docker.getContainer(name).inspect();
        if (c.Config.Labels?.[LABEL_CLUSTER] !== req.cluster) {
          throw new RctlError('NOT_CREATED_BY_RCTL', `A container named ${name} exists and was not created by rctl.`, {
            hint: 'Choose another --name; rctl never touches containers it did not create.',
          });
        }
      } catch (err) {
        if (err instanceof RctlError) throw err;
        if (statusOf(err) !== 404) throw new RctlError('NO_DOCKER', `Docker failed to inspect ${name}: ${messageOf(err)}`);
      }
    }
    onEvent({ type: 'note', message: `image ${this.image}` });
    const how = await ensureImage(this.docker, this.image);
    if (how === 'pulled') onEvent({ type: 'note', message: `pulled ${this.image}` });
    await assertPortsFree(req.host, req.nodes, req.cluster);
  }

  async start(req: ProvisionRequest, _onEvent: EventSink): Promise<ProvisionedNode[]> {
    const created: NodeRecord[] = [];
    try {
      const machine = await engineId(this.docker);
      const network = req.network === 'bridge' ? await this.ensureNetwork(req.cluster) : 'host';
      // Bounded: 200 concurrent create+start calls make dockerd time out some of them on 2 cores.
      const started = await mapLimit(req.nodes, async (n) => ({ ...(await this.startNode(req, n, network, created)), machine }), DOCKER_CONCURRENCY);
      return started.sort((a, b) => a.index - b.index);
    } catch (err) {
      await this.remove(req.cluster, created);
      if (req.network === 'bridge') await this.removeNetwork(req.cluster);
      if (err instanceof RctlError) throw err;
      throw new RctlError('PROVISION_FAILED', `Docker could not start the nodes: ${messageOf(err)}`, {
        hint: 'Nothing was left behind. Check `docker info` and the image, then try again.',
        cause: err,
      });
    }
  }

  private async startNode(req: ProvisionRequest, n: NodeSpec, network: string, created: NodeRecord[]): Promise<NodeRecord> {
    const role = req.role ?? 'node';
    const name = containerName(req.cluster, n.index, role);
    const volume = volumeName(req.cluster, n.index, role);
    await this.docker.createVolume({ Name: volume, Labels: labelsFor(req.cluster, NODE_KIND, n.index) });
    const record: { index: number; host: string; port: number; busPort: number; container: string; volume: string } = {
      index: n.index,
      host: n.host ?? req.host,
      port: n.port,
      busPort: n.busPort,
      container: name,
      volume,
    };
    created.push(record);
    const bridge = req.network === 'bridge';
    const exposed = { [`${n.port}/tcp`]: {}, [`${n.busPort}/tcp`]: {} };
    // Arguments show in `docker inspect`, `docker ps --no-trunc` and the host's `ps`: passwords go
    // into a file in the volume instead. redis-server reads a config file named as its first
    // argument, then applies the `--name value` arguments after it.
    const { secrets, open } = splitSecrets(req.sentinelConfig ? [] : (req.settings ?? ((x, d) => redisSettings(req, x, d)))(n, '/data'));
    const container = await this.docker.createContainer({
      name,
      Image: this.image,
      Cmd: req.sentinelConfig ? ['redis-server', '/data/sentinel.conf', '--sentinel'] : ['redis-server', `/data/${SECRETS_FILE}`, ...toArgs(open)],
      Labels: labelsFor(req.cluster, NODE_KIND, n.index),
      ...(bridge ? { ExposedPorts: exposed } : {}),
      HostConfig: {
        NetworkMode: network,
        Mounts: [{ Type: 'volume', Source: volume, Target: '/data' }],
        ...(bridge
          ? {
              PortBindings: {
                [`${n.port}/tcp`]: [{ HostIp: req.host, HostPort: String(n.port) }],
                [`${n.busPort}/tcp`]: [{ HostIp: req.host, HostPort: String(n.busPort) }],
              },
            }
          : {}),
      },
    });
    // Files go into the volume before the first start (the image has no shell to write them), so
    // a restart (drills, `docker start`) reads the same ones. Sentinel needs its config as a file it
    // can rewrite; it holds auth-pass, hence 0600 like the node's secrets file.
    if (req.sentinelConfig) await container.putArchive(tarOf('sentinel.conf', req.sentinelConfig(n, '/data'), 0o600), { path: '/data' });
    else await container.putArchive(tarOf(SECRETS_FILE, toConfigFile(secrets), 0o600), { path: '/data' });
    await container.start();
    if (!bridge) return record;
    // Clients on this machine reach a bridged node at its container address unless an announce
    // address was given (Docker Desktop: the host address clients use).
    const info = await container.inspect();
    const ip = info.NetworkSettings.Networks[network]?.IPAddress;
    const host = req.announceIp ?? ip;
    if (!host) throw new Error(`container ${name} got no address on network ${network}`);
    const withHost = { ...record, host };
    created[created.indexOf(record)] = withHost;
    return withHost;
  }

  private async ensureNetwork(cluster: string): Promise<string> {
    const name = networkName(cluster);
    const nets = await this.docker.listNetworks({ filters: { name: [name] } });
    if (!nets.some((x) => x.Name === name)) await this.docker.createNetwork({ Name: name, Labels: labelsFor(cluster, 'network') });
    return name;
  }

  private async removeNetwork(cluster: string): Promise<void> {
    try {
      await this.docker.getNetwork(networkName(cluster)).remove();
    } catch {
      // Absent or still in use by a node we could not remove: destroy's purge tries again.
    }
  }

  async diagnose(node: NodeRecord): Promise<string | undefined> {
    if (!node.container) return undefined;
    try {
      const info = await this.docker.getContainer(node.container).inspect();
      if (info.State.Running && !info.State.Paused) return undefined;
      const state = info.State.Paused ? 'is paused' : `exited with code ${info.State.ExitCode}`;
      const tail = await containerLogTail(this.docker, node.container, 5);
      return `container ${node.container} ${state}${tail ? `; its last log lines:\n${tail}` : ''}`;
    } catch (err) {
      return statusOf(err) === 404 ? `container ${node.container} does not exist` : undefined;
    }
  }

  async remove(_cluster: string, nodes: readonly NodeRecord[]): Promise<void> {
    await Promise.all(
      nodes.map(async (n) => {
        if (n.container) await ignore404(this.docker.getContainer(n.container).remove({ force: true, v: true }));
        if (n.volume) await ignore404(this.docker.getVolume(n.volume).remove());
      }),
    );
  }

  /** Everything labelled with the cluster's name: containers, volumes, network (destroy, and orphans of a crash). */
  async purge(cluster: string, nodes: readonly NodeRecord[] = []): Promise<number> {
    await this.remove(cluster, nodes);
    const filters = { label: [`${LABEL_CLUSTER}=${cluster}`] };
    const containers = await this.docker.listContainers({ all: true, filters });
    await Promise.all(containers.map((c) => ignore404(this.docker.getContainer(c.Id).remove({ force: true, v: true }))));
    const { Volumes } = await this.docker.listVolumes({ filters });
    await Promise.all((Volumes ?? []).map((v) => ignore404(this.docker.getVolume(v.Name).remove())));
    const nets = await this.docker.listNetworks({ filters });
    await Promise.all(nets.map((x) => ignore404(this.docker.getNetwork(x.Id).remove())));
    return containers.length;
  }

  async fault(node: NodeRecord, mode: FaultMode): Promise<void> {
    const c = this.docker.getContainer(node.container ?? '');
    if (mode === 'pause') await c.pause();
    else if (mode === 'kill') await c.kill({ signal: 'SIGKILL' });
    else await c.stop({ t: 10 });
  }

  /** Whatever the fault was, the container's state says what undoes it. */
  async recover(node: NodeRecord, _mode: FaultMode): Promise<NodeRecord> {
    const c = this.docker.getContainer(node.container ?? '');
    const info = await c.inspect();
    if (info.State.Paused) await c.unpause();
    else if (!info.State.Running) await c.start();
    return node;
  }

  /** Names of containers labelled with this cluster (for `destroy` of a cluster whose record is gone). */
  async labelled(cluster: string, kind = NODE_KIND): Promise<string[]> {
    const cs = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL_CLUSTER}=${cluster}`, `${LABEL_KIND}=${kind}`] } });
    return cs.map((c) => c.Names[0]?.slice(1) ?? c.Id);
  }
}

async function ignore404(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
  }
}
