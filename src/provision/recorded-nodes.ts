import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { waitForPing } from './wait-ping.js';
import type { NodeProvisioner } from './node-provisioner.js';
import type { EventSink } from '../events.js';
import { readRecord, writeRecord, type ClusterRecord, type NodeRecord } from '../state/records.js';
import type { NodeSpec, ProvisionRequest, Provider } from './provider.js';
import { nodeAddressFor } from './node-address.js';

/**
 * Start and delete nodes of a cluster rctl created, with the same settings as at create, keeping
 * its record in step. New node i listens on port-base + i - 1, like the nodes create started.
 */
export async function recordedNodes(name: string, provider: Provider, conns: AdminConnections, onEvent: EventSink, signal?: AbortSignal): Promise<NodeProvisioner & { machine: string | undefined }> {
  const current = async (): Promise<ClusterRecord> => {
    const r = await readRecord(name);
    if (!r) throw new Error(`record of ${name} vanished`);
    return r;
  };
  let machine: string | undefined;
  let snapshotRecord: ClusterRecord = await current();
  const addressOf = (index: number): NodeAddress => {
    const n = snapshotRecord.nodes.find((x) => x.index === index);
    return n ? { host: n.host, port: n.port } : { host: newNodeHost(snapshotRecord, index, []), port: snapshotRecord.portBase + index - 1 };
  };
  return {
    get machine() {
      return machine;
    },
    addressOf,
    async start(indexes) {
      const rec = await current();
      snapshotRecord = rec;
      const alive = new Set<number>();
      for (const i of indexes) {
        const n = rec.nodes.find((x) => x.index === i);
        if (n && !(await provider.diagnose(n))) alive.add(i);
      }
      const missing = indexes.filter((i) => !alive.has(i));
      if (missing.length > 0) {
        // Addresses claimed by the nodes of this batch too, so two new nodes never share one.
        const claimed: string[] = [];
        const specs: NodeSpec[] = missing.map((i) => {
          const own = hasAddressPerNode(rec) ? newNodeHost(rec, i, claimed) : undefined;
          if (own) claimed.push(own);
          return { index: i, port: rec.portBase + i - 1, busPort: rec.portBase + i - 1 + 10000, ...(own ? { host: own } : {}) };
        });
        const req: ProvisionRequest = {
          cluster: rec.name,
          nodes: specs,
          network: rec.network,
          host: rec.host,
          announceIp: rec.announceIp,
          nodeTimeoutMs: rec.nodeTimeoutMs,
          password: rec.password,
          image: rec.image,
          minReplicasToWrite: rec.minReplicasToWrite,
          minReplicasMaxLagS: rec.minReplicasMaxLagS,
        };
        // Leftovers of an interrupted run (recorded but not running) are replaced.
        await provider.remove(rec.name, rec.nodes.filter((n) => missing.includes(n.index)));
        await provider.preflight(req, onEvent, signal);
        const started = await provider.start(req, onEvent, signal);
        machine = started[0]?.machine;
        const nodes: NodeRecord[] = [...rec.nodes.filter((n) => !missing.includes(n.index)), ...started.map(({ machine: _m, ...n }) => n)].sort((a, b) => a.index - b.index);
        snapshotRecord = { ...rec, nodes };
        await writeRecord(snapshotRecord);
        try {
          await waitForPing(conns, provider, started, signal, rec.name);
        } catch (err) {
          await provider.remove(rec.name, started);
          snapshotRecord = { ...rec, nodes: rec.nodes.filter((n) => !missing.includes(n.index)) };
          await writeRecord(snapshotRecord);
          throw err;
        }
      }
      // Make sure each answers (also the ones that were already running).
      for (const i of indexes) await conns.run(addressOf(i), (r) => r.ping());
    },
    async remove(indexes) {
      const rec = await current();
      const gone = rec.nodes.filter((n) => indexes.includes(n.index));
      for (const n of gone) conns.drop({ host: n.host, port: n.port });
      await provider.remove(rec.name, gone);
      snapshotRecord = { ...rec, nodes: rec.nodes.filter((n) => !indexes.includes(n.index)) };
      await writeRecord(snapshotRecord);
    },
  };
}

/** The recorded node at an address, if rctl started it. */
export const recordedAt = (rec: ClusterRecord, addr: NodeAddress): NodeRecord | undefined => rec.nodes.find((n) => addrKey({ host: n.host, port: n.port }) === addrKey(addr));

/**
 * Whether the cluster's nodes each have their own address. Records written before the field existed
 * tell it by their nodes: on host networking, any node off the shared host has one of its own.
 */
export const hasAddressPerNode = (rec: ClusterRecord): boolean => rec.addressPerNode ?? (rec.network === 'host' && rec.nodes.some((n) => n.host !== rec.host));

/**
 * Where node `index` (not started yet) listens: its own address (next free one, see nodeAddressFor)
 * when the cluster gives every node one — with bind-source-addr, like create — else the shared host.
 */
export function newNodeHost(rec: ClusterRecord, index: number, claimed: readonly string[]): string {
  if (!hasAddressPerNode(rec)) return rec.host;
  return nodeAddressFor(rec.host, index, [...rec.nodes.filter((n) => n.index !== index).map((n) => n.host), ...claimed]);
}
