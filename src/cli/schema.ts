import type { Command } from 'commander';

/*
 * Every --json document names its shape: "rctl.<command>/<version>" (docs/json.md). A consumer
 * checks the schema before reading keys; a version changes only when a key is removed, renamed or
 * changes type or meaning (adding keys does not).
 */

/** Error documents have one shape whatever the command: {ok: false, schema, error: {...}}. */
export const ERROR_SCHEMA = 'rctl.error/1';

/** Commands whose document changed incompatibly since it was first versioned. */
const VERSIONS: Readonly<Record<string, number>> = {};

/** "sentinel status" -> "rctl.sentinel.status/1". */
export function schemaFor(commandPath: string): string {
  return `rctl.${commandPath.trim().split(/\s+/).join('.')}/${VERSIONS[commandPath] ?? 1}`;
}

/** The command's words below the program: "check", "drill failover". */
export function commandPath(cmd: Command): string {
  const words: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) words.unshift(c.name());
  return words.join(' ');
}

// One process runs one command: main.ts records which before its action starts (commander's
// preAction hook), so runCommand can stamp the schema without every command passing its name.
let current: string | undefined;

export function setCurrentCommand(path: string): void {
  current = path;
}

export function currentSchema(): string {
  return schemaFor(current ?? 'unknown');
}
