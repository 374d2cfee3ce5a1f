import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisClusterContainer, type StartedRedisClusterContainer } from 'rctl/testcontainers';
import { expectDistinctAndHealthy } from './testcontainers-parallel.js';

process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
const started: StartedRedisClusterContainer[] = [];
afterAll(async () => {
  await Promise.all(started.map((c) => c.stop()));
});

describe('two RedisClusterContainers started at once in one process', () => {
  it('get distinct free ports and names, and both are healthy', async () => {
    const [a, b] = await Promise.all([new RedisClusterContainer().withReplicas(0).start(), new RedisClusterContainer().withReplicas(0).start()]);
    started.push(a, b);
    await expectDistinctAndHealthy(a, b);
    const names = [a.getName(), b.getName()];
    await Promise.all([a.stop(), b.stop()]);
    for (const n of names) expect(execFileSync('docker', ['ps', '-aq', '--filter', `label=io.rctl.cluster=${n}`], { encoding: 'utf8' }).trim()).toBe('');
  });
});
