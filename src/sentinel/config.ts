import { usageError } from '../errors.js';
import { assertValidName } from '../state/records.js';
import { redisQuote } from '../provision/redis-args.js';
import { nodeAddresses } from '../provision/node-address.js';

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
  /**
   * Every data node and Sentinel on its own loopback address from `host` up (data nodes first),
   * so that network rules can name one of them (the partition drill).
   */
  readonly addressPerNode?: boolean | undefined;
  /** min-replicas-to-write on the data nodes: a master cut from its replicas stops accepting writes. */
  readonly minReplicasToWrite?: number | undefined;
  /** min-replicas-max-lag in seconds (with minReplicasToWrite; Redis' default 10). */
  readonly minReplicasMaxLagS?: number | undefined;
}

/** With addressPerNode: the data nodes' addresses, then the Sentinels'; else undefined (all on `host`). */
export function groupAddresses(i: Pick<SentinelIntent, 'host' | 'replicas' | 'sentinels' | 'addressPerNode'>): { data: string[]; sentinels: string[] } | undefined {
  if (!i.addressPerNode) return undefined;
  const all = nodeAddresses(i.host, 1 + i.replicas + i.sentinels);
  return { data: all.slice(0, 1 + i.replicas), sentinels: all.slice(1 + i.replicas) };
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
  if (i.minReplicasToWrite !== undefined && (!Number.isInteger(i.minReplicasToWrite) || i.minReplicasToWrite < 0 || i.minReplicasToWrite > i.replicas)) {
    throw usageError(`--min-replicas-to-write must be between 0 and --replicas (${i.replicas}), got ${i.minReplicasToWrite}.`, 'More than there are replicas would make the master refuse every write.');
  }
  if (i.minReplicasMaxLagS !== undefined && (!Number.isInteger(i.minReplicasMaxLagS) || i.minReplicasMaxLagS < 1)) throw usageError(`--min-replicas-max-lag must be an integer of at least 1 (seconds), got ${i.minReplicasMaxLagS}.`);
  if (i.minReplicasMaxLagS !== undefined && !i.minReplicasToWrite) throw usageError('--min-replicas-max-lag only means something with --min-replicas-to-write.', 'Add --min-replicas-to-write 1, or drop --min-replicas-max-lag.');
  if (i.addressPerNode) {
    // nodeAddresses refuses a non-loopback --host and a range that includes 127.0.0.1.
    groupAddresses(i);
  }
  const warnings: string[] = [];
  const majority = Math.floor(i.sentinels / 2) + 1;
  // A failover also needs a majority of all Sentinels to authorise the leader, whatever the quorum.
  if (i.quorum < majority) warnings.push(`quorum ${i.quorum} is below a majority of ${i.sentinels} Sentinels (${majority}): a minority can mark the master down, though a failover still needs ${majority} Sentinels to elect a leader`);
  if (i.sentinels < 3) warnings.push(`${i.sentinels} Sentinel(s): fewer than 3 cannot survive the loss of one Sentinel and still elect a leader`);
  return warnings;
}

/** sentinel.conf for one Sentinel. Each Sentinel gets its own writable file: Sentinel rewrites it. */
export function sentinelConfig(i: SentinelIntent, port: number, master: { host: string; port: number }, dir: string, o: { announce?: { ip: string; port: number }; host?: string | undefined } = {}): string {
  const announce = o.announce;
  const lines = [
    '# Written by rctl. Sentinel rewrites this file itself (known replicas, Sentinels, epochs).',
    `port ${port}`,
    `bind ${announce ? '0.0.0.0' : (o.host ?? i.host)}`,
    // Its own address (--address-per-node): without it, Sentinel's links to the nodes and the other
    // Sentinels leave from 127.0.0.1 and a rule naming this Sentinel would not see them.
    ...(o.host ? [`bind-source-addr ${o.host}`] : []),
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
export function dataNodeSettings(i: SentinelIntent, port: number, dir: string, bridge: boolean, o: { announce?: { ip: string; port: number }; host?: string | undefined } = {}): [string, string][] {
  const announce = o.announce;
  return [
    ['port', String(port)],
    ['bind', bridge ? '0.0.0.0' : (o.host ?? i.host)],
    // Own address (--address-per-node): replication leaves from it (else from 127.0.0.1, and rules
    // naming this node miss it); protected mode would refuse a replica connecting from 127.x != .1.
    ...(o.host && !bridge ? ([['bind-source-addr', o.host], ['protected-mode', 'no']] as [string, string][]) : []),
    ['dir', dir],
    ['appendonly', 'yes'],
    ['repl-diskless-sync-delay', '0'],
    ...(bridge ? ([['protected-mode', 'no']] as [string, string][]) : []),
    ...(announce ? ([['replica-announce-ip', announce.ip], ['replica-announce-port', String(announce.port)]] as [string, string][]) : []),
    ...(i.minReplicasToWrite ? ([['min-replicas-to-write', String(i.minReplicasToWrite)], ['min-replicas-max-lag', String(i.minReplicasMaxLagS ?? 10)]] as [string, string][]) : []),
    ...(i.password ? ([['requirepass', i.password], ['masterauth', i.password]] as [string, string][]) : []),
  ];
}
