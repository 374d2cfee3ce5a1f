import { isIP } from 'node:net';
import { RctlError, usageError } from '../errors.js';
import type { DropRule } from '../provision/netfilter/rules.js';

/** A node as a partition sees it: who it is and where its client and bus ports listen. */
export interface PartitionNode {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly busPort: number;
}

/**
 * - `bus-only`: the cluster bus is cut both ways, clients (and replication, MIGRATE) still pass: the
 *   dangerous case, a minority master keeps acknowledging writes until node-timeout.
 * - `full`: bus and client ports both ways.
 * - `one-way`: connections A opens to B (bus and client ports) are dropped; B still reaches A
 *   (replies to B's connections flow, they go to B's ephemeral ports).
 */
export type PartitionMode = 'full' | 'bus-only' | 'one-way';

export const PARTITION_MODES: readonly PartitionMode[] = ['full', 'bus-only', 'one-way'];

export interface PartitionPlan {
  readonly mode: PartitionMode;
  readonly sideA: readonly string[];
  readonly sideB: readonly string[];
  readonly rules: readonly DropRule[];
}

/** Clients on this machine come from here: a rule naming it would cut them too. */
const CLIENT_ADDRESS = '127.0.0.1';

/**
 * The rules that cut side A from side B. Every rule names source address, destination address and
 * destination port, so another cluster on the same addresses (other ports) is never touched.
 * Refuses, before anything is applied, when rules could not tell the sides apart.
 */
export function planPartition(sideA: readonly PartitionNode[], sideB: readonly PartitionNode[], mode: PartitionMode): PartitionPlan {
  if (!PARTITION_MODES.includes(mode)) throw usageError(`Unknown partition mode "${String(mode)}".`, `Use one of: ${PARTITION_MODES.join(', ')}.`);
  if (sideA.length === 0 || sideB.length === 0) throw usageError('A partition needs at least one node on each side.');
  const inA = new Set(sideA.map((n) => n.id));
  const both = sideB.filter((n) => inA.has(n.id));
  if (both.length > 0) throw usageError(`Node ${both[0]!.id} is on both sides of the partition.`, 'Put each node on one side only.');
  const hostsA = new Set(sideA.map((n) => n.host));
  const shared = sideB.find((n) => hostsA.has(n.host));
  if (shared) {
    throw new RctlError('REFUSED', `Nodes on both sides share address ${shared.host}: rules cannot tell them apart.`, {
      hint: 'Create the cluster with --address-per-node (e.g. --host 127.0.0.21) so that every node has its own address.',
      details: { address: shared.host },
    });
  }
  // Rules go into this machine's INPUT chain: they see traffic to its own (loopback) addresses
  // only. Bridged containers talk across a Docker bridge (forwarded, never INPUT), remote nodes on
  // other machines: rules here would cut nothing and the drill would report a partition that never was.
  const elsewhere = [...sideA, ...sideB].find((n) => !isLoopbackV4(n.host));
  if (elsewhere) {
    throw new RctlError('REFUSED', `Node ${elsewhere.id} is at ${elsewhere.host}, not a loopback address of this machine: rules here would not cut its traffic.`, {
      hint: 'Partitions need --address-per-node (host networking or the process provider): e.g. rctl create --provider docker --network host --address-per-node --host 127.0.0.21. Docker bridge networks are not supported yet.',
      details: { address: elsewhere.host },
    });
  }
  const client = [...sideA, ...sideB].find((n) => n.host === CLIENT_ADDRESS);
  if (client) {
    throw new RctlError('REFUSED', `Node ${client.id} listens on ${CLIENT_ADDRESS}, where clients on this machine connect from: cutting it would cut the clients too.`, {
      hint: 'Create the cluster with --address-per-node --host 127.0.0.21 (any 127/8 address above 127.0.0.1).',
    });
  }
  const cut = (from: readonly PartitionNode[], to: readonly PartitionNode[], ports: (n: PartitionNode) => number[]): DropRule[] =>
    from.flatMap((s) => to.flatMap((d) => ports(d).map((dport) => ({ src: s.host, dst: d.host, protocol: 'tcp' as const, dport }))));
  const bus = (n: PartitionNode): number[] => [n.busPort];
  const all = (n: PartitionNode): number[] => [n.busPort, n.port];
  const rules =
    mode === 'bus-only' ? [...cut(sideA, sideB, bus), ...cut(sideB, sideA, bus)] : mode === 'full' ? [...cut(sideA, sideB, all), ...cut(sideB, sideA, all)] : cut(sideA, sideB, all);
  return { mode, sideA: sideA.map((n) => n.id), sideB: sideB.map((n) => n.id), rules: dedupe(rules) };
}

/** 127/8 in dotted IPv4 (--address-per-node only hands out those). */
const isLoopbackV4 = (host: string): boolean => isIP(host) === 4 && host.startsWith('127.');

/** Nodes of one side sharing an address give the same rule more than once. */
function dedupe(rules: DropRule[]): DropRule[] {
  const seen = new Set<string>();
  return rules.filter((r) => {
    const k = `${r.src}>${r.dst}:${r.dport}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
