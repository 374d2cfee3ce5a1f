import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { RctlError, usageError } from '../errors.js';
import { clustersDir, recordPath } from './paths.js';

export type ProviderKind = 'docker' | 'process';
export type NetworkMode = 'host' | 'bridge';

/** One node rctl provisioned. Addresses are what rctl connects to. */
export interface NodeRecord {
  readonly index: number;
  readonly host: string;
  readonly port: number;
  readonly busPort: number;
  /** docker: container and volume names. */
  readonly container?: string;
  readonly volume?: string;
  /** process: pid and working directory. */
  readonly pid?: number;
  readonly dir?: string;
  /** The role rctl gave it (create, scale-out); `roles restore` returns masters to these nodes. */
  readonly role?: 'master' | 'replica';
}

/**
 * What rctl created, so `ls`, `destroy` and later `scale-out`/`scale-in` can find it.
 * Topology truth is always read from the live cluster, never from here.
 */
export interface ClusterRecord {
  readonly name: string;
  /** A Redis Cluster, or a master/replica group watched by Sentinels. */
  readonly kind: 'cluster' | 'sentinel';
  readonly status: 'creating' | 'ready';
  readonly provider: ProviderKind;
  readonly image?: string;
  readonly network: NetworkMode;
  readonly host: string;
  readonly announceIp?: string;
  readonly portBase: number;
  readonly masters: number;
  readonly replicasPerMaster: number;
  readonly nodeTimeoutMs: number;
  /** Kept (file mode 0600) so later commands on --name authenticate without retyping it. */
  readonly password?: string;
  /**
   * Node k binds host + (k-1) (create --address-per-node): nodes started later (add-node,
   * scale-out) get an address of their own too, so partition rules can still name each node.
   */
  readonly addressPerNode?: boolean;
  /** min-replicas-to-write / max-lag (s) set at create or by `config write-safety`: nodes started later get them too. */
  readonly minReplicasToWrite?: number;
  readonly minReplicasMaxLagS?: number;
  readonly createdAt: string;
  readonly rctlVersion: string;
  readonly nodes: readonly NodeRecord[];
  /** Sentinel groups: the monitored name, quorum and the Sentinels themselves. */
  readonly sentinel?: { readonly masterName: string; readonly quorum: number; readonly downAfterMs: number; readonly nodes: readonly NodeRecord[] };
  /** The rctl process that runs `create` while status is "creating": tells a running create from an interrupted one. */
  readonly createdBy?: { readonly pid: number; readonly host: string };
  /** A scale operation under way: re-running the same command continues it instead of starting another. */
  readonly pending?: { readonly kind: 'scale-out' | 'scale-in'; readonly plan: unknown; readonly startedAt: string };
}

export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
/** Names become container, volume and network names and DNS labels (RFC 1035: at most 63 characters). */
export const NAME_MAX = 63;

/** A cluster or group name rctl can use: it names containers, volumes and files under ~/.rctl. */
export function assertValidName(name: string, flag = '--name'): void {
  if (name.length > NAME_MAX) {
    throw usageError(`${flag} "${name.slice(0, 20)}…" is ${name.length} characters long; names are at most ${NAME_MAX}.`, 'Choose a shorter name (it names containers, volumes and the network).');
  }
  if (!NAME_PATTERN.test(name)) throw usageError(`${flag} "${name}" is not a valid name.`, 'Use letters, digits, "-", "_" or "." (it names containers).');
}

export async function readRecord(name: string): Promise<ClusterRecord | undefined> {
  try {
    return JSON.parse(await readFile(recordPath(name), 'utf8')) as ClusterRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RctlError('REFUSED', `The record of cluster "${name}" at ${recordPath(name)} is unreadable.`, {
      hint: 'Fix or delete that file; topology is read from the live cluster anyway.',
      cause: err,
    });
  }
}

export async function requireRecord(name: string): Promise<ClusterRecord> {
  const r = await readRecord(name);
  if (!r) {
    throw new RctlError('UNKNOWN_CLUSTER', `rctl has no cluster named "${name}".`, {
      hint: 'See `rctl ls` for the clusters rctl created, or pass --seed host:port for any other cluster.',
    });
  }
  return r;
}

/** Atomic write (tmp + rename), readable by the owner only: it may hold a password. */
export async function writeRecord(r: ClusterRecord): Promise<void> {
  await mkdir(clustersDir(), { recursive: true, mode: 0o700 });
  const tmp = `${recordPath(r.name)}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(r, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, recordPath(r.name));
}

/**
 * Keep the recorded master count in step after add-node / del-node (scale does it itself): `ls`
 * shows it when the cluster does not answer. A record deleted meanwhile stays deleted.
 */
export async function recordMasters(name: string, masters: number): Promise<void> {
  const r = await readRecord(name);
  if (r && r.masters !== masters) await writeRecord({ ...r, masters });
}

export async function deleteRecord(name: string): Promise<void> {
  await rm(recordPath(name), { force: true });
}

export async function listRecords(): Promise<ClusterRecord[]> {
  let files: string[];
  try {
    files = await readdir(clustersDir());
  } catch {
    return [];
  }
  const out: ClusterRecord[] = [];
  for (const f of files.filter((x) => x.endsWith('.json')).sort()) {
    const r = await readRecord(f.slice(0, -'.json'.length));
    if (r) out.push(r);
  }
  return out;
}
