import { createCluster as provisionAndForm, validateCreateIntent, type CreateIntent } from '../cluster/create.js';
import { formCluster as formNodes, type FormResult } from '../cluster/form.js';
import { RctlError, usageError } from '../errors.js';
import { noEvents } from '../events.js';
import { refuseOpenBind } from '../provision/bind-address.js';
import { DockerProvider } from '../provision/docker/docker-provider.js';
import { dockerClient, engineAnswers } from '../provision/docker/engine.js';
import { LABEL_CLUSTER, containerName } from '../provision/docker/labels.js';
import { heal as healCluster } from '../provision/netfilter/index.js';
import { providerFor, resolveImage, selectProvider } from '../provision/select.js';
import { parseHostPort, type NodeAddress } from '../redis/address.js';
import { AdminConnections } from '../redis/connection.js';
import { deleteRecord, readRecord, type ClusterRecord, type ProviderKind } from '../state/records.js';
import { openCluster, type ClusterHandle } from './cluster-handle.js';
import { confirmed, type OperationOptions } from './operation.js';
import { DEFAULT_NAME } from './target.js';

export interface CreateOptions extends OperationOptions, Partial<Omit<CreateIntent, 'masters' | 'replicasPerMaster'>> {
  /** Masters (default 3, at least 3). */
  readonly masters?: number;
  /** Replicas per master (default 1). */
  readonly replicas?: number;
  /** docker (default when an engine answers) or process (redis-server from PATH). */
  readonly provider?: ProviderKind | undefined;
  /** Accept a host other than loopback without a password. */
  readonly allowOpen?: boolean | undefined;
}

export interface Created {
  /** Open the new cluster (a handle with its connections; close it when done). */
  open(): Promise<ClusterHandle>;
  readonly record: ClusterRecord;
  readonly form: FormResult;
  readonly totalMs: number;
}

/**
 * Start nodes (containers or processes) and form a healthy cluster, recorded under `name` in
 * ~/.rctl (what `rctl create` does). Either it is healthy and open, or everything started is
 * removed again and the error says why.
 */
export async function createCluster(o: CreateOptions = {}): Promise<Created> {
  const intent: CreateIntent = {
    name: o.name ?? DEFAULT_NAME,
    masters: o.masters ?? 3,
    replicasPerMaster: o.replicas ?? 1,
    network: o.network ?? 'host',
    host: o.host ?? '127.0.0.1',
    announceIp: o.announceIp,
    portBase: o.portBase ?? 6381,
    nodeTimeoutMs: o.nodeTimeoutMs,
    password: o.password,
    image: o.image,
    addressPerNode: o.addressPerNode,
    minReplicasToWrite: o.minReplicasToWrite,
    minReplicasMaxLagS: o.minReplicasMaxLagS,
  };
  validateCreateIntent(intent);
  refuseOpenBind(intent.host, intent.password, Boolean(o.allowOpen));
  const provider = await selectProvider(o.provider, o.image, o.onEvent ?? noEvents);
  const t0 = performance.now();
  const { record, form } = await provisionAndForm({ ...intent, image: provider.kind === 'docker' ? resolveImage(o.image) : undefined }, provider, { onEvent: o.onEvent ?? noEvents, signal: o.signal });
  const totalMs = Math.round(performance.now() - t0);
  return { open: () => openCluster({ name: record.name, password: intent.password }), record, form, totalMs };
}

export interface FormOptions extends OperationOptions {
  /** Running, empty, cluster-enabled nodes ("host:port" or addresses). */
  readonly nodes: readonly (string | NodeAddress)[];
  readonly masters?: number;
  readonly replicas?: number;
  readonly password?: string | undefined;
  /** Failure domain of each node (anti-affinity of replicas); default: its host. */
  readonly machineOf?: (addr: NodeAddress) => string;
}

/** Form a cluster from nodes rctl did not start (what `rctl create --nodes` does); nothing is recorded. */
export async function formCluster(o: FormOptions): Promise<FormResult> {
  const addrs = o.nodes.map((a) => (typeof a === 'string' ? parseHostPort(a.trim(), '--nodes') : a));
  const masters = o.masters ?? 3;
  const replicas = o.replicas ?? 0;
  if (!Number.isInteger(masters) || masters < 3) throw usageError(`--masters must be at least 3, got ${masters}.`);
  if (addrs.length < masters * (1 + replicas)) throw usageError(`${masters} masters with ${replicas} replica(s) need ${masters * (1 + replicas)} nodes; --nodes lists ${addrs.length}.`);
  const conns = new AdminConnections({ password: o.password });
  try {
    // Nodes rctl did not start: the address is the only hint of the machine they run on.
    return await formNodes({ nodes: addrs.map((addr) => ({ addr, machine: o.machineOf?.(addr) ?? addr.host })), masters, replicasPerMaster: replicas, conns, onEvent: o.onEvent, signal: o.signal });
  } finally {
    await conns.closeAll();
  }
}

export interface Destroyed {
  readonly name: string;
  readonly nodes: number;
  /** An interrupted create had left it half-created. */
  readonly halfCreated: boolean;
  /** What was removed, in words ("6 container(s)"). */
  readonly what: string;
}

/**
 * Remove a cluster rctl created: its containers or processes and their data, also leftovers of a
 * crashed create (containers labelled with the name). Never removes what rctl did not create.
 */
export async function destroyCluster(name: string = DEFAULT_NAME, o: OperationOptions = {}): Promise<Destroyed> {
  const record = await readRecord(name);
  const docker = await dockerClient();
  const dockerUp = await engineAnswers(docker, 1500);
  // Containers labelled with the name are rctl's even when the record is gone (a crash mid-create).
  const labelled = dockerUp ? await new DockerProvider(docker, resolveImage()).labelled(name) : [];
  if (!record && labelled.length === 0) {
    if (dockerUp && (await docker.getContainer(containerName(name, 1)).inspect().then((c) => c.Config.Labels?.[LABEL_CLUSTER] !== name, () => false))) {
      throw new RctlError('NOT_CREATED_BY_RCTL', `Container ${containerName(name, 1)} was not created by rctl; rctl will not remove it.`, { hint: 'Remove it with docker yourself if you mean to.' });
    }
    throw new RctlError('UNKNOWN_CLUSTER', `rctl has no cluster named "${name}".`, { hint: 'See `rctl ls` for the clusters rctl created.' });
  }
  if (record?.kind === 'sentinel') throw new RctlError('USAGE', `"${name}" is a Sentinel group, not a Redis Cluster.`, { hint: `Use \`rctl sentinel destroy --name ${name}\`.` });
  // Before asking: a docker cluster with no engine answering fails here, clearly, not midway.
  const provider = record ? await providerFor(record.provider, record.image) : undefined;
  const halfCreated = record?.status === 'creating';
  const count = record?.nodes.length || labelled.length;
  const what = halfCreated ? 'whatever the interrupted create had started' : record?.provider === 'process' ? `${count} redis-server process(es)` : `${count} container(s)`;
  await confirmed(o, `Destroy cluster "${name}": remove ${what} and all their data?`, `Destroying cluster "${name}"`);
  const purged = provider && record ? await provider.purge(name, record.nodes) : 0;
  if (labelled.length > 0 && record?.provider !== 'docker') await new DockerProvider(docker, resolveImage()).purge(name);
  // A drill killed mid-partition leaves netfilter rules naming these addresses; best effort (no iptables, not root: nothing to heal).
  await healCluster(name).catch(() => undefined);
  await deleteRecord(name);
  return { name, nodes: halfCreated ? Math.max(purged, labelled.length) : count, halfCreated, what };
}
