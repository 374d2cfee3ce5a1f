import type { Command } from 'commander';
import { DEFAULT_NAME } from './target.js';

/** --name/--seed/--password(-file): which cluster a command acts on. */
export function targetOptions(cmd: Command): Command {
  return cmd
    .option('--name <name>', `cluster rctl created (default "${DEFAULT_NAME}")`)
    .option('--seed <host:port>', 'any node of any cluster, also one rctl did not create')
    .option('--password <password>', 'auth for requirepass clusters; visible to other local users in `ps`: prefer RCTL_PASSWORD or --password-file')
    .option('--password-file <path>', 'read the password from the first line of this file');
}

/**
 * --name/--password(-file) without --seed: for commands that need what only rctl's record knows
 * (drills stop nodes rctl started; `roles restore` needs the roles rctl gave). Help must not offer
 * a --seed they would refuse.
 */
export function recordedTargetOptions(cmd: Command): Command {
  return cmd
    .option('--name <name>', `cluster rctl created (default "${DEFAULT_NAME}")`)
    .option('--password <password>', 'auth for requirepass clusters; visible to other local users in `ps`: prefer RCTL_PASSWORD or --password-file')
    .option('--password-file <path>', 'read the password from the first line of this file');
}

export function outputOptions(cmd: Command): Command {
  return cmd.option('--json', 'machine-readable output').option('--yes', 'never prompt');
}
