import { isIP } from 'node:net';
import { usageError } from '../errors.js';

/** The flag that accepts nodes reachable from the network without a password. */
export const ALLOW_OPEN_FLAG = '--allow-open';

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) and "localhost": only this machine can connect. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * Nodes bound to anything but loopback listen on the network; without requirepass, anyone who
 * reaches the port can read, write, FLUSHALL or CONFIG SET them. Redis 7's protected-mode (only
 * 127.0.0.1 and ::1 may connect to a node without a password) is no guard here: rctl turns it off
 * wherever its nodes must accept peers from other addresses (bridge networks, one loopback address
 * per node), so the bind address is the only one. Refused unless asked for explicitly.
 */
export function refuseOpenBind(host: string, password: string | undefined, allowOpen: boolean): void {
  if (password || allowOpen || isLoopback(host)) return;
  throw usageError(
    `--host ${host} without a password: the nodes would accept anyone on the network.`,
    `Set a password (RCTL_PASSWORD or --password-file), bind to 127.0.0.1, or pass ${ALLOW_OPEN_FLAG} if the network is trusted.`,
  );
}

/** An address a client on this machine can connect to: a wildcard bind is reached through loopback. */
export function connectableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}
