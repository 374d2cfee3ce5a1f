import { noLease, takeLease, type Lease } from '../cluster/lease.js';
import { takeSnapshot, type Snapshot } from '../cluster/snapshot.js';
import type { RctlError } from '../errors.js';
import { noEvents } from '../events.js';
import type { AdminConnections } from '../redis/connection.js';
import type { OperationOptions } from './operation.js';

export interface LeaseRules {
  /** Take the lease even when its own slot is not served (a repair may be what serves it again). */
  readonly allowUnserved?: boolean;
  /** Dry runs and reads: no lease at all. */
  readonly readOnly?: boolean;
  /** Lease TTL; longer for operations that fault the master serving the lease's slot. */
  readonly ttlMs?: number | undefined;
}

/**
 * Take the cluster's lease for `op`, run `fn` on a snapshot read after the lease was taken (so
 * nothing another operation did before it finished is missed), and give the lease back whatever
 * happens. Operations that change a cluster exclude each other this way (README "Leases").
 */
export async function withLease<T>(conns: AdminConnections, first: Snapshot, op: string, o: OperationOptions, rules: LeaseRules, fn: (s: Snapshot, lease: Lease) => Promise<T>): Promise<T> {
  let lease: Lease | undefined;
  try {
    lease = rules.readOnly
      ? noLease()
      : await takeLease(conns, first, {
          op,
          onEvent: o.onEvent ?? noEvents,
          signal: o.signal,
          allowUnserved: rules.allowUnserved ?? false,
          ...(rules.ttlMs ? { ttlMs: rules.ttlMs } : {}),
          ...(o.breakLock ? { confirmBreak: (held: RctlError) => (o.confirm ? o.confirm(`${held.message} Break its lease and go ahead?`, 'Breaking the lease of another operation') : Promise.resolve(true)) } : {}),
        });
    const snapshot = await takeSnapshot(conns, first.seed);
    return await fn(snapshot, lease);
  } finally {
    await lease?.release();
  }
}
