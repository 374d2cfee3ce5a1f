import { inject } from 'vitest';
// Dogfood: the fixture creates and destroys through the public API, imported as a user imports it.
import { createCluster, destroyCluster } from 'rctl';
import { meet, startBareNode } from './cluster.js';
import { clusterClient, countBadKeys, writeKeys } from './load.js';
import { waitHealthy } from './rctl.js';

export interface TestCluster {
  readonly seed: string;
  /** A bare node MEETed into the cluster as an empty master, when asked for. */
  readonly bare: Awaited<ReturnType<typeof startBareNode>> | undefined;
  /** Preloaded keys `k:0..keys-1` that are missing or wrong now. */
  badKeys(): Promise<number>;
  destroy(): Promise<void>;
}

/**
 * A real cluster (createCluster of the public API, docker), optionally preloaded with keys and
 * joined by an empty master. Its record lives in `home` (RCTL_HOME), where the CLI runs of the
 * same test find it.
 */
export async function testCluster(o: { home: string; name: string; base: number; replicas?: number; keys?: number; emptyMasterAt?: number }): Promise<TestCluster> {
  const seed = `127.0.0.1:${o.base}`;
  process.env['RCTL_HOME'] = o.home;
  process.env['RCTL_IMAGE'] = inject('image');
  await createCluster({ name: o.name, provider: 'docker', replicas: o.replicas ?? 1, portBase: o.base });
  const seeds = [{ host: '127.0.0.1', port: o.base }];
  if (o.keys) {
    const client = clusterClient(seeds);
    await writeKeys(client, o.keys);
    client.disconnect();
  }
  let bare: Awaited<ReturnType<typeof startBareNode>> | undefined;
  if (o.emptyMasterAt !== undefined) {
    bare = await startBareNode(o.emptyMasterAt);
    await meet(o.emptyMasterAt, o.base);
    await waitHealthy(seed, o.home);
  }
  return {
    seed,
    bare,
    badKeys: async () => {
      const client = clusterClient(seeds);
      try {
        return await countBadKeys(client, o.keys ?? 0);
      } finally {
        client.disconnect();
      }
    },
    destroy: async () => {
      await bare?.stop();
      process.env['RCTL_HOME'] = o.home;
      await destroyCluster(o.name);
    },
  };
}
