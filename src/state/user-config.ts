import { readFileSync } from 'node:fs';
import { userConfigPath } from './paths.js';

/** Defaults a user (or `rctl setup`) chose: ~/.rctl/config.json. Flags and env vars win over it. */
export interface UserConfig {
  /** Redis image for the docker provider; setup writes the locally built one on machines with no registry. */
  readonly image?: string;
}

export function readUserConfig(): UserConfig {
  try {
    return JSON.parse(readFileSync(userConfigPath(), 'utf8')) as UserConfig;
  } catch {
    return {};
  }
}
