import type { Command } from 'commander';
import { targetOptions } from './options.js';
import type { TargetFlags } from './target.js';

/** --break-lock: offered by every command that changes a cluster. */
export function lockOptions(cmd: Command): Command {
  return cmd.option('--break-lock', "take the cluster's lease even if another operation holds it (asks first; --yes confirms)");
}

export type LockFlags = TargetFlags & { breakLock?: boolean };

/** targetOptions plus --break-lock: the options of every command that changes a cluster. */
export const changeTargetOptions = (cmd: Command): Command => lockOptions(targetOptions(cmd));
