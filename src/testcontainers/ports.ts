import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RctlError } from '../errors.js';
import { EPHEMERAL_PORT_MIN, probePort } from '../provision/ports.js';

/**
 * Client ports tried by default. Bus port = port + 10000 must stay below the kernel's ephemeral
 * range (32768), and neither may meet the ports rctl's own tests and benchmarks use (7101-9499,
 * 20001-21999 and their +10000 bus ports): 13000-15999 (bus 23000-25999) meets none of them.
 * RCTL_TC_PORT_RANGE=lo-hi or `range` overrides it.
 */
export const DEFAULT_PORT_RANGE: PortRange = { min: 13000, max: 15999 };

export interface PortRange {
  readonly min: number;
  readonly max: number;
}

export interface PortOptions {
  /** The address nodes bind (host networking) or publish on: a port is free if we can bind it there. */
  readonly host?: string;
  readonly range?: PortRange;
  /** Where the reservation files live (tests); default `<tmpdir>/rctl-ports`. */
  readonly lockDir?: string;
}

/** A client port (and its bus port, +10000) held for this process until `release()`. */
export interface PortReservation {
  readonly port: number;
  readonly busPort: number;
  release(): void;
}

export const defaultLockDir = (): string => join(tmpdir(), 'rctl-ports');

/** RCTL_TC_PORT_RANGE ("13000-15999") or the default; a malformed value is a usage error, not a silent default. */
export function portRangeFromEnv(env: NodeJS.ProcessEnv = process.env): PortRange {
  const text = env['RCTL_TC_PORT_RANGE'];
  if (!text) return DEFAULT_PORT_RANGE;
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  if (!m) throw new RctlError('USAGE', `RCTL_TC_PORT_RANGE "${text}" is not lo-hi.`, { hint: 'Write it like RCTL_TC_PORT_RANGE=13000-15999.' });
  return checkRange({ min: Number(m[1]), max: Number(m[2]) });
}

function checkRange(r: PortRange): PortRange {
  if (!Number.isInteger(r.min) || !Number.isInteger(r.max) || r.min < 1024 || r.min > r.max || r.max + 10000 >= EPHEMERAL_PORT_MIN) {
    throw new RctlError('USAGE', `Port range ${r.min}-${r.max} is not usable: client ports must be 1024 or more and bus ports (port + 10000) below ${EPHEMERAL_PORT_MIN}.`, {
      hint: `Choose a range within 1024-${EPHEMERAL_PORT_MIN - 10001}, e.g. 13000-15999.`,
    });
  }
  return r;
}

/** Every reservation this process holds: released on exit (synchronously, the only kind 'exit' allows). */
const held = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const f of held) unlinkQuiet(f);
  });
}

function unlinkQuiet(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone (released twice, or taken over as stale by another process).
  }
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Take the lock file for `port` (O_EXCL create, holding our pid). A file whose pid is dead is a
 * leftover of a crashed process: removed and taken. Returns the file, or undefined if held.
 */
function lockPort(dir: string, port: number): string | undefined {
  const file = join(dir, `${port}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(file);
      return file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = NaN;
      try {
        owner = Number(readFileSync(file, 'utf8'));
      } catch {
        // Removed between our create and read: try again.
        continue;
      }
      // An empty file is one being written right now (another process between open and write),
      // unless it is old: that process died in between.
      if (!Number.isInteger(owner) || owner <= 0) {
        if (Date.now() - mtimeMs(file) < 10_000) return undefined;
      } else if (pidAlive(owner)) return undefined;
      unlinkQuiet(file);
    }
  }
  return undefined;
}

function mtimeMs(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return Date.now();
  }
}

function unlock(file: string): void {
  held.delete(file);
  unlinkQuiet(file);
}

/**
 * `count` client ports P (each with bus port P + 10000) that no other process using this function
 * holds (lock files under `lockDir`, so parallel test files in separate processes never pick the
 * same) and that nothing listens on right now (a bind test on `host`). Candidates are tried in a
 * random order so processes starting together rarely even contend for the same lock.
 */
export async function reservePorts(count: number, opts: PortOptions = {}): Promise<PortReservation[]> {
  const range = checkRange(opts.range ?? portRangeFromEnv());
  const host = opts.host ?? '127.0.0.1';
  const dir = opts.lockDir ?? defaultLockDir();
  mkdirSync(dir, { recursive: true });
  installExitHook();
  const candidates = shuffle(Array.from({ length: range.max - range.min + 1 }, (_, i) => range.min + i));
  const out: PortReservation[] = [];
  try {
    for (const port of candidates) {
      if (out.length === count) break;
      // Both numbers are locked: a configured range may overlap another process's bus ports.
      const a = lockPort(dir, port);
      if (!a) continue;
      const b = lockPort(dir, port + 10000);
      if (!b) {
        unlock(a);
        continue;
      }
      const free = (await probePort(host, port)) === 'free' && (await probePort(host, port + 10000)) === 'free';
      if (!free) {
        unlock(a);
        unlock(b);
        continue;
      }
      let released = false;
      out.push({
        port,
        busPort: port + 10000,
        release: () => {
          if (released) return;
          released = true;
          unlock(a);
          unlock(b);
        },
      });
    }
  } catch (err) {
    for (const r of out) r.release();
    throw err;
  }
  if (out.length < count) {
    for (const r of out) r.release();
    throw new RctlError('PORT_IN_USE', `Only ${out.length} of ${count} free port pairs (port and port + 10000) in ${range.min}-${range.max} on ${host}.`, {
      hint: 'Stop clusters you no longer need, or choose a wider range (RCTL_TC_PORT_RANGE=lo-hi).',
    });
  }
  return out;
}

function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}
