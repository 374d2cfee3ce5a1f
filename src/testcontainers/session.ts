import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Label on every container and network this process starts through rctl/testcontainers, besides
 * rctl's own labels (io.rctl.cluster...): what the watchdog removes once this process is gone.
 */
export const LABEL_SESSION = 'io.rctl.session';

/** One session per process: pid (for a person reading `docker ps`) plus randomness (pids repeat). */
export const SESSION_ID = `${process.pid}-${randomBytes(4).toString('hex')}`;

let watchdogPid: number | undefined;

/**
 * The watchdog script: next to this file once compiled (dist/testcontainers/watchdog.js). Run from
 * the TypeScript sources (this project's own tests), it is the compiled one under dist/.
 */
export function watchdogScript(): string | undefined {
  const here = fileURLToPath(new URL('./watchdog.js', import.meta.url));
  if (existsSync(here)) return here;
  const built = fileURLToPath(new URL('../../dist/testcontainers/watchdog.js', import.meta.url));
  return existsSync(built) ? built : undefined;
}

/**
 * Start (once per process) the detached watchdog that removes this session's containers when
 * this process ends any way at all: normal exit, a failed test run, SIGKILL. `stop()` removes them
 * earlier; the watchdog is what runs when nothing in this process gets the chance to.
 *
 * With testcontainers' reaper (Ryuk) enabled, Ryuk removes them too (it knows them by
 * testcontainers' own session label): whichever comes first wins, the other finds nothing; both
 * remove by label and ignore what is already gone. Ryuk is not required: its image is often
 * not pullable (no registry), hence this.
 *
 * Returns the watchdog's pid, or undefined if its script is missing (sources never built).
 */
export function ensureWatchdog(): number | undefined {
  if (watchdogPid !== undefined) return watchdogPid;
  const script = watchdogScript();
  if (!script) return undefined;
  const child = spawn(process.execPath, [script, String(process.pid), SESSION_ID], { detached: true, stdio: 'ignore', env: process.env });
  child.unref();
  watchdogPid = child.pid;
  return watchdogPid;
}
