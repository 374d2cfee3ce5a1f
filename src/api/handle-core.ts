import { takeSnapshot, type Snapshot } from '../cluster/snapshot.js';
import { waitUntilReady } from '../cluster/ready.js';
import type { Lease } from '../cluster/lease.js';
import { RctlError } from '../errors.js';
import type { AdminConnections } from '../redis/connection.js';
import type { NodeAddress } from '../redis/address.js';
import { withLease, type LeaseRules } from './exclusive.js';
import type { FaultBackend } from './faults.js';
import type { OperationOptions } from './operation.js';
import { firstSnapshot, type ResolvedTarget } from './target.js';

/**
 * What every use case of an open cluster shares: the target, one admin connection per node, the
 * seed that last answered, and how to fault its nodes (if rctl may). Use cases are functions of
 * this, so the ClusterHandle class stays a thin, documented surface.
 */
export class HandleCore {
  private seed: NodeAddress;
  private closed = false;

  constructor(
    readonly target: ResolvedTarget,
    readonly conns: AdminConnections,
    first: Snapshot,
    readonly faults: FaultBackend | undefined,
  ) {
    this.seed = first.seed;
  }

  /** A fresh snapshot: from the seed that last answered, else the first target seed that does. */
  async snapshot(): Promise<Snapshot> {
    if (this.closed) throw new RctlError('USAGE', 'This cluster handle is closed.', { hint: 'Open the cluster again (openCluster).' });
    try {
      return await takeSnapshot(this.conns, this.seed);
    } catch (err) {
      if (!(err instanceof RctlError) || err.code !== 'UNREACHABLE') throw err;
      const s = await firstSnapshot(this.target, this.conns);
      this.seed = s.seed;
      return s;
    }
  }

  /** Healthy and settled before a change (bounded, named wait). */
  async ready(what: string, o: OperationOptions): Promise<Snapshot> {
    const s = await this.snapshot();
    return waitUntilReady(this.conns, s.seed, { what, signal: o.signal });
  }

  /** Run `fn` holding the cluster's lease for `op` (see withLease). */
  async exclusive<T>(op: string, o: OperationOptions, rules: LeaseRules, fn: (s: Snapshot, lease: Lease) => Promise<T>): Promise<T> {
    return withLease(this.conns, await this.snapshot(), op, o, rules, fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.conns.closeAll();
  }
}
