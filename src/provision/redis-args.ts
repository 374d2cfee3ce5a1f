import type { NodeSpec, ProvisionRequest } from './provider.js';

/**
 * redis-server settings every rctl node gets, as `--name value` arguments (also written as a
 * config file by the process provider). One list so both providers start identical nodes.
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
  } else {
    s.push(['bind', req.host]);
    if (node.busPort !== node.port + 10000) s.push(['cluster-port', String(node.busPort)]);
  }
  if (req.password) s.push(['requirepass', req.password], ['masterauth', req.password]);
  return s;
}

export const toArgs = (settings: [string, string][]): string[] => settings.flatMap(([k, v]) => [`--${k}`, v]);

/** redis.conf text; values quoted so passwords with spaces survive. */
export const toConfigFile = (settings: [string, string][]): string =>
  '# Written by rctl. Redis rewrites nodes.conf in the same directory itself.\n' +
  settings.map(([k, v]) => `${k} ${/^[\w./:-]+$/.test(v) ? v : JSON.stringify(v)}`).join('\n') +
  '\n';
