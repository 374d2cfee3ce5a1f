import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { portRangeFromEnv, reservePorts } from '../../src/testcontainers/ports.js';

// Unit tests may only touch the helper range 12000-12999 (bus 22000-22999).
const range = { min: 12000, max: 12999 };
const dirs: string[] = [];
const lockDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'rctl-ports-test-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('reservePorts', () => {
  it('gives distinct pairs P / P+10000 inside the range, holds them by lock files, releases them', async () => {
    const dir = lockDir();
    const rs = await reservePorts(6, { range, lockDir: dir });
    const ports = rs.map((r) => r.port);
    expect(new Set(ports).size).toBe(6);
    for (const r of rs) {
      expect(r.port).toBeGreaterThanOrEqual(12000);
      expect(r.port).toBeLessThanOrEqual(12999);
      expect(r.busPort).toBe(r.port + 10000);
    }
    expect(readdirSync(dir)).toHaveLength(12);
    for (const r of rs) r.release();
    expect(readdirSync(dir)).toHaveLength(0);
  });

  it('never hands out a port another reservation holds', async () => {
    const dir = lockDir();
    const narrow = { min: 12100, max: 12103 };
    const a = await reservePorts(2, { range: narrow, lockDir: dir });
    const b = await reservePorts(2, { range: narrow, lockDir: dir });
    expect(new Set([...a, ...b].map((r) => r.port)).size).toBe(4);
    await expect(reservePorts(1, { range: narrow, lockDir: dir })).rejects.toMatchObject({ code: 'PORT_IN_USE' });
    for (const r of [...a, ...b]) r.release();
  });

  it('skips a port something listens on', async () => {
    const srv: Server = createServer();
    await new Promise<void>((r) => srv.listen({ host: '127.0.0.1', port: 12200 }, () => r()));
    try {
      const rs = await reservePorts(2, { range: { min: 12200, max: 12201 }, lockDir: lockDir() }).catch((e: unknown) => e);
      expect(rs).toMatchObject({ code: 'PORT_IN_USE' });
      const one = await reservePorts(1, { range: { min: 12200, max: 12201 }, lockDir: lockDir() });
      expect(one[0]!.port).toBe(12201);
      one[0]!.release();
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });

  it('takes over the lock of a dead process', async () => {
    const dir = lockDir();
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.once('exit', r));
    writeFileSync(join(dir, '12300.lock'), String(dead.pid));
    writeFileSync(join(dir, '22300.lock'), String(dead.pid));
    const rs = await reservePorts(1, { range: { min: 12300, max: 12300 }, lockDir: dir });
    expect(rs[0]!.port).toBe(12300);
    rs[0]!.release();
  });

  it('refuses ranges whose bus ports reach the ephemeral range, and reads RCTL_TC_PORT_RANGE', async () => {
    await expect(reservePorts(1, { range: { min: 22000, max: 23000 }, lockDir: lockDir() })).rejects.toMatchObject({ code: 'USAGE' });
    expect(portRangeFromEnv({ RCTL_TC_PORT_RANGE: '12000-12099' })).toEqual({ min: 12000, max: 12099 });
    expect(() => portRangeFromEnv({ RCTL_TC_PORT_RANGE: 'x' })).toThrow(/lo-hi/);
    expect(portRangeFromEnv({})).toEqual({ min: 13000, max: 15999 });
  });

  it('parallel processes reserving at once never get the same port, and exit releases their locks', async () => {
    const dir = lockDir();
    const mod = new URL('../../dist/testcontainers/ports.js', import.meta.url).href;
    // Each child holds its ports until its stdin closes, so all four hold theirs at the same time.
    const script = `const { reservePorts } = await import(${JSON.stringify(mod)});
      const rs = await reservePorts(10, { range: { min: 12400, max: 12439 }, lockDir: ${JSON.stringify(dir)} });
      process.stdout.write(JSON.stringify(rs.map((r) => r.port)) + '\\n');
      process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
    const children = Array.from({ length: 4 }, () => spawn(process.execPath, ['--input-type=module', '-e', script]));
    const outputs = children.map(
      (c) =>
        new Promise<number[]>((resolve, reject) => {
          let out = '';
          c.stdout.on('data', (d: Buffer) => {
            out += d;
            if (out.includes('\n')) resolve(JSON.parse(out) as number[]);
          });
          c.stderr.on('data', (d: Buffer) => (out += d));
          c.on('exit', () => reject(new Error(out)));
        }),
    );
    const all = (await Promise.all(outputs)).flat();
    expect(all).toHaveLength(40);
    expect(new Set(all).size).toBe(40);
    await Promise.all(children.map((c) => new Promise((r) => (c.once('exit', r), c.stdin.end()))));
    // Every process exited: its 'exit' hook removed its lock files.
    expect(readdirSync(dir)).toHaveLength(0);
  });
});
