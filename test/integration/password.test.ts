import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rctl, redisCliCheck, tempHome } from '../helpers/rctl.js';

const home = tempHome();
const NAME = 'itest-auth';
const BASE = 7301;
const SEED = `127.0.0.1:${BASE}`;

describe('password-protected cluster', () => {
  beforeAll(async () => {
    const r = await rctl(['create', '--name', NAME, '--provider', 'process', '--port-base', String(BASE), '--password', 's3cret pass'], { home });
    expect(r.stderr).toContain('preflight');
    expect(r.code).toBe(0);
  });
  afterAll(async () => {
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  it('sets requirepass and masterauth: replicas sync, rctl and redis-cli checks pass with the password', async () => {
    expect((await rctl(['check', '--name', NAME], { home })).code).toBe(0);
    expect((await rctl(['check', '--seed', SEED, '--password', 's3cret pass'], { home })).code).toBe(0);
    expect((await rctl(['check', '--seed', SEED], { home, env: { RCTL_PASSWORD: 's3cret pass' } })).code).toBe(0);
    expect((await redisCliCheck(SEED, 's3cret pass')).ok).toBe(true);
  });

  it('without a password: exit 4, one sentence naming the flag', async () => {
    const r = await rctl(['check', '--seed', SEED], { home });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/requires a password/);
    expect(r.stderr).toMatch(/hint: .*--password/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('with a wrong password: exit 4, says it was rejected', async () => {
    const r = await rctl(['info', '--seed', SEED, '--password', 'nope', '--json'], { home });
    expect(r.code).toBe(4);
    expect((r.json?.['error'] as { code: string; message: string }).code).toBe('AUTH');
    expect((r.json?.['error'] as { message: string }).message).toMatch(/rejected the password/);
  });
});
