import { isIP } from 'node:net';
import { usageError } from '../errors.js';

/** The flag that gives every node its own address. */
export const ADDRESS_PER_NODE_FLAG = '--address-per-node';

/** Where clients on this machine come from: it must never be a node's address, or cutting that node cuts the clients too. */
const CLIENT_ADDRESS = '127.0.0.1';

const toInt = (ip: string): number => ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
const toIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/**
 * Node k (1-based) binds `host` + (k-1), carrying into the higher octets (127.0.0.250 + 10 is
 * 127.0.1.4). Distinct addresses are what lets a netfilter rule name one node: with every node on
 * one address, a rule cannot tell their connections apart. Only 127/8 is accepted: every address
 * there is this machine's on Linux without configuring anything, and none is reachable from the network.
 */
export function nodeAddresses(host: string, count: number): string[] {
  if (isIP(host) !== 4 || !host.startsWith('127.')) {
    throw usageError(
      `${ADDRESS_PER_NODE_FLAG} needs --host to be an IPv4 loopback address (127.x.y.z), got ${host}.`,
      'Pass e.g. --host 127.0.0.21: node k then binds 127.0.0.(20+k), all of them local to this machine.',
    );
  }
  const first = toInt(host);
  const last = first + count - 1;
  if (last > toInt('127.255.255.254')) {
    throw usageError(`${ADDRESS_PER_NODE_FLAG} from ${host} needs ${count} addresses, past the end of 127/8.`, 'Pass a lower --host, e.g. --host 127.0.0.21.');
  }
  const out = Array.from({ length: count }, (_, k) => toIp(first + k));
  if (out.includes(CLIENT_ADDRESS)) {
    throw usageError(
      `${ADDRESS_PER_NODE_FLAG} from ${host} gives a node ${CLIENT_ADDRESS}, the address clients on this machine connect from: cutting that node would cut the clients too.`,
      'Pass a --host above it, e.g. --host 127.0.0.21.',
    );
  }
  return out;
}

/**
 * The address for node `index` started after create (add-node, scale-out) of a cluster created with
 * --address-per-node: the one create's scheme gives that index (host + index - 1) unless a node of the
 * cluster already uses it, else the first free one above every address in use. Deterministic for
 * a given record, so a plan's addresses and the nodes started for it agree.
 */
export function nodeAddressFor(host: string, index: number, taken: readonly string[]): string {
  const used = new Set(taken);
  const preferred = nodeAddresses(host, index)[index - 1]!;
  if (!used.has(preferred)) return preferred;
  let n = Math.max(...[...used].filter((a) => isIP(a) === 4 && a.startsWith('127.')).map(toInt)) + 1;
  while (used.has(toIp(n)) || toIp(n) === CLIENT_ADDRESS) n++;
  if (n > toInt('127.255.255.254')) throw usageError(`No free address left in 127/8 above ${host} for node ${index}.`, 'Remove unused nodes first (`rctl del-node`).');
  return toIp(n);
}
