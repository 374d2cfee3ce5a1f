import { usageError } from '../errors.js';
import { assertValidName } from '../state/records.js';
import { redisQuote } from '../provision/redis-args.js';

export interface SentinelIntent {
  readonly name: string;
  readonly masterName: string;
  readonly replicas: number;
  readonly sentinels: number;
  readonly quorum: number;
  readonly downAfterMs: number;
  readonly failoverTimeoutMs: number;
  readonly parallelSyncs: number;
  readonly portBase: number;
  readonly sentinelPortBase: number;
  readonly host: string;
  readonly password?: string | undefined;
}

/** Pure validation; returns warnings (things that work but that a careful operator should know). */
export function validateSentinelIntent(i: SentinelIntent): string[] {
  assertValidName(i.name);
  if (!/^[a-zA-Z0-9._-]{1,64}$/.test(i.masterName)) throw usageError(`--master-name "${i.masterName}" is not a valid name.`, 'Use letters, digits, ".", "_" or "-".');
  // Sentinel rewrites its config at startup and on every change, writing `sentinel auth-pass <name>
  // <password>` without quoting (Redis 7.0 sentinel.c); a password with whitespace, a quote or a
  // backslash then no longer parses and that Sentinel refuses to start again.
  if (i.password !== undefined && /[\s"'\\]/.test(i.password)) {
    throw usageError('A Sentinel group\'s password must not contain whitespace, quotes or backslashes.', 'Sentinel writes it back into its config unquoted and would not start again; choose another password.');
  }
  if (!Number.isInteger(i.replicas) || i.replicas < 0) throw usageError(`--replicas must be an integer of at least 0, got ${i.replicas}.`);
  if (!Number.isInteger(i.sentinels) || i.sentinels < 1) throw usageError(`--sentinels must be an integer of at least 1, got ${i.sentinels}.`);
  if (!Number.isInteger(i.quorum) || i.quorum < 1 || i.quorum > i.sentinels) {
    throw usageError(`--quorum must be between 1 and the number of Sentinels (${i.sentinels}), got ${i.quorum}.`, 'The quorum is how many Sentinels must agree the master is down; 2 of 3 is the usual choice.');
  }
  for (const [flag, v, min] of [['--down-after', i.downAfterMs, 100], ['--failover-timeout', i.failoverTimeoutMs, 1000], ['--parallel-syncs', i.parallelSyncs, 1]] as const) {
    if (!Number.isInteger(v) || v < min) throw usageError(`${flag} must be an integer of at least ${min}, got ${v}.`);
  }
  for (const [flag, base, count] of [['--port-base', i.portBase, 1 + i.replicas], ['--sentinel-port-base', i.sentinelPortBase, i.sentinels]] as const) {
    if (!Number.isInteger(base) || base < 1024 || base + count - 1 > 65535) throw usageError(`${flag} ${base} does not leave room for ${count} port(s).`);
  }
  const redisPorts = new Set(Array.from({ length: 1 + i.replicas }, (_, k) => i.portBase + k));
  if (Array.from({ length: i.sentinels }, (_, k) => i.sentinelPortBase + k).some((p) => redisPorts.has(p))) {
    throw usageError('Sentinel ports overlap the Redis ports.', 'Choose --sentinel-port-base away from --port-base.');
  }
  const warnings: string[] = [];
  const majority = Math.floor(i.sentinels / 2) + 1;
  // A failover also needs a majority of all Sentinels to authorise the leader, whatever the quorum.
  if (i.quorum < majority) warnings.push(`quorum ${i.quorum} is below a majority of ${i.sentinels} Sentinels (${majority}): a minority can mark the master down, though a failover still needs ${majority} Sentinels to elect a leader`);
  if (i.sentinels < 3) warnings.push(`${i.sentinels} Sentinel(s): fewer than 3 cannot survive the loss of one Sentinel and still elect a leader`);
  return warnings;
}

/** sentinel.conf for one Sentinel. Each Sentinel gets its own writable file: Sentinel rewrites it. */
export function sentinelConfig(i: SentinelIntent, port: number, master: { host: string; port: number }, dir: string, announce?: { ip: string; port: number }): string {
  const lines = [
    '# Written by rctl. Sentinel rewrites this file itself (known replicas, Sentinels, epochs).',
    `port ${port}`,
    `bind ${announce ? '0.0.0.0' : i.host}`,
    `dir ${dir}`,
    'daemonize no',
    ...(announce ? [`sentinel announce-ip ${announce.ip}`, `sentinel announce-port ${announce.port}`] : []),
    `sentinel monitor ${i.masterName} ${master.host} ${master.port} ${i.quorum}`,
    `sentinel down-after-milliseconds ${i.masterName} ${i.downAfterMs}`,
    `sentinel failover-timeout ${i.masterName} ${i.failoverTimeoutMs}`,
    `sentinel parallel-syncs ${i.masterName} ${i.parallelSyncs}`,
    // Only here, in a file of mode 0600, never in arguments (`ps`, `docker inspect` show those).
    ...(i.password ? [`sentinel auth-pass ${i.masterName} ${redisQuote(i.password)}`] : []),
  ];
  return lines.join('\n') + '\n';
}

/** Settings of the Redis nodes of a Sentinel group (master and replicas). */
export function dataNodeSettings(i: SentinelIntent, port: number, dir: string, bridge: boolean, announce?: { ip: string; port: number }): [string, string][] {
  return [
    ['port', String(port)],
    ['bind', bridge ? '0.0.0.0' : i.host],
    ['dir', dir],
    ['appendonly', 'yes'],
    ['repl-diskless-sync-delay', '0'],
    ...(bridge ? ([['protected-mode', 'no']] as [string, string][]) : []),
    ...(announce ? ([['replica-announce-ip', announce.ip], ['replica-announce-port', String(announce.port)]] as [string, string][]) : []),
    ...(i.password ? ([['requirepass', i.password], ['masterauth', i.password]] as [string, string][]) : []),
  ];
}
