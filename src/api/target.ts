import { RctlError, usageError } from '../errors.js';
import { noEvents, type EventSink } from '../events.js';
import { addrKey, parseHostPort, type NodeAddress } from '../redis/address.js';
import { AdminConnections } from '../redis/connection.js';
import { takeSnapshot, type Snapshot } from '../cluster/snapshot.js';
import { readRecord, requireRecord, type ClusterRecord } from '../state/records.js';

/** The cluster rctl acts on when nothing else is named (`rctl create` without --name makes it). */
export const DEFAULT_NAME = 'rctl';

/**
 * Which cluster to act on: `seed` (any node of any cluster) or `name` (one rctl created, default
 * "rctl"). With both, the seed selects the cluster and the name only lends its record.
 */
export interface ClusterTarget {
  readonly name?: string | undefined;
  /** "host:port", or an address; also a list of them, tried in order. */
  readonly seed?: string | NodeAddress | readonly (string | NodeAddress)[] | undefined;
  /** AUTH password; default: the one rctl's record remembers for `name`. */
  readonly password?: string | undefined;
  /** Per-connection connect timeout (default 2000 ms). */
  readonly connectTimeoutMs?: number | undefined;
}

export interface ResolvedTarget {
  /** Addresses to try, in order. */
  readonly seeds: readonly NodeAddress[];
  readonly password: string | undefined;
  /** Present when the cluster is one rctl created. */
  readonly record: ClusterRecord | undefined;
  /** How messages name it: `cluster "x"` or `h:p`. */
  readonly label: string;
  /** How a suggested command names it: `--name x` or `--seed h:p`. */
  readonly flag: string;
}

const asAddr = (a: string | NodeAddress): NodeAddress => (typeof a === 'string' ? parseHostPort(a, '--seed') : a);

/**
 * Resolve a target. A `name` rctl does not know, or a seed that is not one of the named cluster's
 * recorded nodes, is refused rather than silently mixed.
 */
export async function resolveTarget(t: ClusterTarget, onEvent: EventSink = noEvents): Promise<ResolvedTarget> {
  if (t.seed !== undefined) {
    const list = (Array.isArray(t.seed) ? t.seed : [t.seed]) as (string | NodeAddress)[];
    if (list.length === 0) throw usageError('No seed address given.', 'Pass --seed host:port.');
    const seeds = list.map(asAddr);
    const seed = seeds[0]!;
    const record = t.name ? await readRecord(t.name) : undefined;
    if (t.name && !record) {
      throw new RctlError('UNKNOWN_CLUSTER', `rctl has no cluster named "${t.name}".`, { hint: `Drop --name to act on the cluster at ${addrKey(seed)} (pass --password if it needs one); \`rctl ls\` lists rctl's clusters.` });
    }
    const recorded = record?.nodes.map((n) => addrKey({ host: n.host, port: n.port })) ?? [];
    if (record && recorded.length > 0 && !recorded.includes(addrKey(seed))) {
      throw usageError(
        `--seed ${addrKey(seed)} is not a node of cluster "${record.name}" (its nodes: ${recorded.slice(0, 6).join(', ')}${recorded.length > 6 ? ', …' : ''}).`,
        `Pass --name ${record.name} alone to act on that cluster, or --seed alone for the cluster at ${addrKey(seed)}.`,
      );
    }
    if (record) onEvent({ type: 'note', message: `--seed ${addrKey(seed)} selects the cluster; --name ${record.name} only supplies its record (password, nodes rctl started).` });
    return { seeds, password: t.password ?? record?.password, record, label: addrKey(seed), flag: `--seed ${addrKey(seed)}` };
  }
  const name = t.name ?? DEFAULT_NAME;
  const record = await requireRecord(name);
  return {
    seeds: record.nodes.map((n) => ({ host: n.host, port: n.port })),
    password: t.password ?? record.password,
    record,
    label: `cluster "${name}"`,
    flag: `--name ${name}`,
  };
}

/** Snapshot the target from the first seed that answers (UNREACHABLE when none does). */
export async function firstSnapshot(target: ResolvedTarget, conns: AdminConnections): Promise<Snapshot> {
  let last: RctlError | undefined;
  for (const seed of target.seeds) {
    try {
      return await takeSnapshot(conns, seed);
    } catch (err) {
      if (!(err instanceof RctlError) || err.code !== 'UNREACHABLE') throw err;
      last = err;
    }
  }
  if (target.seeds.length === 1 && last) throw last;
  throw new RctlError('UNREACHABLE', `No node of ${target.label} answers (tried ${target.seeds.map(addrKey).join(', ')}).`, {
    hint: 'Are its containers or processes running? `rctl ls` shows its state; `rctl destroy` removes what is left.',
  });
}
