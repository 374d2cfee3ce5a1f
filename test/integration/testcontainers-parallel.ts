// Shared by testcontainers-parallel-a/-b.test.ts (not a test file itself).
import { expect } from 'vitest';
import type { StartedRedisClusterContainer } from 'rctl/testcontainers';

/** Both clusters healthy, on disjoint ports and names, and a key written to one is absent from the other. */
export async function expectDistinctAndHealthy(a: StartedRedisClusterContainer, b: StartedRedisClusterContainer): Promise<void> {
  expect(a.getName()).not.toBe(b.getName());
  const ports = (c: StartedRedisClusterContainer): number[] => c.getSeeds().map((s) => Number(s.split(':')[1]));
  const all = [...ports(a), ...ports(b)];
  expect(new Set(all).size).toBe(all.length);
  const [ca, cb] = await Promise.all([a.check(), b.check()]);
  expect(ca.healthy).toBe(true);
  expect(cb.healthy).toBe(true);
  const ids = (r: typeof ca): string[] => r.snapshot.nodes.map((n) => n.id);
  expect(ids(ca).filter((id) => ids(cb).includes(id))).toEqual([]);
  const key = `parallel:${a.getName()}`;
  const ra = a.createClient();
  const rb = b.createClient();
  try {
    await ra.set(key, 'a');
    expect(await rb.get(key)).toBeNull();
  } finally {
    ra.disconnect();
    rb.disconnect();
  }
}

