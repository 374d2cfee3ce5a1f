import { Cluster } from 'ioredis';

/** A user-like cluster client (follows redirects) for writing and reading test data. */
export function clusterClient(seeds: { host: string; port: number }[], password?: string): Cluster {
  return new Cluster(seeds, {
    enableAutoPipelining: true,
    redisOptions: { ...(password ? { password } : {}), connectTimeout: 2000 },
    slotsRefreshTimeout: 2000,
  });
}

/** Write n keys `prefix:i` = `v:i` in bounded batches. */
export async function writeKeys(c: Cluster, n: number, prefix = 'k', batch = 5000): Promise<void> {
  for (let i = 0; i < n; i += batch) {
    const ops: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) ops.push(c.set(`${prefix}:${j}`, `v:${j}`));
    await Promise.all(ops);
  }
}

/** Count keys among `prefix:0..n-1` whose value is not the expected one (missing or wrong). */
export async function countBadKeys(c: Cluster, n: number, prefix = 'k', batch = 5000): Promise<number> {
  let bad = 0;
  for (let i = 0; i < n; i += batch) {
    const ops: Promise<string | null>[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) ops.push(c.get(`${prefix}:${j}`));
    const vals = await Promise.all(ops);
    vals.forEach((v, k) => {
      if (v !== `v:${i + k}`) bad++;
    });
  }
  return bad;
}
