import type { NodeSpec, ProvisionRequest } from './provider.js';

/**
 * redis-server settings every rctl node gets. One list so both providers start identical nodes:
 * the process provider writes all of them into the node's redis.conf (mode 0600); the docker
 * provider passes the non-secret ones as `--name value` arguments and writes the secret ones
 * (SECRET_SETTINGS) into a 0600 file in the node's volume.
 */
export function redisSettings(req: ProvisionRequest, node: NodeSpec, dir: string): [string, string][] {
  const s: [string, string][] = [
    ['port', String(node.port)],
    ['cluster-enabled', 'yes'],
    ['cluster-config-file', 'nodes.conf'],
    ['cluster-node-timeout', String(req.nodeTimeoutMs)],
    ['appendonly', 'yes'],
    ['dir', dir],
    // Redis 7 delays a diskless full sync by 5 s to batch replicas; a replica that has not finished
    // its first sync refuses promotion, so a fresh cluster is not failover-safe for those 5 s.
    ['repl-diskless-sync-delay', '0'],
  ];
  if (req.network === 'bridge') {
    // Inside its own network namespace the node must accept connections from other containers.
    s.push(['bind', '0.0.0.0'], ['protected-mode', 'no']);
    if (req.announceIp) {
      s.push(['cluster-announce-ip', req.announceIp], ['cluster-announce-port', String(node.port)], ['cluster-announce-bus-port', String(node.busPort)]);
    }
  } else if (node.host) {
    // Without bind-source-addr Redis 7 opens its bus and replication connections from the route's
    // source (127.0.0.1 on loopback): peers would learn the wrong address and rules naming this
    // node would miss its traffic.
    // Protected mode only trusts clients from 127.0.0.1 and ::1: a replica connecting from its own
    // 127.x address would be DENIED. Safe to lift: node addresses are 127/8 (nodeAddresses), not
    // reachable from the network.
    s.push(['bind', node.host], ['bind-source-addr', node.host], ['protected-mode', 'no']);
    if (node.busPort !== node.port + 10000) s.push(['cluster-port', String(node.busPort)]);
  } else {
    s.push(['bind', req.host]);
    if (node.busPort !== node.port + 10000) s.push(['cluster-port', String(node.busPort)]);
  }
  if (req.minReplicasToWrite !== undefined) s.push(['min-replicas-to-write', String(req.minReplicasToWrite)], ['min-replicas-max-lag', String(req.minReplicasMaxLagS ?? 10)]); // 10: Redis' own default
  if (req.password) s.push(['requirepass', req.password], ['masterauth', req.password]);
  return s;
}

/**
 * Settings that must never be on a command line: arguments are readable by every local user
 * (`ps`, /proc/<pid>/cmdline) and by anyone who can run `docker inspect` / `docker ps --no-trunc`.
 */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set(['requirepass', 'masterauth', 'masteruser']);

/** Secret settings (for a 0600 file) apart from the rest (fine as arguments). */
export function splitSecrets(settings: readonly [string, string][]): { secrets: [string, string][]; open: [string, string][] } {
  return { secrets: settings.filter(([k]) => SECRET_SETTINGS.has(k)), open: settings.filter(([k]) => !SECRET_SETTINGS.has(k)) };
}

export const toArgs = (settings: [string, string][]): string[] => settings.flatMap(([k, v]) => [`--${k}`, v]);

/**
 * A value as redis.conf reads it. Redis splits config lines with sdssplitargs: inside double quotes
 * it understands \\, \" and \xHH (not JSON's \uXXXX), so quotes, backslashes and control
 * characters are escaped that way and any password survives the round trip.
 */
export function redisQuote(v: string): string {
  if (/^[\w./:-]+$/.test(v)) return v;
  let out = '';
  for (const ch of v) {
    const c = ch.charCodeAt(0);
    if (ch === '\\' || ch === '"') out += `\\${ch}`;
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `"${out}"`;
}

/** redis.conf text (one `name value` line per setting, values quoted for Redis). */
export const toConfigFile = (settings: [string, string][]): string =>
  '# Written by rctl. Redis rewrites nodes.conf in the same directory itself.\n' + settings.map(([k, v]) => `${k} ${redisQuote(v)}`).join('\n') + '\n';
