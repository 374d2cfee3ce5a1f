import { readFileSync } from 'node:fs';

/** rctl's own version, from package.json (labels containers and records). */
export const RCTL_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Pinned official image used when nothing else is configured. */
export const DEFAULT_IMAGE = 'redis:7.2.5';
