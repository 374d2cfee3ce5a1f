// Shared benchmark helpers: fresh redis-server processes, timing, medians. Loopback only.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** Start `count` fresh cluster-enabled redis-server processes with Redis defaults (as a user's nodes would be). */
export async function startNodes(basePort, count, extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'rctl-bench-'));
  const procs = [];
  for (let i = 0; i < count; i++) {
    const port = basePort + i;
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
      '--appendonly', 'yes', '--appendfilename', `a-${port}.aof`, '--appenddirname', `aof-${port}`, '--dbfilename', `d-${port}.rdb`, '--dir', dir, '--save', '', ...extraArgs];
    procs.push(spawn('redis-server', args, { stdio: 'ignore' }));
  }
  const addrs = procs.map((_, i) => ({ host: '127.0.0.1', port: basePort + i }));
  await Promise.all(addrs.map((a) => waitPing(a)));
  return {
    addrs,
    list: addrs.map((a) => `${a.host}:${a.port}`),
    async stop() {
      for (const p of procs) p.kill('SIGKILL');
      await Promise.all(procs.map((p) => (p.exitCode !== null || p.signalCode !== null ? undefined : new Promise((r) => p.once("exit", r)))));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitPing(addr, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = new Redis({ ...addr, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    r.on('error', () => {});
    try {
      await r.connect();
      await r.ping();
      r.disconnect();
      return;
    } catch {
      r.disconnect();
      if (Date.now() > deadline) throw new Error(`${addr.host}:${addr.port} never answered PING`);
      await new Promise((res) => setTimeout(res, 10));
    }
  }
}

/** Run a command; resolve with exit code, output, and the time (ms since start) each stdout line appeared. */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    const lines = [];
    child.stdout.on('data', (d) => {
      const at = performance.now() - t0;
      stdout += d;
      for (const l of String(d).split('\n')) if (l.trim()) lines.push({ at, line: l });
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, lines, ms: performance.now() - t0, t0 }));
  });
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);

export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

/** Fail loudly with the command's output when a step of a benchmark does not succeed. */
export async function must(p, what) {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stdout.slice(-1500)}${r.stderr.slice(-1500)}`);
  return r;
}

/** Run the rctl CLI of this checkout. */
export const rctl = (...args) => run(process.execPath, [new URL('../../bin/rctl', import.meta.url).pathname, ...args]);
