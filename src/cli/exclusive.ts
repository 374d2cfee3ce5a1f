import type { Command } from 'commander';
import { noLease, takeLease, type Lease } from '../cluster/lease.js';
import { takeSnapshot } from '../cluster/snapshot.js';
import { RctlError } from '../errors.js';
import type { CommandContext } from './context.js';
import { confirmOrRefuse } from './prompt.js';
import { targetOptions } from './options.js';
import { openCluster, type OpenCluster, type TargetFlags } from './target.js';

/** --break-lock: offered by every command that changes a cluster. */
export function lockOptions(cmd: Command): Command {
  return cmd.option('--break-lock', "take the cluster's lease even if another operation holds it (asks first; --yes confirms)");
}

export type LockFlags = TargetFlags & { breakLock?: boolean };

export interface ExclusiveCluster extends OpenCluster {
  readonly lease: Lease;
}

/**
 * Open the cluster and take its lease for `op`, run `fn`, then give the lease back and close every
 * connection, whatever happens. The snapshot handed to `fn` is read after the lease was taken, so
 * nothing another operation did before it finished is missed.
 */
export async function withExclusive<T>(
  flags: LockFlags,
  ctx: CommandContext,
  op: string,
  fn: (c: ExclusiveCluster) => Promise<T>,
  o: { allowUnserved?: boolean; readOnly?: boolean; ttlMs?: number } = {},
): Promise<T> {
  const open = await openCluster(flags);
  let lease: Lease | undefined;
  try {
    // A dry run changes nothing, and read-only commands never take the lease.
    lease = o.readOnly ? noLease() : await leaseFor(open, flags, ctx, op, o.allowUnserved ?? false, o.ttlMs);
    const snapshot = await takeSnapshot(open.conns, open.snapshot.seed);
    return await fn({ ...open, snapshot, lease });
  } finally {
    await lease?.release();
    await open.conns.closeAll();
  }
}

/** The lease for `op`; with --break-lock, the user confirms breaking another holder's (a prompt, or --yes). */
function leaseFor(open: OpenCluster, flags: LockFlags, ctx: CommandContext, op: string, allowUnserved: boolean, ttlMs: number | undefined): Promise<Lease> {
  return takeLease(open.conns, open.snapshot, {
    op,
    onEvent: ctx.onEvent,
    signal: ctx.signal,
    allowUnserved,
    ...(ttlMs ? { ttlMs } : {}),
    ...(flags.breakLock ? { confirmBreak: (held: RctlError) => confirmOrRefuse(ctx, `${held.message} Break its lease and go ahead?`, 'Breaking the lease of another operation') } : {}),
  });
}

/** targetOptions plus --break-lock: the options of every command that changes a cluster. */
export const changeTargetOptions = (cmd: Command): Command => lockOptions(targetOptions(cmd));

