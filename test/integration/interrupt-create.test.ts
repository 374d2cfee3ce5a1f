import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { dockerLeftovers, rctl, tempHome } from '../helpers/rctl.js';

const BIN = fileURLToPath(new URL('../../bin/rctl', import.meta.url));
const home = tempHome();
// Its own name and ports: no other file uses them, so a leftover elsewhere cannot make this fail (or the reverse).
const NAME = 'itest-intc';
const BASE = 8601;

describe('Ctrl-C during create', () => {
  // Nothing should be left; if the test failed half way, this removes what is.
  afterAll(async () => {
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
  });

  it('the first SIGINT stops, removes everything started, exits 130', async () => {
    const child = spawn(process.execPath, [BIN, 'create', '--name', NAME, '--provider', 'docker', '--port-base', String(BASE)], {
      env: { ...process.env, RCTL_HOME: home, RCTL_IMAGE: inject('image'), CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const code = await new Promise<number>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // Interrupt once the containers run and rctl is forming the cluster.
        if (/✓ start 6 nodes/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('close', (c) => resolve(c ?? -1));
    });
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('stopping at the next safe point');
    expect(stderr).toContain('removing what was started');
    expect(stderr).not.toMatch(/\n\s+at .*\(/);
    expect(await dockerLeftovers(NAME)).toEqual([]);
    expect(existsSync(join(home, 'clusters', `${NAME}.json`))).toBe(false);
  });
});
