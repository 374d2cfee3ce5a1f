import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterClient, countBadKeys, writeKeys } from '../helpers/load.js';
import { rctl, redisCliCheck, tempHome } from '../helpers/rctl.js';

const home = tempHome();
const NAME = 'itest-proc';
const BASE = 7201;

const alive = (pid: number): boolean => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server');
  } catch {
    return false;
  }
};

describe('create/check/destroy with --provider process', () => {
  afterAll(async () => {
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  it('creates a healthy 3x1 cluster of redis-server processes, keeps data, and destroys it without leftovers', async () => {
    const c = await rctl(['create', '--name', NAME, '--provider', 'process', '--port-base', String(BASE), '--json'], { home });
    expect(c.code).toBe(0);
    expect(c.json?.['provider']).toBe('process');

    const check = await rctl(['check', '--name', NAME], { home });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('Cluster is healthy.');
    expect((await redisCliCheck(`127.0.0.1:${BASE}`)).ok).toBe(true);

    const client = clusterClient([{ host: '127.0.0.1', port: BASE }]);
    try {
      await writeKeys(client, 20_000);
      expect(await countBadKeys(client, 20_000)).toBe(0);
    } finally {
      client.disconnect();
    }

    const record = JSON.parse(readFileSync(join(home, 'clusters', `${NAME}.json`), 'utf8')) as { nodes: { pid: number; dir: string }[] };
    expect(record.nodes).toHaveLength(6);
    for (const n of record.nodes) {
      expect(alive(n.pid)).toBe(true);
      expect(existsSync(join(n.dir, 'redis.conf'))).toBe(true);
    }

    const d = await rctl(['destroy', '--name', NAME, '--yes'], { home });
    expect(d.code).toBe(0);
    for (const n of record.nodes) {
      expect(alive(n.pid)).toBe(false);
      expect(existsSync(n.dir)).toBe(false);
    }
    expect(existsSync(join(home, 'clusters', `${NAME}.json`))).toBe(false);
  });
});
