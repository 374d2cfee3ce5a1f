import { RctlError, usageError } from '../errors.js';
import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { mastersOf, replicasOf, type Snapshot } from './snapshot.js';

/**
 * min-replicas-to-write / min-replicas-max-lag: a master refuses writes while fewer than N replicas
 * acknowledged its stream within max-lag seconds. In a partition that fences the isolated master
 * after ≈ max-lag instead of ≈ cluster-node-timeout, which bounds the writes lost when it rejoins.
 */
export interface WriteSafety {
  /** 0 turns the fence off. */
  readonly minReplicasToWrite: number;
  /** Seconds; undefined: Redis' default (10) at create, the node's current value for a running cluster. */
  readonly minReplicasMaxLagS?: number | undefined;
}

/** Redis' own default for min-replicas-max-lag. */
export const DEFAULT_MAX_LAG_S = 10;

/** Flags and values make sense on their own (no cluster needed). */
export function validateWriteSafety(w: { minReplicasToWrite?: number | undefined; minReplicasMaxLagS?: number | undefined }): void {
  const n = w.minReplicasToWrite;
  if (n !== undefined && (!Number.isInteger(n) || n < 0)) throw usageError(`--min-replicas-to-write must be an integer of at least 0, got ${n}.`, '0 turns the fence off; 1 makes a master refuse writes once no replica acknowledges it.');
  const lag = w.minReplicasMaxLagS;
  if (lag !== undefined && (!Number.isInteger(lag) || lag < 1)) throw usageError(`--min-replicas-max-lag must be an integer of at least 1 (seconds), got ${lag}.`, 'Replicas acknowledge once a second: a lag below 1 s would fence a healthy master.');
  if (lag !== undefined && n === undefined) throw usageError('--min-replicas-max-lag only means something with --min-replicas-to-write.', 'Add --min-replicas-to-write 1, or drop --min-replicas-max-lag.');
}

/** A node's current values (CONFIG GET). */
export async function readWriteSafety(conns: AdminConnections, addr: NodeAddress): Promise<{ minReplicasToWrite: number; minReplicasMaxLagS: number }> {
  const r = (await conns.run(addr, (c) => c.call('CONFIG', 'GET', 'min-replicas-*'))) as string[];
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < r.length; i += 2) m.set(r[i]!, r[i + 1]!);
  return { minReplicasToWrite: Number(m.get('min-replicas-to-write') ?? 0), minReplicasMaxLagS: Number(m.get('min-replicas-max-lag') ?? DEFAULT_MAX_LAG_S) };
}

/**
 * Masters with fewer replicas than N would refuse every write: refused before anything is set,
 * naming them (a replica attached later does not help the writes refused meanwhile).
 */
export function assertEnoughReplicas(s: Snapshot, n: number): void {
  if (n === 0) return;
  const short = mastersOf(s).filter((m) => m.self.slots.length > 0 && replicasOf(s, m.id).length < n);
  if (short.length === 0) return;
  throw new RctlError('REFUSED', `min-replicas-to-write ${n} would make ${short.map((m) => `${addrKey(m.addr)} (${replicasOf(s, m.id).length} replica(s))`).join(', ')} refuse every write.`, {
    hint: `Attach replicas first (\`rctl replica attach\`, \`rctl add-node --replica-of\`), or pass a lower --min-replicas-to-write (at most ${Math.min(...short.map((m) => replicasOf(s, m.id).length))}).`,
  });
}

export interface NodeWriteSafety {
  readonly address: string;
  readonly role: 'master' | 'replica';
  readonly minReplicasToWrite: number;
  readonly minReplicasMaxLagS: number;
  /** CONFIG REWRITE saved it to the node's config file (false: a docker node without one; lost on restart). */
  readonly persisted: boolean;
}

/**
 * CONFIG SET on every node (replicas too: a promoted replica must fence like the master it replaces),
 * then CONFIG GET to verify; CONFIG REWRITE where the node has a config file. Every node the snapshot
 * could not reach is refused up front: half a cluster fenced is a setting nobody asked for.
 */
export async function applyWriteSafety(conns: AdminConnections, s: Snapshot, w: WriteSafety): Promise<NodeWriteSafety[]> {
  if (s.unreachable.length > 0) {
    throw new RctlError('REFUSED', `${s.unreachable.map((u) => addrKey(u.addr)).join(', ')} did not answer: the setting would differ between nodes.`, { hint: 'Bring those nodes back (or remove them), then run it again.' });
  }
  const out: NodeWriteSafety[] = [];
  for (const n of s.nodes) {
    const args = [['min-replicas-to-write', String(w.minReplicasToWrite)], ...(w.minReplicasMaxLagS !== undefined ? [['min-replicas-max-lag', String(w.minReplicasMaxLagS)]] : [])];
    await conns.run(n.addr, (c) => c.call('CONFIG', 'SET', ...args.flat()));
    const got = await readWriteSafety(conns, n.addr);
    if (got.minReplicasToWrite !== w.minReplicasToWrite || (w.minReplicasMaxLagS !== undefined && got.minReplicasMaxLagS !== w.minReplicasMaxLagS)) {
      throw new RctlError('REDIS_ERROR', `${addrKey(n.addr)} reports min-replicas-to-write ${got.minReplicasToWrite} / max-lag ${got.minReplicasMaxLagS} after CONFIG SET.`, { hint: 'Something else changes its configuration (a config manager?); check it with CONFIG GET min-replicas-*.' });
    }
    // Docker nodes get their settings as arguments, without a config file: REWRITE fails there.
    const persisted = await conns.run(n.addr, (c) => c.call('CONFIG', 'REWRITE')).then(() => true, () => false);
    out.push({ address: addrKey(n.addr), role: n.role, ...got, persisted });
  }
  return out;
}
