import type { FaultMode, Provider } from '../provision/provider.js';
import { recordedAt } from '../provision/recorded-nodes.js';
import { providerFor } from '../provision/select.js';
import type { NodeAddress } from '../redis/address.js';
import { readRecord, writeRecord, type ClusterRecord, type NodeRecord } from '../state/records.js';

export type { FaultMode };

/** The process or container behind a node, and how to fault it. */
export interface FaultableNode {
  readonly provider: Provider;
  readonly record: NodeRecord;
  /** Called when the node comes back with a new record (a restarted process has a new pid). */
  readonly onRecovered?: (n: NodeRecord) => Promise<void>;
}

/**
 * What can stop, kill, freeze and restart the nodes of a cluster: the provider that started them.
 * rctl's record gives one for clusters it created; the testcontainers module gives one for its
 * containers. Clusters rctl only reaches by --seed have none: it never faults what it did not start.
 */
export interface FaultBackend {
  nodeAt(addr: NodeAddress): Promise<FaultableNode | undefined>;
}

/** Faults on a cluster rctl created: its recorded provider; recovered nodes are written back to the record. */
export function recordedFaults(rec: ClusterRecord): FaultBackend {
  let provider: Provider | undefined;
  return {
    async nodeAt(addr) {
      const latest = (await readRecord(rec.name)) ?? rec;
      const record = recordedAt(latest, addr);
      if (!record) return undefined;
      provider ??= await providerFor(latest.provider, latest.image);
      return {
        provider,
        record,
        onRecovered: async (n) => {
          const now = await readRecord(rec.name);
          if (now) await writeRecord({ ...now, nodes: now.nodes.map((x) => (x.index === n.index ? n : x)) });
        },
      };
    },
  };
}
