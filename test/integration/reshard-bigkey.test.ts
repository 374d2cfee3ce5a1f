import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from '../../src/cluster/keyslot.js';
import { clusterClient } from '../helpers/load.js';
import { rctl, tempHome } from '../helpers/rctl.js';

const home = tempHome();
const NAME = 'itest-big';
const BASE = 7881;
const SEED = `127.0.0.1:${BASE}`;

describe('a MIGRATE that times out on a big key', () => {
  let key = '';
  beforeAll(async () => {
    const c = await rctl(['create', '--name', NAME, '--provider', 'docker', '--replicas', '0', '--port-base', String(BASE)], { home });
    expect(c.code, c.stderr).toBe(0);
    // A key in one of the first slots of the first master (0-5460): moved by the first batch.
    for (let i = 0; !key; i++) if (keySlot(`big{${i}}`) < 40) key = `big{${i}}`;
    const client = clusterClient([{ host: '127.0.0.1', port: BASE }]);
    const chunk = Array.from({ length: 10_000 }, (_, i) => `element-${i}`);
    for (let i = 0; i < 40; i++) await client.rpush(key, ...chunk);
    client.disconnect();
  });
  afterAll(async () => {
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  it('names the key and its size, leaves no slot open, and keeps the key whole', async () => {
    const info = await rctl(['info', '--seed', SEED, '--json'], { home });
    const ids = (info.json?.['nodes'] as { id: string; address: string }[]).reduce<Record<string, string>>((m, n) => ({ ...m, [n.address]: n.id }), {});
    const r = await rctl(['reshard', '--seed', SEED, '--from', ids[SEED]!, '--to', ids[`127.0.0.1:${BASE + 1}`]!, '--slots', '64', '--timeout', '1', '--yes'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(7);
    expect(r.stderr).toContain(`"${key}"`);
    expect(r.stderr).toMatch(/\d+\.\d MiB/);
    expect(r.stderr).toMatch(/hint: Raise --timeout/);
    const check = await rctl(['check', '--seed', SEED, '--json'], { home });
    expect(check.code, check.stdout).toBe(0);
    const client = clusterClient([{ host: '127.0.0.1', port: BASE }]);
    expect(await client.llen(key)).toBe(400_000);
    client.disconnect();
  });
});
