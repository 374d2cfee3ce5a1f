import { readFileSync } from 'node:fs';
import { RctlError } from '../errors.js';

/**
 * A block of loopback addresses for one cluster's nodes (withAddressPerNode): node k gets
 * 127.0.<block>.<k>. Partition rules name nodes by address, so two clusters (parallel test files,
 * rctl's own tests on 127.0.0.x) must never share a block: blocks come from 127.0.100-250.*, none
 * this process already holds, none with a TCP socket on it (/proc/net/tcp), picked at random so
 * that two processes rarely try the same one (the socket check catches the rest once either binds).
 */
export interface LoopbackBlock {
  readonly addresses: readonly string[];
  release(): void;
}

const FIRST_BLOCK = 100;
const LAST_BLOCK = 250;
const held = new Set<number>();

/** Third octets of 127.0.x.y addresses with a TCP socket (listening or connected) on this machine. */
function blocksInUse(): Set<number> {
  const used = new Set<number>();
  let text = '';
  try {
    text = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return used; // Not Linux: partitions are refused there anyway (no iptables).
  }
  for (const line of text.split('\n').slice(1)) {
    // local_address is little-endian hex: 0100007F:1F90 is 127.0.0.1:8080.
    for (const field of line.trim().split(/\s+/).slice(1, 3)) {
      const hex = field.split(':')[0];
      if (hex?.length !== 8) continue;
      const octets = [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16));
      if (octets[0] === 127 && octets[1] === 0) used.add(octets[2]!);
    }
  }
  return used;
}

export function pickLoopbackBlock(count: number, random: () => number = Math.random): LoopbackBlock {
  if (count < 1 || count > 254) {
    throw new RctlError('USAGE', `withAddressPerNode() gives each node one of 254 addresses of a block; ${count} nodes do not fit.`, { hint: 'Start at most 254 nodes.' });
  }
  const used = blocksInUse();
  const free: number[] = [];
  for (let b = FIRST_BLOCK; b <= LAST_BLOCK; b++) if (!held.has(b) && !used.has(b)) free.push(b);
  if (free.length === 0) {
    throw new RctlError('PROVISION_FAILED', `No free loopback block left in 127.0.${FIRST_BLOCK}-${LAST_BLOCK}.* for withAddressPerNode().`, { hint: 'Stop clusters this process no longer needs.' });
  }
  const block = free[Math.floor(random() * free.length)]!;
  held.add(block);
  return {
    addresses: Array.from({ length: count }, (_, k) => `127.0.${block}.${k + 1}`),
    release: () => held.delete(block),
  };
}
