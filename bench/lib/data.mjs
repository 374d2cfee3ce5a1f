// Load n keys `k:<i>` of `size` bytes spread over all 16384 slots, straight to each slot's owner
// over plain connections (pipelines of 10k): identical data on every cluster, fast, bounded.
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';

async function slotOwners(seed) {
  const r = new Redis(seed);
  const slots = await r.call('CLUSTER', 'SLOTS');
  r.disconnect();
  const owner = new Array(16384);
  for (const [start, end, [host, port]] of slots) for (let s = start; s <= end; s++) owner[s] = `${host}:${port}`;
  return owner;
}

export async function loadKeys(seed, n, size = 100, password) {
  const owner = await slotOwners(seed);
  const conns = new Map();
  const conn = (addr) => {
    if (!conns.has(addr)) {
      const [host, port] = addr.split(':');
      conns.set(addr, new Redis({ host, port: Number(port), ...(password ? { password } : {}) }));
    }
    return conns.get(addr);
  };
  const value = 'x'.repeat(size);
  const BATCH = 10_000;
  for (let i = 0; i < n; i += BATCH) {
    const pipes = new Map();
    for (let j = i; j < Math.min(n, i + BATCH); j++) {
      const key = `k:${j}`;
      const addr = owner[calculateSlot(key)];
      if (!pipes.has(addr)) pipes.set(addr, conn(addr).pipeline());
      pipes.get(addr).set(key, value);
    }
    await Promise.all([...pipes.values()].map((p) => p.exec()));
  }
  for (const c of conns.values()) c.disconnect();
}

/** Total keys on the masters (DBSIZE of every master). */
export async function totalKeys(seed) {
  const r = new Redis(seed);
  const nodes = String(await r.call('CLUSTER', 'NODES'));
  r.disconnect();
  let total = 0;
  for (const line of nodes.split('\n').filter(Boolean)) {
    const f = line.split(' ');
    if (!f[2].includes('master')) continue;
    const [hp] = f[1].split('@');
    const i = hp.lastIndexOf(':');
    const c = new Redis({ host: hp.slice(0, i), port: Number(hp.slice(i + 1)) });
    total += await c.dbsize();
    c.disconnect();
  }
  return total;
}
