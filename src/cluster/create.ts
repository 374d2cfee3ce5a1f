import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { RctlError, usageError } from '../errors.js';
import { noEvents, step, type EventSink } from '../events.js';
import type { NodeSpec, ProvisionRequest, ProvisionedNode, Provider } from '../provision/provider.js';
import { assertValidName, deleteRecord, readRecord, writeRecord, type ClusterRecord, type NetworkMode } from '../state/records.js';
import { EPHEMERAL_PORT_MIN } from '../provision/ports.js';
import { ADDRESS_PER_NODE_FLAG, nodeAddresses } from '../provision/node-address.js';
import { waitForPing } from '../provision/wait-ping.js';
import { RCTL_VERSION } from '../version.js';
import { addrKey } from '../redis/address.js';
import { AdminConnections } from '../redis/connection.js';
import { formCluster, type FormResult } from './form.js';
import { DEFAULT_MAX_LAG_S, validateWriteSafety } from './write-safety.js';
import { defaultNodeTimeoutMs } from './forming.js';

export interface CreateIntent {
  readonly name: string;
  readonly masters: number;
  readonly replicasPerMaster: number;
  readonly network: NetworkMode;
  readonly host: string;
  readonly announceIp?: string | undefined;
  readonly portBase: number;
  /** cluster-node-timeout; undefined: defaultNodeTimeoutMs for the node count (5 s, more for big clusters). */
  readonly nodeTimeoutMs?: number | undefined;
  readonly password?: string | undefined;
  readonly image?: string | undefined;
  /**
   * Node k binds `host` + (k-1) (127/8 only) instead of all nodes sharing `host`, so netfilter rules
   * can name a node (partition drills). Host networking and the process provider only.
   */
  readonly addressPerNode?: boolean | undefined;
  /** min-replicas-to-write on every node (a master cut from its replicas stops acknowledging writes). */
  readonly minReplicasToWrite?: number | undefined;
  /** min-replicas-max-lag in seconds (with minReplicasToWrite; Redis' default 10). */
  readonly minReplicasMaxLagS?: number | undefined;
}

export const MIN_MASTERS = 3;

/** Pure validation of what the user asked for; every refusal says which flag to change. */
export function validateCreateIntent(i: CreateIntent): void {
  assertValidName(i.name);
  if (!Number.isInteger(i.masters) || i.masters < MIN_MASTERS)
    throw usageError(`--masters must be an integer of at least ${MIN_MASTERS}, got ${i.masters}.`, 'Redis Cluster needs 3 masters to agree on failures.');
  if (!Number.isInteger(i.replicasPerMaster) || i.replicasPerMaster < 0)
    throw usageError(`--replicas must be an integer of at least 0, got ${i.replicasPerMaster}.`);
  const count = i.masters * (1 + i.replicasPerMaster);
  if (count > 500) throw usageError(`${count} nodes is more than rctl creates on one machine (500).`, 'Lower --masters or --replicas.');
  if (!Number.isInteger(i.portBase) || i.portBase < 1024 || i.portBase + count - 1 + 10000 > 65535)
    throw usageError(`--port-base ${i.portBase} does not leave room for ${count} nodes and their bus ports (port + 10000 ≤ 65535).`, 'Pick a port base between 1024 and ' + (65535 - 10000 - count + 1) + '.');
  // Linux hands out ports from 32768 up to outgoing connections (net.ipv4.ip_local_port_range): a bus
  // port there can be taken at any moment by some connection, and a node that cannot bind its bus
  // port does not start (or, after a restart, never rejoins).
  const lastBus = i.portBase + count - 1 + 10000;
  if (lastBus >= EPHEMERAL_PORT_MIN) {
    const first = Math.max(i.portBase + 10000, EPHEMERAL_PORT_MIN);
    throw usageError(
      `--port-base ${i.portBase} puts bus port ${first} (node ${first - 10000 - i.portBase + 1}: port + 10000) in Linux's ephemeral port range (${EPHEMERAL_PORT_MIN} and up), where outgoing connections may already hold it.`,
      `Pick a lower --port-base: at most ${EPHEMERAL_PORT_MIN - 10000 - count} for ${count} nodes.`,
    );
  }
  if (i.nodeTimeoutMs !== undefined && (!Number.isInteger(i.nodeTimeoutMs) || i.nodeTimeoutMs < 100)) throw usageError(`--node-timeout must be at least 100 ms, got ${i.nodeTimeoutMs}.`);
  if (i.addressPerNode) {
    // Bridged containers already have an address each, inside namespaces a host rule does not see.
    if (i.network === 'bridge') throw usageError(`${ADDRESS_PER_NODE_FLAG} is for host networking and the process provider; bridged containers have their own addresses.`, `Drop ${ADDRESS_PER_NODE_FLAG}, or use --network host.`);
    if (i.announceIp) throw usageError(`--announce-ip does not go with ${ADDRESS_PER_NODE_FLAG}: every node announces its own address.`, 'Drop --announce-ip.');
    nodeAddresses(i.host, count);
  }
  validateWriteSafety(i);
  if (i.minReplicasToWrite !== undefined && i.minReplicasToWrite > i.replicasPerMaster) {
    throw usageError(`--min-replicas-to-write must be between 0 and --replicas (${i.replicasPerMaster}), got ${i.minReplicasToWrite}.`, 'More than there are replicas would make every master refuse every write.');
  }
}

export function nodeSpecs(i: CreateIntent): NodeSpec[] {
  const count = i.masters * (1 + i.replicasPerMaster);
  const hosts = i.addressPerNode ? nodeAddresses(i.host, count) : undefined;
  return Array.from({ length: count }, (_, k) => ({ index: k + 1, port: i.portBase + k, busPort: i.portBase + k + 10000, ...(hosts ? { host: hosts[k]! } : {}) }));
}

export interface CreateResult {
  readonly record: ClusterRecord;
  readonly form: FormResult;
}

/**
 * Provision nodes and form a cluster. Either the cluster is healthy and recorded, or everything
 * started is removed again and the error says why.
 */
export async function createCluster(intent: CreateIntent, provider: Provider, opts: { onEvent?: EventSink; signal?: AbortSignal | undefined } = {}): Promise<CreateResult> {
  const onEvent = opts.onEvent ?? noEvents;
  validateCreateIntent(intent);
  const nodeTimeoutMs = intent.nodeTimeoutMs ?? defaultNodeTimeoutMs(intent.masters * (1 + intent.replicasPerMaster));
  const existing = await readRecord(intent.name);
  if (existing) throw nameTaken(existing);
  const req: ProvisionRequest = {
    cluster: intent.name,
    nodes: nodeSpecs(intent),
    network: intent.network,
    host: intent.host,
    announceIp: intent.announceIp,
    nodeTimeoutMs,
    password: intent.password,
    image: intent.image,
    minReplicasToWrite: intent.minReplicasToWrite,
    minReplicasMaxLagS: intent.minReplicasMaxLagS,
  };
  await step(onEvent, `preflight (${provider.kind})`, () => provider.preflight(req, onEvent, opts.signal));

  const base: ClusterRecord = {
    name: intent.name,
    kind: 'cluster',
    status: 'creating',
    provider: provider.kind,
    ...(provider.kind === 'docker' && intent.image ? { image: intent.image } : {}),
    network: intent.network,
    host: intent.host,
    ...(intent.announceIp ? { announceIp: intent.announceIp } : {}),
    portBase: intent.portBase,
    masters: intent.masters,
    replicasPerMaster: intent.replicasPerMaster,
    nodeTimeoutMs,
    ...(intent.password ? { password: intent.password } : {}),
    ...(intent.addressPerNode ? { addressPerNode: true } : {}),
    ...(intent.minReplicasToWrite !== undefined ? { minReplicasToWrite: intent.minReplicasToWrite, minReplicasMaxLagS: intent.minReplicasMaxLagS ?? DEFAULT_MAX_LAG_S } : {}),
    createdAt: new Date().toISOString(),
    rctlVersion: RCTL_VERSION,
    nodes: [],
    createdBy: { pid: process.pid, host: hostname() },
  };
  // Recorded before anything starts, so a crash mid-create still leaves `destroy` a trace to follow.
  await writeRecord(base);
  const conns = new AdminConnections({ password: intent.password });
  let started: ProvisionedNode[] = [];
  try {
    started = await step(onEvent, `start ${req.nodes.length} nodes`, () => provider.start(req, onEvent, opts.signal));
    await writeRecord({ ...base, nodes: started.map(({ machine: _m, ...n }) => n) });
    await step(onEvent, 'wait until every node answers PING', () => waitForPing(conns, provider, started, opts.signal, intent.name));
    const form = await formCluster({
      nodes: started.map((n) => ({ addr: { host: n.host, port: n.port }, machine: n.machine })),
      masters: intent.masters,
      replicasPerMaster: intent.replicasPerMaster,
      conns,
      onEvent,
      signal: opts.signal,
    });
    const masterKeys = new Set(form.placement.masters.map((m) => m.node));
    const { createdBy: _c, ...done } = base;
    const record: ClusterRecord = {
      ...done,
      status: 'ready',
      nodes: started.map(({ machine: _m, ...n }) => ({ ...n, role: masterKeys.has(addrKey({ host: n.host, port: n.port })) ? ('master' as const) : ('replica' as const) })),
    };
    await writeRecord(record);
    return { record, form };
  } catch (err) {
    onEvent({ type: 'note', message: 'removing what was started' });
    await conns.closeAll();
    await provider.purge(intent.name, started).catch(() => undefined);
    await deleteRecord(intent.name);
    throw err;
  } finally {
    await conns.closeAll();
  }
}

/**
 * Why a name is taken. A record still "creating" is either a create running right now or one that
 * was killed (SIGKILL, a crash, a lost terminal) before it could clean up; only the latter can be
 * destroyed safely, so the message says which.
 */
function nameTaken(r: ClusterRecord): RctlError {
  if (r.status === 'creating') {
    if (!createInterrupted(r)) {
      return new RctlError('CLUSTER_EXISTS', `Cluster "${r.name}" is being created right now by another rctl (pid ${r.createdBy?.pid}).`, {
        hint: 'Wait for that create to finish, or choose another --name.',
      });
    }
    return new RctlError('CLUSTER_EXISTS', `Cluster "${r.name}" was left half-created by an interrupted create (started ${r.createdAt}).`, {
      hint: `Run \`rctl destroy --name ${r.name} --yes\` to remove what it had started, then create it again.`,
    });
  }
  return new RctlError('CLUSTER_EXISTS', `A cluster named "${r.name}" already exists.`, {
    hint: `Use it, destroy it first (\`rctl destroy --name ${r.name} --yes\`), or choose another --name.`,
  });
}

/** A record still "creating" whose create is no longer running (killed, crashed). */
export function createInterrupted(r: ClusterRecord): boolean {
  return r.status === 'creating' && !(r.createdBy && r.createdBy.host === hostname() && isRctlProcess(r.createdBy.pid));
}

/** A live process whose command line is rctl's (pids are reused, so the command line is checked too). */
function isRctlProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('rctl');
  } catch {
    // No /proc (macOS): a live pid is the best evidence there is.
    return true;
  }
}
