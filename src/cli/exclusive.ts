import type { Command } from 'commander';
import { acquireLease, breakGraceMs, breakLease, describeHolder, noLease, type Lease } from '../cluster/lease.js';
import { sleep } from '../util/abort.js';
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
    lease = o.readOnly ? noLease() : await takeLease(open, flags, ctx, op, o.allowUnserved ?? false, o.ttlMs);
    const snapshot = await takeSnapshot(open.conns, open.snapshot.seed);
    return await fn({ ...open, snapshot, lease });
  } finally {
    await lease?.release();
    await open.conns.closeAll();
  }
}

async function takeLease(open: OpenCluster, flags: LockFlags, ctx: CommandContext, op: string, allowUnserved: boolean, ttlMs: number | undefined): Promise<Lease> {
  const acquire = (): Promise<Lease> => acquireLease(open.conns, open.snapshot, { op, onEvent: ctx.onEvent, allowUnserved, ...(ttlMs ? { ttlMs } : {}) });
  try {
    return await acquire();
  } catch (err) {
    if (!(err instanceof RctlError) || err.code !== 'LOCKED' || !flags.breakLock) throw err;
    const ok = await confirmOrRefuse(ctx, `${err.message} Break its lease and go ahead?`, 'Breaking the lease of another operation');
    if (!ok) throw err;
    const broken = await breakLease(open.conns, open.snapshot);
    if (broken) {
      ctx.onEvent({ type: 'warning', message: `Broke the lease of ${describeHolder(broken)}.` });
      // If that operation still runs, give it time to notice and stop before this one starts.
      const grace = breakGraceMs(broken, pidAlive);
      if (grace > 0) {
        ctx.onEvent({ type: 'note', message: `Waiting ${(grace / 1000).toFixed(0)} s so that its holder, if it still runs, notices and stops at its next safe point.` });
        await sleep(grace, ctx.signal);
      }
    }
    return acquire();
  }
}

/** targetOptions plus --break-lock: the options of every command that changes a cluster. */
export const changeTargetOptions = (cmd: Command): Command => lockOptions(targetOptions(cmd));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
