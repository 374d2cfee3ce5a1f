import { RctlError, usageError } from '../errors.js';
import { addrKey, parseHostPort, type NodeAddress } from '../redis/address.js';
import { AdminConnections } from '../redis/connection.js';
import { takeSnapshot, type Snapshot } from '../cluster/snapshot.js';
import { readRecord, requireRecord, type ClusterRecord } from '../state/records.js';
import { resolvePassword } from './password.js';
import { humanEvents, jsonEvents } from './views/events.js';

export interface TargetFlags {
  name?: string;
  seed?: string;
  password?: string;
  passwordFile?: string;
}

export const DEFAULT_NAME = 'rctl';

export interface Target {
  /** Addresses to try, in order. */
  readonly seeds: readonly NodeAddress[];
  readonly password: string | undefined;
  /** Present when the cluster is one rctl created. */
  readonly record: ClusterRecord | undefined;
  readonly label: string;
}

/**
 * --seed wins; otherwise --name (default "rctl") must be a cluster rctl created. With both, --seed
 * selects the cluster and --name only lends its record (remembered password, the nodes rctl
 * started); a note on stderr says so. Both must then name the same cluster: a --name rctl does not
 * know, or a seed that is not one of its recorded nodes, is refused rather than silently mixed.
 */
export async function resolveTarget(flags: TargetFlags & { json?: boolean }): Promise<Target> {
  // --password, --password-file or RCTL_PASSWORD; otherwise the one the record remembers.
  const given = resolvePassword(flags);
  if (flags.seed) {
    const seed = parseHostPort(flags.seed);
    const record = flags.name ? await readRecord(flags.name) : undefined;
    if (flags.name && !record) {
      throw new RctlError('UNKNOWN_CLUSTER', `rctl has no cluster named "${flags.name}".`, { hint: `Drop --name to act on the cluster at ${addrKey(seed)} (pass --password if it needs one); \`rctl ls\` lists rctl's clusters.` });
    }
    const recorded = record?.nodes.map((n) => addrKey({ host: n.host, port: n.port })) ?? [];
    if (record && recorded.length > 0 && !recorded.includes(addrKey(seed))) {
      throw usageError(
        `--seed ${addrKey(seed)} is not a node of cluster "${record.name}" (its nodes: ${recorded.slice(0, 6).join(', ')}${recorded.length > 6 ? ', …' : ''}).`,
        `Pass --name ${record.name} alone to act on that cluster, or --seed alone for the cluster at ${addrKey(seed)}.`,
      );
    }
    if (record) (flags.json ? jsonEvents() : humanEvents())({ type: 'note', message: `--seed ${addrKey(seed)} selects the cluster; --name ${record.name} only supplies its record (password, nodes rctl started).` });
    return { seeds: [seed], password: given ?? record?.password, record, label: addrKey(seed) };
  }
  const name = flags.name ?? DEFAULT_NAME;
  const record = await requireRecord(name);
  return {
    seeds: record.nodes.map((n) => ({ host: n.host, port: n.port })),
    password: given ?? record.password,
    record,
    label: `cluster "${name}"`,
  };
}

export interface OpenCluster {
  readonly target: Target;
  readonly conns: AdminConnections;
  readonly snapshot: Snapshot;
}

/** Snapshot the target from the first seed that answers. Caller closes `conns`. */
export async function openCluster(flags: TargetFlags, opts: { connectTimeoutMs?: number } = {}): Promise<OpenCluster> {
  const target = await resolveTarget(flags);
  const conns = new AdminConnections({ password: target.password, connectTimeoutMs: opts.connectTimeoutMs ?? 2000 });
  let last: RctlError | undefined;
  for (const seed of target.seeds) {
    try {
      const snapshot = await takeSnapshot(conns, seed);
      return { target, conns, snapshot };
    } catch (err) {
      if (!(err instanceof RctlError) || err.code !== 'UNREACHABLE') {
        await conns.closeAll();
        throw err;
      }
      last = err;
    }
  }
  await conns.closeAll();
  if (target.seeds.length === 1 && last) throw last;
  throw new RctlError('UNREACHABLE', `No node of ${target.label} answers (tried ${target.seeds.map(addrKey).join(', ')}).`, {
    hint: 'Are its containers or processes running? `rctl ls` shows its state; `rctl destroy` removes what is left.',
  });
}

/** How to name the same target in a suggested command ("--name x" or "--seed h:p"). */
export function targetFlag(flags: TargetFlags): string {
  if (flags.seed) return `--seed ${flags.seed}`;
  return `--name ${flags.name ?? DEFAULT_NAME}`;
}
