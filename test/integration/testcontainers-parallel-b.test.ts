import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisClusterContainer, type StartedRedisClusterContainer } from 'rctl/testcontainers';

process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
const started: StartedRedisClusterContainer[] = [];
afterAll(async () => {
  await Promise.all(started.map((c) => c.stop()));
});

/**
 * Another process (as another test file of a parallel run would be) starting a cluster through the
 * built package: prints its seeds, stops when its stdin closes.
 */
const CHILD = `
import { RedisClusterContainer } from 'rctl/testcontainers';
const c = await new RedisClusterContainer().withReplicas(0).start();
console.log(JSON.stringify({ name: c.getName(), seeds: c.getSeeds() }));
process.stdin.resume();
process.stdin.on('end', async () => { await c.stop(); process.exit(0); });
`;

describe('RedisClusterContainers started at once by two processes', () => {
  it('never share a port', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, TESTCONTAINERS_RYUK_DISABLED: 'true' } });
    const kill = setTimeout(() => child.kill('SIGKILL'), 55_000);
    try {
      const line = new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`the child process exited (${code}) before starting its cluster`)));
      });
      const [mine, theirs] = await Promise.all([new RedisClusterContainer().withReplicas(0).start(), line.then((l) => JSON.parse(l) as { name: string; seeds: string[] })]);
      started.push(mine);
      expect((await mine.check()).healthy).toBe(true);
      expect(mine.getName()).not.toBe(theirs.name);
      const all = [...mine.getSeeds(), ...theirs.seeds].map((s) => Number(s.split(':')[1]));
      expect(new Set(all).size).toBe(6);
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin!.end();
      await exited;
    } finally {
      clearTimeout(kill);
      child.kill('SIGKILL');
    }
  });
});
