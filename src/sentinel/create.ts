import type { NodeAddress } from '../redis/address.js';
import { AdminConnections } from '../redis/connection.js';
import { waitForPing } from '../provision/wait-ping.js';
import { RctlError } from '../errors.js';
import { noEvents, step, type EventSink } from '../events.js';
import type { NodeSpec, ProvisionRequest, ProvisionedNode, Provider } from '../provision/provider.js';
import { deleteRecord, readRecord, writeRecord, type ClusterRecord, type NetworkMode } from '../state/records.js';
import { waitUntil } from '../util/wait.js';
import { RCTL_VERSION } from '../version.js';
import { dataNodeSettings, groupAddresses, sentinelConfig, validateSentinelIntent, type SentinelIntent } from './config.js';
import { readReplication } from './sentinel-conn.js';
import { sentinelStatus, type SentinelStatus } from './status.js';

export interface SentinelCreateResult {
  readonly record: ClusterRecord;
  readonly status: SentinelStatus;
  readonly warnings: readonly string[];
}

/**
 * Start a master, its replicas (REPLICAOF, wait until each link is up and offsets match) and the
 * Sentinels (own writable config each), then wait until every Sentinel sees the master ok, all
 * replicas and all other Sentinels, and CKQUORUM passes. Nothing half-started is left on failure.
 */
export async function createSentinelGroup(
  i: SentinelIntent,
  provider: Provider,
  o: { network: NetworkMode; image?: string | undefined; allowWeakQuorum?: boolean; onEvent?: EventSink; signal?: AbortSignal | undefined },
): Promise<SentinelCreateResult> {
  const onEvent = o.onEvent ?? noEvents;
  const warnings = validateSentinelIntent(i);
  const weak = warnings.find((w) => w.startsWith('quorum'));
  if (weak && !o.allowWeakQuorum) throw new RctlError('USAGE', `Refusing a weak setup: ${weak}.`, { hint: 'Raise --quorum to a majority, or pass --yes to accept it.' });
  for (const w of warnings) onEvent({ type: 'warning', message: w });
  if (await readRecord(i.name)) throw new RctlError('CLUSTER_EXISTS', `A cluster or Sentinel group named "${i.name}" already exists.`, { hint: `Destroy it first (\`rctl sentinel destroy --name ${i.name} --yes\`) or choose another --name.` });

  const bridge = o.network === 'bridge';
  if (i.addressPerNode && bridge) throw new RctlError('USAGE', '--address-per-node is for host networking and the process provider; bridged containers have their own addresses.', { hint: 'Drop --address-per-node, or use --network host.' });
  const own = groupAddresses(i);
  const dataSpecs: NodeSpec[] = Array.from({ length: 1 + i.replicas }, (_, k) => ({ index: k + 1, port: i.portBase + k, busPort: i.portBase + k, ...(own ? { host: own.data[k]! } : {}) }));
  const sentinelSpecs: NodeSpec[] = Array.from({ length: i.sentinels }, (_, k) => ({ index: k + 1, port: i.sentinelPortBase + k, busPort: i.sentinelPortBase + k, ...(own ? { host: own.sentinels[k]! } : {}) }));
  const common = { cluster: i.name, network: o.network, host: i.host, nodeTimeoutMs: 0, password: i.password, image: o.image };
  const dataReq: ProvisionRequest = { ...common, nodes: dataSpecs, role: 'node', settings: (n, dir) => dataNodeSettings(i, n.port, dir, bridge, { host: n.host }) };
  // Ports are checked for both kinds before anything starts.
  await step(onEvent, `preflight (${provider.kind})`, async () => {
    await provider.preflight({ ...dataReq, nodes: [...dataSpecs, ...sentinelSpecs] }, onEvent, o.signal);
  });
  const base: ClusterRecord = {
    name: i.name,
    kind: 'sentinel',
    status: 'creating',
    provider: provider.kind,
    ...(provider.kind === 'docker' && o.image ? { image: o.image } : {}),
    network: o.network,
    host: i.host,
    portBase: i.portBase,
    masters: 1,
    replicasPerMaster: i.replicas,
    nodeTimeoutMs: 0,
    ...(i.password ? { password: i.password } : {}),
    createdAt: new Date().toISOString(),
    rctlVersion: RCTL_VERSION,
    nodes: [],
    sentinel: { masterName: i.masterName, quorum: i.quorum, downAfterMs: i.downAfterMs, nodes: [] },
  };
  await writeRecord(base);
  const conns = new AdminConnections({ password: i.password });
  let data: ProvisionedNode[] = [];
  let sents: ProvisionedNode[] = [];
  try {
    data = await step(onEvent, `start the master and ${i.replicas} replica(s)`, () => provider.start(dataReq, onEvent, o.signal));
    await writeRecord({ ...base, nodes: data.map(({ machine: _m, ...n }) => ({ ...n, role: n.index === 1 ? ('master' as const) : ('replica' as const) })) });
    await waitForPing(conns, provider, data, o.signal, i.name);
    const master: NodeAddress = { host: data[0]!.host, port: data[0]!.port };
    await step(onEvent, 'attach the replicas (REPLICAOF), wait for links up and offsets equal', () =>
      attachReplicas(conns, master, data.slice(1).map((n) => ({ host: n.host, port: n.port })), o.signal),
    );
    const sentReq: ProvisionRequest = { ...common, nodes: sentinelSpecs, role: 'sentinel', sentinelConfig: (n, dir) => sentinelConfig(i, n.port, master, dir, { host: n.host }) };
    sents = await step(onEvent, `start ${i.sentinels} Sentinel(s) monitoring "${i.masterName}"`, () => provider.start(sentReq, onEvent, o.signal));
    const withSentinels: ClusterRecord = { ...base, nodes: data.map(({ machine: _m, ...n }) => ({ ...n, role: n.index === 1 ? ('master' as const) : ('replica' as const) })), sentinel: { ...base.sentinel!, nodes: sents.map(({ machine: _m, ...n }) => n) } };
    await writeRecord(withSentinels);
    await waitForPing(conns, provider, sents, o.signal, i.name);
    const status = await step(onEvent, 'wait until every Sentinel sees the master ok, all replicas, all Sentinels, and CKQUORUM passes', () =>
      waitSentinelsAgree(conns, sents.map((n) => ({ host: n.host, port: n.port })), i, o.signal),
    );
    const record: ClusterRecord = { ...withSentinels, status: 'ready' };
    await writeRecord(record);
    return { record, status, warnings };
  } catch (err) {
    onEvent({ type: 'note', message: 'removing what was started' });
    await conns.closeAll();
    await provider.purge(i.name, [...data, ...sents]).catch(() => undefined);
    await deleteRecord(i.name);
    throw err;
  } finally {
    await conns.closeAll();
  }
}

/** REPLICAOF `master` on every replica, then wait (bounded) until each link is up and its offset equals the master's. */
export async function attachReplicas(conns: AdminConnections, master: NodeAddress, replicas: readonly NodeAddress[], signal?: AbortSignal): Promise<void> {
  await Promise.all(replicas.map((n) => conns.run(n, (r) => r.call('REPLICAOF', master.host, String(master.port)))));
  await waitUntil(
    'every replica to be linked and caught up with the master',
    async () => {
      const m = await readReplication(conns, master);
      for (const n of replicas) {
        const r = await readReplication(conns, n);
        if (r.link !== 'up') return { done: false, reason: `${n.host}:${n.port} master_link_status:${r.link ?? 'none'}` };
        if (r.offset !== m.offset) return { done: false, reason: `${n.host}:${n.port} at offset ${r.offset}, master at ${m.offset}` };
      }
      return { done: true, value: undefined };
    },
    { timeoutMs: 60_000, intervalMs: 25, signal },
  );
}

/** Wait (bounded) until every Sentinel sees the master ok, all replicas, all other Sentinels, and CKQUORUM passes. */
export function waitSentinelsAgree(conns: AdminConnections, sentinels: readonly NodeAddress[], i: Pick<SentinelIntent, 'masterName' | 'replicas' | 'sentinels'>, signal?: AbortSignal): Promise<SentinelStatus> {
  return waitUntil(
    'every Sentinel to agree on a healthy master',
    async () => {
      const st = await sentinelStatus(conns, sentinels, i.masterName, { replicas: i.replicas, sentinels: i.sentinels });
      return st.healthy ? { done: true, value: st } : { done: false, reason: st.problems[0]! };
    },
    // Sentinels find each other through hello messages every 2 s.
    { timeoutMs: 30_000, intervalMs: 100, signal },
  );
}
