import { RctlError, usageError } from '../errors.js';
import { addrKey } from '../redis/address.js';
import { resolveNodeRef } from './node-ref.js';
import { mastersOf, nodeById, type NodeState, type Snapshot } from './snapshot.js';
import { MIN_MASTERS } from './create.js';

/** A node rctl provisioned, as the planner needs it: index and address. */
export interface RecordedNode {
  readonly index: number;
  readonly host: string;
  readonly port: number;
}

export type ScaleStep =
  | { readonly kind: 'provision'; readonly indexes: readonly number[] }
  | { readonly kind: 'add-master'; readonly index: number }
  | { readonly kind: 'rebalance' }
  | { readonly kind: 'add-replica'; readonly index: number; readonly masterIndex: number }
  | { readonly kind: 'del-replica'; readonly id: string; readonly address: string }
  | { readonly kind: 'drain'; readonly masters: readonly string[]; readonly to: string | undefined; readonly toAddress?: string | undefined }
  | { readonly kind: 'del-master'; readonly id: string; readonly address: string }
  | { readonly kind: 'remove-nodes'; readonly indexes: readonly number[] }
  | { readonly kind: 'check' };

export interface ScalePlan {
  readonly kind: 'scale-out' | 'scale-in';
  readonly steps: readonly ScaleStep[];
  /** New nodes: index -> port (scale-out). */
  readonly newNodes: readonly { index: number; port: number; role: 'master' | 'replica'; masterIndex?: number }[];
}

export function describeStep(st: ScaleStep, addrOf: (index: number) => string): string {
  switch (st.kind) {
    case 'provision':
      return `provision ${st.indexes.length} node(s): ${st.indexes.map(addrOf).join(', ')}`;
    case 'add-master':
      return `add ${addrOf(st.index)} as an empty master`;
    case 'rebalance':
      return 'rebalance slots onto the new masters (reshard engine, checked after every wave)';
    case 'add-replica':
      return `add ${addrOf(st.index)} as a replica of ${addrOf(st.masterIndex)}`;
    case 'del-replica':
      return `remove replica ${st.address}`;
    case 'drain':
      return `move every slot of ${st.masters.length} master(s) to ${st.to ? (st.toAddress ?? st.to.slice(0, 8)) : 'the remaining masters, evenly'}`;
    case 'del-master':
      return `remove the emptied master ${st.address}`;
    case 'remove-nodes':
      return `delete the removed nodes' containers/processes and data (${st.indexes.map(addrOf).join(', ')})`;
    case 'check':
      return 'final check';
  }
}

/**
 * Pure: add `masters` shards of 1 master + `replicas` replicas. New nodes take the next indexes
 * (ports follow the port base), new masters first; each new master's replicas are new nodes too.
 */
export function planScaleOut(recorded: readonly RecordedNode[], portBase: number, intent: { masters: number; replicas: number }): ScalePlan {
  if (!Number.isInteger(intent.masters) || intent.masters < 1) throw usageError(`--masters must be an integer of at least 1, got ${intent.masters}.`, 'scale-out adds shards; use scale-in to remove them.');
  if (!Number.isInteger(intent.replicas) || intent.replicas < 0) throw usageError(`--replicas must be an integer of at least 0, got ${intent.replicas}.`, 'It is the number of replicas of each new master.');
  const next = Math.max(0, ...recorded.map((n) => n.index)) + 1;
  const newNodes: { index: number; port: number; role: 'master' | 'replica'; masterIndex?: number }[] = [];
  for (let m = 0; m < intent.masters; m++) newNodes.push({ index: next + m, port: portBase + next + m - 1, role: 'master' });
  let i = next + intent.masters;
  for (let m = 0; m < intent.masters; m++)
    for (let r = 0; r < intent.replicas; r++, i++) newNodes.push({ index: i, port: portBase + i - 1, role: 'replica', masterIndex: next + m });
  const steps: ScaleStep[] = [
    { kind: 'provision', indexes: newNodes.map((n) => n.index) },
    ...newNodes.filter((n) => n.role === 'master').map((n) => ({ kind: 'add-master' as const, index: n.index })),
    { kind: 'rebalance' },
    ...newNodes.filter((n) => n.role === 'replica').map((n) => ({ kind: 'add-replica' as const, index: n.index, masterIndex: n.masterIndex! })),
    { kind: 'check' },
  ];
  return { kind: 'scale-out', steps, newNodes };
}

export interface ScaleInIntent {
  /** How many shards to remove (default 1) when no nodes are named. */
  readonly masters?: number | undefined;
  /** Nodes whose shards to remove: a master, or any member of the shard (after a failover the node you added may be a replica now). */
  readonly nodes?: readonly string[] | undefined;
  /** All drained slots to this master (the manual procedure), instead of evenly. */
  readonly to?: string | undefined;
}

/**
 * Pure: remove whole shards. Each shard is found from its current master (roles may have swapped
 * in a failover); by default the shards holding the most recently added nodes go. Replicas go
 * first, then the slots drain, then the emptied master, then their containers.
 */
export function planScaleIn(s: Snapshot, recorded: readonly RecordedNode[] | undefined, intent: ScaleInIntent): ScalePlan & { shards: readonly { master: NodeState; replicas: readonly NodeState[] }[] } {
  const masters = mastersOf(s);
  const indexOf = (n: NodeState): number => recorded?.find((r) => r.port === n.addr.port && r.host === n.addr.host)?.index ?? -1;
  const shardOf = (m: NodeState): { master: NodeState; replicas: NodeState[] } => ({ master: m, replicas: s.nodes.filter((n) => n.role === 'replica' && n.self.masterId === m.id) });
  let chosen: NodeState[];
  if (intent.nodes && intent.nodes.length > 0) {
    chosen = [];
    for (const ref of intent.nodes) {
      const n = resolveNodeRef(s, ref, '--node');
      const m = n.role === 'master' ? n : n.self.masterId ? nodeById(s, n.self.masterId) : undefined;
      if (!m) throw new RctlError('REFUSED', `${addrKey(n.addr)} follows a master that cannot be reached.`, { hint: 'Run `rctl check` first.' });
      if (!chosen.includes(m)) chosen.push(m);
    }
  } else {
    const count = intent.masters ?? 1;
    if (!Number.isInteger(count) || count < 1) throw usageError(`--masters must be an integer of at least 1, got ${count}.`);
    if (!recorded) throw usageError('Name the shards to remove with --node on a cluster rctl did not create.', 'rctl picks the most recently added shards only when it created them.');
    const newest = (m: NodeState): number => Math.max(indexOf(m), ...shardOf(m).replicas.map(indexOf));
    chosen = [...masters].sort((a, b) => newest(b) - newest(a) || b.id.localeCompare(a.id)).slice(0, count);
  }
  const remaining = masters.length - chosen.length;
  if (remaining < MIN_MASTERS) {
    throw new RctlError('REFUSED', `Removing ${chosen.length} master(s) would leave ${remaining}; a cluster needs at least ${MIN_MASTERS}.`, {
      hint: 'Add masters first (`rctl scale-out`), or remove fewer.',
    });
  }
  let to: string | undefined;
  let toAddress: string | undefined;
  if (intent.to !== undefined) {
    const t = resolveNodeRef(s, intent.to, '--to');
    if (t.role !== 'master') throw new RctlError('REFUSED', `--to ${addrKey(t.addr)} is a replica; slots can only move to a master.`);
    if (chosen.some((c) => c.id === t.id)) throw usageError(`--to ${addrKey(t.addr)} is one of the masters being removed.`);
    to = t.id;
    toAddress = addrKey(t.addr);
  }
  const shards = chosen.map(shardOf);
  const removedIndexes = shards.flatMap((sh) => [sh.master, ...sh.replicas].map(indexOf)).filter((i) => i >= 0);
  const steps: ScaleStep[] = [
    ...shards.flatMap((sh) => sh.replicas.map((r) => ({ kind: 'del-replica' as const, id: r.id, address: addrKey(r.addr) }))),
    { kind: 'drain', masters: shards.map((sh) => sh.master.id), to, toAddress },
    ...shards.map((sh) => ({ kind: 'del-master' as const, id: sh.master.id, address: addrKey(sh.master.addr) })),
    ...(removedIndexes.length > 0 ? [{ kind: 'remove-nodes' as const, indexes: removedIndexes }] : []),
    { kind: 'check' },
  ];
  return { kind: 'scale-in', steps, newNodes: [], shards };
}
