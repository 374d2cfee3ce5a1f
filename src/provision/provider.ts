import type { EventSink } from '../events.js';
import type { NetworkMode, NodeRecord, ProviderKind } from '../state/records.js';

/** One node to start. Ports are host ports (and, in bridge mode, the same ports inside the container). */
export interface NodeSpec {
  readonly index: number;
  readonly port: number;
  readonly busPort: number;
  /**
   * This node's own address (create --address-per-node), bound and used as bind-source-addr;
   * undefined: the request's host, shared by every node.
   */
  readonly host?: string | undefined;
}

export interface ProvisionRequest {
  /** Names containers `<cluster>-node-<index>` and labels everything it creates. */
  readonly cluster: string;
  readonly nodes: readonly NodeSpec[];
  readonly network: NetworkMode;
  /** Address to bind (process, docker host mode) and publish on (bridge). */
  readonly host: string;
  /** Bridge mode: address clients outside Docker use; becomes cluster-announce-ip. */
  readonly announceIp?: string | undefined;
  readonly nodeTimeoutMs: number;
  readonly password?: string | undefined;
  readonly image?: string | undefined;
  /** min-replicas-to-write / min-replicas-max-lag (s) on every cluster node; undefined: Redis' defaults (off). */
  readonly minReplicasToWrite?: number | undefined;
  readonly minReplicasMaxLagS?: number | undefined;
  /** "node" (default) or "sentinel": names containers/directories `<cluster>-<role>-<index>`. */
  readonly role?: 'node' | 'sentinel';
  /** redis-server settings; default: a cluster node (redisSettings). */
  readonly settings?: (node: NodeSpec, dir: string) => [string, string][];
  /** Sentinel mode: the node's sentinel.conf (a writable file; Sentinel rewrites it). */
  readonly sentinelConfig?: (node: NodeSpec, dir: string) => string;
}

/** What a started node looks like to the rest of rctl. */
export interface ProvisionedNode extends NodeRecord {
  /** Failure domain used for anti-affinity (Docker engine id or machine hostname). */
  readonly machine: string;
}

/**
 * Docker containers and local processes behind one interface. `start` either returns every node
 * running or removes whatever it had started and throws: nothing half-done is left behind.
 */
export interface Provider {
  readonly kind: ProviderKind;
  /** Check everything that can be checked before starting anything (engine, image, binary, free ports). */
  preflight(req: ProvisionRequest, onEvent: EventSink, signal?: AbortSignal): Promise<void>;
  start(req: ProvisionRequest, onEvent: EventSink, signal?: AbortSignal): Promise<ProvisionedNode[]>;
  /** Why a node does not answer (exited, its last log lines), or undefined if it is running. */
  diagnose(node: NodeRecord): Promise<string | undefined>;
  /** Stop and delete the nodes and their data. Idempotent: missing pieces are fine. */
  remove(cluster: string, nodes: readonly NodeRecord[]): Promise<void>;
  /** Remove everything of the cluster this provider can find (also leftovers of a crash); returns how many nodes. */
  purge(cluster: string, nodes: readonly NodeRecord[]): Promise<number>;
  /**
   * Fault injection for drills: `stop` (graceful: SIGTERM / docker stop), `kill` (SIGKILL), `pause`
   * (frozen: SIGSTOP / docker pause). `recover` undoes any of them (start again, or unfreeze) and
   * returns the node's record, which may change (a restarted process has a new pid).
   */
  fault(node: NodeRecord, mode: FaultMode): Promise<void>;
  recover(node: NodeRecord, mode: FaultMode): Promise<NodeRecord>;
}

export type FaultMode = 'stop' | 'kill' | 'pause';
