import { createHash } from 'node:crypto';

/**
 * One netfilter rule: drop TCP packets from `src` to `dst:dport`. Addresses are IPv4 (loopback
 * per node, create --address-per-node); the port keeps two clusters on the same addresses apart.
 * Serialisable: drills report the rules they applied.
 */
export interface DropRule {
  readonly src: string;
  readonly dst: string;
  readonly protocol: 'tcp';
  readonly dport: number;
}

/** The cluster's own chain: iptables chain names are at most 28 characters, cluster names up to 63. */
export const chainName = (cluster: string): string => `RCTL-${createHash('sha1').update(cluster).digest('hex').slice(0, 8)}`;

/** Every rule rctl adds carries this comment, so `rctl heal` finds them after a crash, and `iptables -S` says whose they are. */
export const tagOf = (cluster: string): string => `rctl:${cluster}`;

export const TAG_PREFIX = 'rctl:';
export const CHAIN_PREFIX = 'RCTL-';

/** The match and target of a rule, as iptables arguments (after `-A/-D <chain>`). */
export const ruleArgs = (cluster: string, r: DropRule): string[] => [
  '-s', r.src, '-d', r.dst, '-p', r.protocol, '--dport', String(r.dport), '-m', 'comment', '--comment', tagOf(cluster), '-j', 'DROP',
];

/** The INPUT rule that sends traffic into the cluster's chain. Loopback traffic between 127.x addresses passes INPUT too. */
export const jumpArgs = (cluster: string): string[] => ['-m', 'comment', '--comment', tagOf(cluster), '-j', chainName(cluster)];
