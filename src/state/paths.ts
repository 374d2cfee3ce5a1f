import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where rctl keeps what it created: RCTL_HOME, else ~/.rctl. */
export function rctlHome(): string {
  return process.env['RCTL_HOME'] ?? join(homedir(), '.rctl');
}

export const clustersDir = (): string => join(rctlHome(), 'clusters');
export const recordPath = (name: string): string => join(clustersDir(), `${name}.json`);
/** Per-node working directories of the process provider. */
export const nodeDir = (cluster: string, index: number): string => join(clustersDir(), cluster, `node-${index}`);
export const userConfigPath = (): string => join(rctlHome(), 'config.json');
