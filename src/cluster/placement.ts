import { splitEvenly, type SlotRange } from './slots.js';

/** A node offered to the placement planner. `machine` is the failure domain (Docker engine or host), not the IP string. */
export interface PlacementNode {
  readonly key: string;
  readonly machine: string;
}

export interface Placement {
  readonly masters: readonly { node: string; slots: SlotRange }[];
  readonly replicas: readonly { node: string; master: string }[];
  /** Human notes about compromises (e.g. a replica had to share its master's machine). */
  readonly notes: readonly string[];
}

export interface PlacementIntent {
  readonly masters: number;
  readonly replicasPerMaster: number;
}

export class PlacementError extends Error {}

/**
 * Pure placement planner: which nodes are masters, their slot ranges, and which replica follows
 * which master. Masters are spread over machines round-robin; each replica goes to a machine
 * other than its master's (and its sibling replicas') whenever one exists. Nodes beyond
 * masters x (1 + replicas) become extra replicas of the masters with fewest replicas,
 * as `redis-cli --cluster create` does.
 */
export function planPlacement(nodes: readonly PlacementNode[], intent: PlacementIntent): Placement {
  const { masters, replicasPerMaster } = intent;
  if (!Number.isInteger(masters) || masters < 1) throw new PlacementError(`masters must be a positive integer, got ${masters}`);
  if (!Number.isInteger(replicasPerMaster) || replicasPerMaster < 0) throw new PlacementError(`replicas must be a non-negative integer, got ${replicasPerMaster}`);
  const needed = masters * (1 + replicasPerMaster);
  if (nodes.length < needed) throw new PlacementError(`${masters} masters with ${replicasPerMaster} replica(s) each need ${needed} nodes, got ${nodes.length}`);
  if (new Set(nodes.map((n) => n.key)).size !== nodes.length) throw new PlacementError('the same node is listed twice');

  const machines = [...new Set(nodes.map((n) => n.machine))];
  // Interleave nodes by machine (machine order = first appearance) so masters land on different machines.
  const byMachine = new Map(machines.map((m) => [m, nodes.filter((n) => n.machine === m)]));
  const interleaved: PlacementNode[] = [];
  for (let i = 0; interleaved.length < nodes.length; i++)
    for (const m of machines) {
      const n = byMachine.get(m)?.[i];
      if (n) interleaved.push(n);
    }

  const masterNodes = interleaved.slice(0, masters);
  const pool = interleaved.slice(masters);
  const ranges = splitEvenly(masters);
  const notes: string[] = [];
  const replicas: { node: string; master: string }[] = [];
  const replicaMachines = new Map<string, Set<string>>(masterNodes.map((m) => [m.key, new Set<string>()]));

  const take = (master: PlacementNode): PlacementNode | undefined => {
    const avoid = replicaMachines.get(master.key) ?? new Set<string>();
    const score = (n: PlacementNode): number => (n.machine === master.machine ? 2 : 0) + (avoid.has(n.machine) ? 1 : 0);
    let best = -1;
    for (let i = 0; i < pool.length; i++) {
      const cand = pool[i] as PlacementNode;
      if (best < 0 || score(cand) < score(pool[best] as PlacementNode)) best = i;
    }
    if (best < 0) return undefined;
    const [picked] = pool.splice(best, 1);
    return picked;
  };
  const attach = (master: PlacementNode, node: PlacementNode): void => {
    replicas.push({ node: node.key, master: master.key });
    replicaMachines.get(master.key)?.add(node.machine);
    if (machines.length > 1 && node.machine === master.machine) notes.push(`replica ${node.key} shares machine ${node.machine} with its master ${master.key}`);
  };

  for (let round = 0; round < replicasPerMaster; round++)
    for (const m of masterNodes) {
      const r = take(m);
      if (r) attach(m, r);
    }
  // Extra nodes: to the master with fewest replicas, preferring another machine.
  while (pool.length > 0) {
    const counts = masterNodes.map((m) => replicas.filter((r) => r.master === m.key).length);
    const fewest = Math.min(...counts);
    const m = masterNodes[counts.indexOf(fewest)] as PlacementNode;
    const r = take(m);
    if (!r) break;
    attach(m, r);
  }
  if (machines.length === 1 && replicasPerMaster > 0) notes.push(`all nodes run on one machine (${machines[0]}): a machine failure takes replicas down with their masters`);

  return {
    masters: masterNodes.map((m, i) => ({ node: m.key, slots: ranges[i] as SlotRange })),
    replicas,
    notes,
  };
}
