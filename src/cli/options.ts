import type { Command } from 'commander';
import { DEFAULT_NAME } from './target.js';

/** --name/--seed/--password: which cluster a command acts on. */
export function targetOptions(cmd: Command): Command {
  return cmd
    .option('--name <name>', `cluster rctl created (default "${DEFAULT_NAME}")`)
    .option('--seed <host:port>', 'any node of any cluster, also one rctl did not create')
    .option('--password <password>', 'auth for requirepass clusters (or RCTL_PASSWORD)');
}

export function outputOptions(cmd: Command): Command {
  return cmd.option('--json', 'machine-readable output').option('--yes', 'never prompt');
}
