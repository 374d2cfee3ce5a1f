import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * examples/testcontainers-vitest as a user runs it: rctl from `npm pack` output, `tsc --noEmit`
 * over the example (the type test of the published .d.ts), then its vitest suite (3x1 cluster, 10k
 * keys, a master killed, nothing left behind). ~30 s here.
 */
describe('the example project (examples/run-example.sh)', () => {
  it('type-checks against the packed package and its test passes', () => {
    const r = spawnSync('bash', ['examples/run-example.sh'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, TESTCONTAINERS_RYUK_DISABLED: 'true' },
    });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.error, out).toBeUndefined();
    expect(r.status, out).toBe(0);
    expect(out).toMatch(/type test: tsc --noEmit/);
    expect(out).toMatch(/Tests\s.*1 passed/);
  }, 260_000);
});
